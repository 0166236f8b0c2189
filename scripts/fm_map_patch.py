"""FlexMeasures' maps on OpenStreetMap: apply config/map-init-patch.js to an installed FlexMeasures 1.0.1 UI.

FlexMeasures 1.0.1 draws its maps (dashboard, asset pages) with Leaflet; ``ui/static/js/map-init.js`` defines
``addTileLayer(leafletMap, mapboxAccessToken)``, which asks api.mapbox.com for tiles with the
MAPBOX_ACCESS_TOKEN setting, and each page calls it right after loading map-init.js. The least invasive
change: copy our script into FlexMeasures' static folder and load it just after map-init.js in each of those
templates (one added line each), so it replaces ``addTileLayer`` before the page calls it. The tile URL is
read at request time from FlexMeasures' config (``CARIFLEX_MAP_TILE_URL``), so instances sharing one venv may
use different tile servers.

Idempotent (our lines are found by their marker and rewritten; files are replaced atomically, so two starts
at once are harmless) and strict: when FlexMeasures' files no longer have the shape described above (another
version), nothing is changed and the error says what was expected where.

Run by ``scripts/flexmeasures.sh install`` and ``start`` with the FlexMeasures venv's Python (stdlib only);
``--flexmeasures DIR`` patches another copy (the tests do).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
PATCH_SOURCE = REPO / "config" / "map-init-patch.js"
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#: where the patch goes, inside FlexMeasures' ui/static
PATCH_TARGET = "js/cariflex-map-init-patch.js"
MAP_INIT = "js/map-init.js"
#: marks the lines we add (a Jinja comment: not rendered)
MARKER = "{# cariflex: config/map-init-patch.js #}"
ADD_TILE_LAYER = re.compile(r"^function addTileLayer\(leafletMap, mapboxAccessToken\) \{$", re.MULTILINE)
INCLUDE = re.compile(
    r"^(?P<indent>[ \t]*)<script src=\"\{\{ url_for\('flexmeasures_ui\.static', filename='js/map-init\.js'\) \}\}"
    r"[^\"]*\"></script>[ \t]*$"
)


class PatchError(RuntimeError):
    """FlexMeasures' files are not what the patch expects; the message names the file and the shape."""


@dataclass(frozen=True)
class Applied:
    """What an application did."""

    templates: tuple[str, ...]
    changed: tuple[str, ...]


def check_tile_url(url: str, field: str = "--tile-url") -> str:
    """`url` if it is an http(s) tile template with {z}, {x} and {y}; else PatchError naming `field`."""
    parts = urlsplit(url)
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in url]
    if parts.scheme not in ("http", "https") or not parts.netloc or missing:
        raise PatchError(
            f"{field} must be an http(s) tile URL template with {{z}}, {{x}} and {{y}}, e.g. {DEFAULT_TILE_URL}; "
            f"got {url!r}" + (f" (no {', '.join(missing)})" if missing else "")
        )
    return url


def patch_line(indent: str, digest: str) -> str:
    """The template line that loads our script after map-init.js, with the configured tile URL."""
    return (
        f"{indent}<script src=\"{{{{ url_for('flexmeasures_ui.static', filename='{PATCH_TARGET}') }}}}?v={digest}\" "
        f"data-tile-url=\"{{{{ config.get('CARIFLEX_MAP_TILE_URL') or '' }}}}\"></script>{MARKER}"
    )


def patched_template(text: str, name: str, digest: str) -> str | None:
    """`text` with our line after each map-init.js include (earlier ones replaced); None when it has none.

    Raises PatchError when map-init.js is loaded in an unexpected way or the page never calls addTileLayer."""
    lines = [line for line in text.split("\n") if MARKER not in line]
    out: list[str] = []
    includes = 0
    for line in lines:
        out.append(line)
        if MAP_INIT not in line:
            continue
        found = INCLUDE.match(line)
        if found is None:
            raise PatchError(f"{name}: map-init.js is loaded in a way the map patch does not know: {line.strip()!r}")
        includes += 1
        out.append(patch_line(found.group("indent"), digest))
    if includes == 0:
        return None
    if "addTileLayer(" not in text:
        raise PatchError(f"{name} loads map-init.js but never calls addTileLayer(): the page draws its map another way now")
    return "\n".join(out)


