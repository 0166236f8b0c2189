"""The meter-data page: import a meter operator's load curve (operators), see the imports made (everyone).

GET  /ui/meter   the recent imports, and (operators) the upload form
POST /ui/meter   multipart: `file` (the CSV of `mapping.curtailment.meter_file`), `csrf`; a file that cannot be
                 read is answered 400 naming its line and column, nothing of it stored
"""

from aiohttp import web

from mapping.curtailment.meter_file import MeterFileRefused, parse_load_curves
from vtn.admin import meter as meter_admin
from vtn.store import meter_repository as meters
from vtn.ui.actions import done
from vtn.ui.auth import require_operator
from vtn.ui.state import render, state

#: the largest load-curve file the page takes (the VTN's max_body_bytes bounds the whole request first)
MAX_FILE_BYTES = 32 * 1024 * 1024


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the page and its upload."""
    router.add_get("/meter", meter_page)
    router.add_post("/meter", upload)


async def meter_page(request: web.Request) -> web.Response:
    """The recent imports and the upload form."""
    imports = await state(request).store.call(meters.recent_imports)
    return render(request, "meter.html", imports=imports)


async def upload(request: web.Request) -> web.StreamResponse:
    """Import the uploaded load curve; the whole file or nothing."""
    operator = require_operator(request)
    ui = state(request)
    form = await request.post()
    field = form.get("file")
    if not isinstance(field, web.FileField):
        raise web.HTTPBadRequest(text="file: choose a load-curve CSV file to upload")
    body = field.file.read(MAX_FILE_BYTES + 1)
    if len(body) > MAX_FILE_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FILE_BYTES, actual_size=len(body), text="file: larger than 32 MB")
    try:
        curves = parse_load_curves(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text="file: not UTF-8 text (save the CSV as UTF-8)") from None
    except MeterFileRefused as exc:
        raise web.HTTPBadRequest(text=f"file {field.filename}: {exc}") from None
    summary = await ui.store.call(
        meter_admin.import_and_audit, curves, f"upload {field.filename}"[:256], operator.username, ui.now()
    )
    notice = (
        f"{field.filename}: {summary.added} steps added, {summary.corrected} corrected, {summary.unchanged} unchanged "
        f"for {summary.delivery_points} delivery points"
    )
    raise done("/ui/meter", notice)
