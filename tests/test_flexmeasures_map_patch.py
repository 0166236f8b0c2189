"""scripts/fm_map_patch.py: config/map-init-patch.js applied to FlexMeasures' UI files.

The first tests run on a small tree shaped like FlexMeasures 1.0.1's ui/ (map-init.js defining addTileLayer, a
page loading it and calling it): in the fast lane. The last one patches a copy of the real FlexMeasures 1.0.1
UI installed for the suite (the `flexmeasures` fixture's venv). The browser test of the patched maps is
tests/test_flexmeasures_map_browser.py.
"""

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def _load_patcher() -> ModuleType:
    """scripts/fm_map_patch.py as a module (scripts/ is no package: it runs with the FlexMeasures venv's Python)."""
    spec = importlib.util.spec_from_file_location("fm_map_patch", REPO / "scripts" / "fm_map_patch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fm_map_patch", module)
    spec.loader.exec_module(module)
    return module


patcher = _load_patcher()

INCLUDE = "<script src=\"{{ url_for('flexmeasures_ui.static', filename='js/map-init.js') }}\"></script>"
CALL = "    addTileLayer(assetMap, '{{ mapboxAccessToken }}');"
MAP_INIT = "function addTileLayer(leafletMap, mapboxAccessToken) {\n    return 'mapbox';\n}\n"


def _fm_tree(root: Path, pages: dict[str, str], map_init: str = MAP_INIT) -> Path:
    """A flexmeasures/ folder with ui/static/js/map-init.js and the given templates (path → text)."""
    (root / "ui" / "static" / "js").mkdir(parents=True)
    (root / "ui" / "static" / "js" / "map-init.js").write_text(map_init)
    for name, text in pages.items():
        (root / "ui" / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "ui" / "templates" / name).write_text(text)
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_patch_loads_after_map_init_in_each_map_page_and_nowhere_else(tmp_path):
    page = f"<body>\n  {INCLUDE}\n<script>\n{CALL}\n</script>\n</body>\n"
    versioned = INCLUDE.replace('}}"', '}}?v={{ flexmeasures_version }}"')
    dashboard = f"{versioned}\n<script>{CALL}</script>\n"
    pages = {"assets/asset_context.html": page, "dashboard.html": dashboard, "other.html": "x\n"}
    fm = _fm_tree(tmp_path / "flexmeasures", pages)

    applied = patcher.apply(fm)

    assert sorted(applied.templates) == ["ui/templates/assets/asset_context.html", "ui/templates/dashboard.html"]
    lines = (fm / "ui" / "templates" / "assets" / "asset_context.html").read_text().split("\n")
    loaded = lines[lines.index(f"  {INCLUDE}") + 1]
    patch_js = "{{ url_for('flexmeasures_ui.static', filename='js/cariflex-map-init-patch.js') }}"
    assert loaded.startswith(f'  <script src="{patch_js}?v=')
    assert "data-tile-url=\"{{ config.get('CARIFLEX_MAP_TILE_URL') or '' }}\"" in loaded
    assert lines[lines.index(f"  {INCLUDE}") + 2 :] == ["<script>", CALL, "</script>", "</body>", ""]
    dashboard_lines = (fm / "ui" / "templates" / "dashboard.html").read_text().split("\n")
    assert dashboard_lines[0] == versioned and "cariflex-map-init-patch.js" in dashboard_lines[1]
    assert (fm / "ui" / "templates" / "other.html").read_text() == "x\n"
    served = fm / "ui" / "static" / "js" / "cariflex-map-init-patch.js"
    assert served.read_text() == (REPO / "config" / "map-init-patch.js").read_text()
    assert (fm / "ui" / "static" / "js" / "map-init.js").read_text() == MAP_INIT  # FlexMeasures' own file is kept


def test_applying_again_changes_nothing_and_a_new_patch_replaces_the_old_line(tmp_path):
    fm = _fm_tree(tmp_path / "flexmeasures", {"a.html": f"{INCLUDE}\n<script>{CALL}</script>\n"})
    patcher.apply(fm)
    before = _snapshot(fm)

    assert patcher.apply(fm).changed == ()
    assert _snapshot(fm) == before

    newer = tmp_path / "map-init-patch.js"
    newer.write_text("// a newer patch\n")
    assert sorted(patcher.apply(fm, newer).changed) == ["ui/static/js/cariflex-map-init-patch.js", "ui/templates/a.html"]
    text = (fm / "ui" / "templates" / "a.html").read_text()
    assert text.count("cariflex-map-init-patch.js") == 1  # replaced, not added twice (the ?v= digest changed)
    assert text.encode() != before["ui/templates/a.html"]


