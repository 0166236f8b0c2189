"""OpenADR 3.1's MQTT notifier binding: the binding object of GET /notifiers, the topic names of the
GET /notifiers/mqtt/topics/... paths, and the topics a change is published on.

Topic names follow the 3.1 Definition's example (section "Notifications via Additional Protocols",
copied with its provenance in docs/openadr3-mqtt.md): ``programs/create``, ``programs/update``,
``programs/delete`` and ``programs/+`` for all of them; an object of its own has no CREATE topic (the
spec: a client cannot ask for the creation of an id that does not exist yet). Each name is prefixed
with the VTN's configured `topic_prefix` (one broker, several VTNs or tests side by side).

The VTN publishes the changes it makes through the 3.x API: programs and events. VENs, resources and
reports come from 2.0b registrations and reports (no 3.x create/update/delete), and subscriptions carry
their clients' callback bearer tokens (never broadcast), so their topic paths are not offered.
"""

from dataclasses import dataclass
from typing import Any

#: the operations a notification names (3.1 CRUD terms) → the last level of their topic
OPERATION_LEVEL = {"CREATE": "create", "UPDATE": "update", "DELETE": "delete"}


@dataclass(frozen=True)
class MqttBinding:
    """What GET /notifiers advertises: the broker URIs clients connect to and the authentication it needs."""

    uris: tuple[str, ...]
    #: ANONYMOUS, or OAUTH2_BEARER_TOKEN with `username`
    authentication: str = "ANONYMOUS"
    username: str | None = None


def binding_object(binding: MqttBinding) -> dict[str, Any]:
    """The spec's mqttNotifierBindingObject."""
    auth: dict[str, Any] = {"method": binding.authentication}
    if binding.authentication == "OAUTH2_BEARER_TOKEN":
        auth["username"] = binding.username or "{clientID}"
    return {"URIS": list(binding.uris), "serialization": "JSON", "authentication": auth}


def _topics(prefix: str, base: str, create: bool) -> dict[str, str]:
    names = {op: f"{prefix}{base}/{level}" for op, level in OPERATION_LEVEL.items() if create or op != "CREATE"}
    names["ALL"] = f"{prefix}{base}/+"
    return names


def topic_names(prefix: str, path: str, ids: dict[str, str]) -> dict[str, str] | None:
    """The notifierOperationsTopics of one GET /notifiers/mqtt/topics/`path` (its template, e.g.
    ``programs/{programID}``, filled from `ids`); None for a path whose objects are not published."""
    if path == "programs":
        return _topics(prefix, "programs", create=True)
    if path == "programs/{programID}":
        return _topics(prefix, f"programs/{ids['programID']}", create=False)
    if path == "events":
        return _topics(prefix, "events", create=True)
    if path == "programs/{programID}/events":
        return _topics(prefix, f"programs/{ids['programID']}/events", create=True)
    return None


def change_topics(prefix: str, object_type: str, operation: str, object_id: str, program_id: str | None) -> list[str]:
    """Every topic a change is published on (empty for an object type or operation that is not published)."""
    level = OPERATION_LEVEL.get(operation)
    if level is None:
        return []
    if object_type == "PROGRAM":
        topics = [f"{prefix}programs/{level}"]
        if operation != "CREATE":
            topics.append(f"{prefix}programs/{object_id}/{level}")
        return topics
    if object_type == "EVENT":
        topics = [f"{prefix}events/{level}"]
        if program_id is not None:
            topics.append(f"{prefix}programs/{program_id}/events/{level}")
        return topics
    return []