def plan(fm_dir: Path, patch_js: str) -> dict[Path, str]:
    """Every file to write (path → wanted text), after checking FlexMeasures' files have the expected shape."""
    ui = fm_dir / "ui"
    map_init = ui / "static" / MAP_INIT
    try:
        map_init_text = map_init.read_text(encoding="utf-8")
    except OSError as exc:
        raise PatchError(f"{map_init} cannot be read ({exc.strerror}): is {fm_dir} FlexMeasures 1.0.1?") from exc
    if len(ADD_TILE_LAYER.findall(map_init_text)) != 1:
        raise PatchError(
            f"{map_init} no longer defines `function addTileLayer(leafletMap, mapboxAccessToken) {{` once "
            "(another FlexMeasures version?): config/map-init-patch.js replaces that function"
        )
    digest = hashlib.sha256(patch_js.encode()).hexdigest()[:12]
    wanted: dict[Path, str] = {ui / "static" / PATCH_TARGET: patch_js}
    for template in sorted((ui / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        if "api.mapbox.com" in text:
            raise PatchError(f"{template} asks api.mapbox.com itself: the map patch only replaces map-init.js's addTileLayer()")
        new = patched_template(text, str(template), digest)
        if new is not None:
            wanted[template] = new
    if len(wanted) == 1:
        raise PatchError(f"no template under {ui / 'templates'} loads map-init.js: FlexMeasures draws its maps another way now")
    for script in sorted((ui / "static" / "js").rglob("*.js")):
        if script not in (map_init, ui / "static" / PATCH_TARGET) and "api.mapbox.com" in script.read_text(errors="replace"):
            raise PatchError(f"{script} asks api.mapbox.com itself: the map patch only replaces map-init.js's addTileLayer()")
    return wanted


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename (a page served meanwhile sees the old or the new file)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply(fm_dir: Path, patch_source: Path = PATCH_SOURCE) -> Applied:
    """Apply the patch to the FlexMeasures package at `fm_dir`; write only what differs."""
    wanted = plan(fm_dir, patch_source.read_text(encoding="utf-8"))
    changed = []
    for path, text in wanted.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomically(path, text)
            changed.append(str(path.relative_to(fm_dir)))
    templates = tuple(str(p.relative_to(fm_dir)) for p in wanted if p.suffix == ".html")
    return Applied(templates=templates, changed=tuple(changed))


def installed_flexmeasures() -> Path:
    """The folder of the `flexmeasures` package this Python would import (without importing it: ~8 s)."""
    spec = importlib.util.find_spec("flexmeasures")
    if spec is None or not spec.submodule_search_locations:
        raise PatchError(f"{sys.executable} has no flexmeasures package: run scripts/flexmeasures.sh install")
    return Path(next(iter(spec.submodule_search_locations)))


def main(argv: list[str] | None = None) -> int:
    """Command line: apply the patch (default: to the FlexMeasures this Python imports)."""
    parser = argparse.ArgumentParser(prog="scripts/fm_map_patch.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--flexmeasures", type=Path, default=None, help="the flexmeasures package folder to patch")
    args = parser.parse_args(argv)
    try:
        fm_dir = args.flexmeasures or installed_flexmeasures()
        applied = apply(fm_dir)
    except PatchError as exc:
        print(f"error: [flexmeasures] map patch (config/map-init-patch.js) not applied: {exc}", file=sys.stderr, flush=True)
        return 1
    state = f"applied ({len(applied.changed)} file(s) written)" if applied.changed else "already applied"
    print(f"==> [flexmeasures] maps on OpenStreetMap: {state} to {len(applied.templates)} pages of {fm_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