@pytest.mark.parametrize(
    ("map_init", "pages", "refusal"),
    [
        pytest.param(
            "function addTileLayer(map, options) {\n}\n",
            {"a.html": f"{INCLUDE}\n{CALL}\n"},
            "no longer defines `function addTileLayer(leafletMap, mapboxAccessToken) {` once",
            id="addTileLayer-changed",
        ),
        pytest.param(
            MAP_INIT,
            {"a.html": '<script defer src="/static/js/map-init.js"></script>\n' + CALL},
            "map-init.js is loaded in a way the map patch does not know",
            id="include-changed",
        ),
        pytest.param(
            MAP_INIT,
            {"a.html": f"{INCLUDE}\n<script>L.tileLayer(url).addTo(map)</script>\n"},
            "loads map-init.js but never calls addTileLayer()",
            id="no-addTileLayer-call",
        ),
        pytest.param(
            MAP_INIT,
            {"a.html": f"{INCLUDE}\n{CALL}\n", "b.html": "L.tileLayer('https://api.mapbox.com/styles/v1/{id}/tiles')"},
            "asks api.mapbox.com itself",
            id="mapbox-elsewhere",
        ),
        pytest.param(MAP_INIT, {"a.html": "no map here\n"}, "no template under", id="no-map-page"),
    ],
)
def test_an_unexpected_shape_is_refused_naming_the_file_and_nothing_is_written(tmp_path, map_init, pages, refusal):
    fm = _fm_tree(tmp_path / "flexmeasures", pages, map_init)
    before = _snapshot(fm)

    with pytest.raises(patcher.PatchError) as refused:
        patcher.apply(fm)

    assert refusal in str(refused.value)
    assert str(fm / "ui") in str(refused.value)
    assert _snapshot(fm) == before


def test_the_command_says_what_it_did_and_fails_with_a_clear_message(tmp_path, capsys):
    fm = _fm_tree(tmp_path / "flexmeasures", {"a.html": f"{INCLUDE}\n{CALL}\n"})
    assert patcher.main(["--flexmeasures", str(fm)]) == 0
    assert "maps on OpenStreetMap: applied (2 file(s) written) to 1 pages" in capsys.readouterr().out
    assert patcher.main(["--flexmeasures", str(fm)]) == 0
    assert "already applied" in capsys.readouterr().out

    (fm / "ui" / "static" / "js" / "map-init.js").write_text("// another FlexMeasures\n")
    assert patcher.main(["--flexmeasures", str(fm)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: [flexmeasures] map patch (config/map-init-patch.js) not applied: ")
    assert "map-init.js no longer defines" in error


@pytest.mark.parametrize(
    "url",
    ["tile.openstreetmap.org/{z}/{x}/{y}.png", "ftp://tiles.example/{z}/{x}/{y}.png", "https://tiles.example/{z}/{x}.png", ""],
)
def test_a_tile_url_that_is_no_http_template_is_refused_naming_the_field(url):
    with pytest.raises(patcher.PatchError) as refused:
        patcher.check_tile_url(url, "--tile-url")
    assert str(refused.value).startswith("--tile-url must be an http(s) tile URL template with {z}, {x} and {y}")


def test_the_flexmeasures_config_reads_the_tile_url_from_the_environment(monkeypatch):
    config = (REPO / "config" / "flexmeasures-config.cfg").read_text()
    for env, wanted in ((None, patcher.DEFAULT_TILE_URL), ("http://10.0.0.5:8080/osm/{z}/{x}/{y}.png", None)):
        if env is None:
            monkeypatch.delenv("CARIFLEX_FM_TILE_URL", raising=False)
        else:
            monkeypatch.setenv("CARIFLEX_FM_TILE_URL", env)
        settings: dict = {}
        exec(compile(config, "flexmeasures-config.cfg", "exec"), settings)  # as Flask's config.from_pyfile does
        assert settings["CARIFLEX_MAP_TILE_URL"] == (wanted or env)


def test_a_copy_of_the_installed_flexmeasures_ui_is_patched_as_the_install_did(flexmeasures, tmp_path):
    """The suite's FlexMeasures venv was patched by `scripts/flexmeasures.sh install`; its UI without our lines (the
    files as FlexMeasures 1.0.1 ships them) patched again gives the same files, and refuses once map-init.js changes."""
    venv = Path(json.loads((flexmeasures.run_dir / "state.json").read_text())["venv"])
    installed = next(venv.glob("lib/python3*/site-packages/flexmeasures"))
    copy = tmp_path / "flexmeasures"
    shutil.copytree(installed / "ui", copy / "ui", ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    patched = _snapshot(copy)
    (copy / "ui" / "static" / patcher.PATCH_TARGET).unlink()
    for page in (copy / "ui" / "templates").rglob("*.html"):
        page.write_text("\n".join(line for line in page.read_text().split("\n") if patcher.MARKER not in line))
    assert not [name for name, data in _snapshot(copy).items() if b"cariflex" in data]

    applied = patcher.apply(copy)

    assert len(applied.templates) == 4  # FlexMeasures 1.0.1: the dashboard, the asset page, its properties, a new asset
    assert _snapshot(copy) == patched
    map_init = copy / "ui" / "static" / "js" / "map-init.js"
    map_init.write_text(map_init.read_text().replace("function addTileLayer(", "function addBaseLayer("))
    with pytest.raises(patcher.PatchError, match="no longer defines"):
        patcher.apply(copy)
