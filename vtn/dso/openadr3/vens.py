"""/vens and resources, read only: the 2.0b VENs registered with the VTN, their groups and resources.

VENs register over OpenADR 2.0b, so creating, changing or deleting them here is refused (403).
VENs or resources whose ids are not objectIDs (possible with VEN-chosen 2.0b venIDs) are not listed.
"""

from typing import Any

from aiohttp import web

from mapping.openadr3 import wire
from vtn.auth.http import AuthFailed
from vtn.auth.tokens import Grant
from vtn.dso.openadr3.common import Api, NotFound, ok, page, path_id
from vtn.dso.openadr3.filters import matches_targets, target_values
from vtn.store import dso_repository as dso_repo
from vtn.store.dso_repository import VenView


def _targets(view: VenView, version: str) -> list[Any]:
    if version == "3.0.1":
        return [{"type": "GROUP", "values": list(view.groups)}] if view.groups else []
    return list(view.groups)


def _meta(object_id: str, view: VenView, object_type: str) -> dict[str, Any]:
    return {
        "id": object_id,
        "createdDateTime": wire.out_time(view.created_at),
        "modificationDateTime": wire.out_time(view.modified_at),
        "objectType": object_type,
    }


def _resources(view: VenView, version: str) -> list[dict[str, Any]]:
    out = []
    for resource_id in view.resources:
        if wire.OBJECT_ID.match(resource_id):
            resource = {**_meta(resource_id, view, "RESOURCE"), "resourceName": resource_id, "venID": view.ven_id}
            if version != "3.0.1":
                resource["clientID"] = view.ven_id[:128]
            out.append(resource)
    return out


def render_ven(view: VenView, version: str) -> dict[str, Any]:
    """A VEN object (3.0.1 embeds its resources; 3.1 lists them under /resources)."""
    ven: dict[str, Any] = {**_meta(view.ven_id, view, "VEN"), "venName": view.ven_name[:128]}
    targets = _targets(view, version)
    if targets:
        ven["targets"] = targets
    if version == "3.0.1":
        resources = _resources(view, version)
        if resources:
            ven["resources"] = resources
    else:
        ven["clientID"] = view.ven_id[:128]
    return ven


async def _views(api: Api) -> list[VenView]:
    return [v for v in await api.ctx.store.call(dso_repo.ven_views) if wire.OBJECT_ID.match(v.ven_id)]


def _filtered(request: web.Request, api: Api, views: list[VenView]) -> list[VenView]:
    if request.query.get("venName") is not None:
        views = [v for v in views if v.ven_name == request.query["venName"]]
    target_type, values = target_values(request, api.version)
    if values or target_type:
        views = [v for v in views if matches_targets(_targets(v, api.version), target_type, values, api.version)]
    return views


async def _ven(api: Api, request: web.Request) -> VenView:
    ven_id = path_id(request, "venID")
    for view in await _views(api):
        if view.ven_id == ven_id:
            return view
    raise NotFound(f"venID: no VEN {ven_id}")


async def search_vens(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /vens (venName, targets, skip/limit)."""
    skip, limit = page(request)
    views = _filtered(request, api, await _views(api))
    return ok([render_ven(v, api.version) for v in views[skip : skip + limit]])


async def read_ven(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /vens/{venID}."""
    return ok(render_ven(await _ven(api, request), api.version))


async def search_resources(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /vens/{venID}/resources (3.0.1) or /resources (3.1; venID as a query parameter)."""
    skip, limit = page(request)
    if "venID" in request.match_info:
        views = [await _ven(api, request)]
    else:
        views = await _views(api)
        if request.query.get("venID") is not None:
            views = [v for v in views if v.ven_id == request.query["venID"]]
    resources = [r for v in views for r in _resources(v, api.version)]
    if request.query.get("resourceName") is not None:
        resources = [r for r in resources if r["resourceName"] == request.query["resourceName"]]
    return ok(resources[skip : skip + limit])


async def read_resource(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /vens/{venID}/resources/{resourceID} (3.0.1) or /resources/{resourceID} (3.1)."""
    resource_id = path_id(request, "resourceID")
    views = [await _ven(api, request)] if "venID" in request.match_info else await _views(api)
    for view in views:
        for resource in _resources(view, api.version):
            if resource["id"] == resource_id:
                return ok(resource)
    raise NotFound(f"resourceID: no resource {resource_id}")


async def refuse_write(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """VENs and resources are managed over OpenADR 2.0b registration and the VTN's configuration."""
    raise AuthFailed(403, "VENs and their resources are managed through OpenADR 2.0b registration and configuration")
