"""The demo's data folder (demo/run.py:_empty): a previous demo's is emptied, anything else is refused with a
message naming the folder, never deleted."""

from pathlib import Path

import pytest

from demo.processes import DemoError
from demo.run import MARKER, _empty


def test_a_previous_demos_folder_is_emptied_and_marked_again(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    _empty(data)
    (data / "vtn.db").write_text("previous run")
    (data / "flexmeasures").mkdir()
    (data / "flexmeasures" / "server.log").write_text("previous run")
    _empty(data)
    assert sorted(p.name for p in data.iterdir()) == [MARKER]


def test_a_missing_or_empty_folder_is_created_and_marked(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for data in (tmp_path / "new" / "demo", tmp_path / "empty"):
        _empty(data)
        assert sorted(p.name for p in data.iterdir()) == [MARKER]


def test_a_folder_the_demo_did_not_make_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DemoError, match=rf"{tmp_path} is not empty and not a demo's data folder \(no {MARKER}\)"):
        _empty(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_file_as_data_dir_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    data.write_text("a file")
    with pytest.raises(DemoError, match=rf"{data} is a file, not a folder; choose another --data-dir"):
        _empty(data)
    assert data.read_text() == "a file"
