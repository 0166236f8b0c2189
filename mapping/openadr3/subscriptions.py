"""3.x subscriptions (webhooks): read leniently, render strictly, and which of them want a notification.

Callback hosts must be allowed by configuration: a client must not make the VTN call arbitrary hosts.
3.0.1 names the notification's operation in HTTP terms (POST, PUT, DELETE), 3.1 in CRUD terms.
"""

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from mapping.openadr3 import wire
from mapping.openadr3.shapes import targets_out
from mapping.openadr3.targets import _check_targets
from mapping.refusal import Refused

OBJECT_TYPES = ("PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE")
OPERATIONS = ("READ", "CREATE", "UPDATE", "DELETE")
#: subscription operation → the notification's `operation` in 3.0.1
HTTP_OPERATION = {"READ": "GET", "CREATE": "POST", "UPDATE": "PUT", "DELETE": "DELETE"}


def _operation(value: Any, field: str) -> dict[str, Any]:
    item = wire.obj(value, field)
    objects = wire.array(item.get("objects"), f"{field}.objects")
    for i, o in enumerate(objects):
        if o not in OBJECT_TYPES:
            raise Refused(f"{field}.objects[{i}]", f"expected one of {', '.join(OBJECT_TYPES)}")
    operations = wire.array(item.get("operations"), f"{field}.operations")
    for i, o in enumerate(operations):
        if o not in OPERATIONS:
            raise Refused(f"{field}.operations[{i}]", f"expected one of {', '.join(OPERATIONS)}")
    if item.get("objects") is None or item.get("operations") is None:
        raise Refused(f"{field}.{'objects' if item.get('objects') is None else 'operations'}", "is required")
    url = wire.string(item.get("callbackUrl"), f"{field}.callbackUrl", required=True, max_length=8000)
    clean: dict[str, Any] = {"objects": list(objects), "operations": list(operations), "callbackUrl": url}
    if item.get("bearerToken") is not None:
        clean["bearerToken"] = wire.string(item["bearerToken"], f"{field}.bearerToken", max_length=4096)
    return clean


def check_callback_hosts(clean: dict[str, Any], allowed_hosts: frozenset[str]) -> None:
    """Refuse a callback URL that is not http(s) to an allowed host."""
    for i, operation in enumerate(clean["objectOperations"]):
        parts = urlsplit(operation["callbackUrl"])
        field = f"objectOperations[{i}].callbackUrl"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(field, "expected an http(s) URL")
        if parts.hostname not in allowed_hosts:
            raise Refused(field, f"host {parts.hostname!r} is not allowed ([dso] callback_hosts)")


def clean_subscription(body: Any, version: str) -> dict[str, Any]:
    """The subscription as stored (nulls and server-provisioned members dropped)."""
    item = wire.obj(body, "body")
    clean: dict[str, Any] = {"clientName": wire.string(item.get("clientName"), "clientName", required=True)}
    program_id = wire.object_id(item.get("programID"), "programID", required=version == "3.0.1")
    if program_id is not None:
        clean["programID"] = program_id
    if item.get("objectOperations") is None:
        raise Refused("objectOperations", "is required")
    operations = wire.array(item["objectOperations"], "objectOperations")
    clean["objectOperations"] = [_operation(o, f"objectOperations[{i}]") for i, o in enumerate(operations)]
    if item.get("targets") is not None:
        clean["targets"] = _check_targets(item["targets"], version)
    return clean


def render_subscription(
    clean: dict[str, Any], subscription_id: str, created: datetime, modified: datetime, version: str, client_id: str
) -> dict[str, Any]:
    """The subscription as `version`'s responses carry it."""
    body = {
        "id": subscription_id,
        "createdDateTime": wire.out_time(created),
        "modificationDateTime": wire.out_time(modified),
        "objectType": "SUBSCRIPTION",
        **clean,
    }
    if "targets" in body:
        body["targets"] = targets_out(body["targets"], version)
    if version != "3.0.1":
        body["clientID"] = client_id[:128]
    elif "programID" not in body:
        body["programID"] = "any"  # 3.0.1 requires one; a 3.1 subscription may have none
    return body


def callbacks(clean: dict[str, Any], object_type: str, operation: str, program_id: str | None) -> list[tuple[str, str | None]]:
    """(callbackUrl, bearerToken) of the subscription's operations that want this change."""
    if "programID" in clean and clean["programID"] != program_id:
        return []
    return [
        (o["callbackUrl"], o.get("bearerToken"))
        for o in clean["objectOperations"]
        if object_type in o["objects"] and operation in o["operations"]
    ]


def notification(object_type: str, operation: str, obj: dict[str, Any], version: str) -> dict[str, Any]:
    """The body POSTed to a callback URL."""
    name = HTTP_OPERATION[operation] if version == "3.0.1" else operation
    return {"objectType": object_type, "operation": name, "object": obj}
