"""/programs: OpenADR 3 programs over our 2.0b programs (market contexts).

Configured programs appear with their id as programName. A program created here gets a new id and
the market context `<[dso] market_context_base><programName>`; PUT replaces its OpenADR 3 description
(id and market context stay). Only the creating client changes or deletes a program (403 otherwise);
DELETE is refused (400: the spec documents no 409 there) while any event belongs to the program.
"""

import uuid
from typing import Any
from urllib.parse import quote

from aiohttp import web

from mapping.openadr3 import events as tr
from mapping.openadr3.programs import clean_program, render_program
from mapping.refusal import Refused
from vtn.auth.http import AuthFailed
from vtn.auth.tokens import Grant
from vtn.dso.openadr3.common import Api, Conflict, NotFound, json_body, ok, page, path_id
from vtn.dso.openadr3.filters import filter_by_targets
from vtn.store import dso_repository as dso_repo
from vtn.store.dso_repository import ProgramRow


def program_view(api: Api, program: ProgramRow) -> tr.ProgramView:
    """What the event translation needs of a program (its capacity signal from `[dso.capacity_signal]`)."""
    dso = api.ctx.config.dso
    descriptors = tuple(d for d in program.body.get("payloadDescriptors", []) if isinstance(d, dict))
    return tr.ProgramView(
        market_context=program.market_context,
        capacity_signal=dso.capacity_signal.get(program.program_id, "x-IMPORT_CAPACITY_LIMIT"),
        currency=dso.currency,
        payload_descriptors=descriptors,
    )


def _notify(api: Api, grant: Grant, operation: str, row: ProgramRow) -> None:
    def render(version: str) -> dict[str, Any]:
        return render_program(row.body, row.program_id, row.created_at, row.modified_at, version)

    api.notifier.notify(grant.client_id, "PROGRAM", operation, row.program_id, render, row.program_id)


def _render(api: Api, row: ProgramRow) -> dict[str, Any]:
    return render_program(row.body, row.program_id, row.created_at, row.modified_at, api.version)


async def _program(api: Api, request: web.Request) -> ProgramRow:
    program_id = path_id(request, "programID")
    row = await api.ctx.store.call(dso_repo.load_program, program_id)
    if row is None:
        raise NotFound(f"programID: no program {program_id}")
    return row


def _owned(row: ProgramRow, grant: Grant) -> None:
    if row.client_id != grant.client_id:
        who = "configuration" if row.client_id is None else "another client"
        raise AuthFailed(403, f"programID: program {row.program_id} belongs to {who}; it cannot be changed here")


async def search_programs(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /programs (skip/limit; targets filters as for events)."""
    skip, limit = page(request)
    rows = filter_by_targets(request, api.version, await api.ctx.store.call(dso_repo.list_programs))
    return ok([_render(api, r) for r in rows[skip : skip + limit]])


async def read_program(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /programs/{programID}."""
    return ok(_render(api, await _program(api, request)))


async def create_program(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """POST /programs → 201; 409 when the programName is taken."""
    clean = clean_program(await json_body(request), api.version)
    name = clean["programName"]
    if await api.ctx.store.call(dso_repo.program_name_taken, name):
        raise Conflict(f"programName: a program named {name!r} exists")
    program_id = f"prg-{uuid.uuid4().hex[:16]}"
    market_context = api.ctx.config.dso.market_context_base + quote(name, safe="")
    row = await api.ctx.store.call(dso_repo.insert_program, program_id, market_context, clean, grant.client_id, api.ctx.now())
    _notify(api, grant, "CREATE", row)
    return ok(_render(api, row), status=201)


async def update_program(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """PUT /programs/{programID}: replaces the program's description."""
    current = await _program(api, request)
    _owned(current, grant)
    clean = clean_program(await json_body(request), api.version)
    if await api.ctx.store.call(dso_repo.program_name_taken, clean["programName"], current.program_id):
        raise Conflict(f"programName: a program named {clean['programName']!r} exists")
    row = await api.ctx.store.call(dso_repo.update_program, current.program_id, clean, api.ctx.now())
    if row is None:
        raise NotFound(f"programID: no program {current.program_id}")
    _notify(api, grant, "UPDATE", row)
    return ok(_render(api, row))


async def delete_program(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """DELETE /programs/{programID}: answers with the deleted program; 409 while events belong to it."""
    current = await _program(api, request)
    _owned(current, grant)
    if await api.ctx.store.call(dso_repo.program_has_events, current.market_context):
        # 400, not 409: the spec documents no 409 for DELETE
        raise Refused("programID", f"events belong to program {current.program_id}; it cannot be deleted")
    await api.ctx.store.call(dso_repo.delete_program, current.program_id, api.ctx.now())
    _notify(api, grant, "DELETE", current)
    return ok(_render(api, current))
