"""The repository carries every file its tests read: the reference data is complete, a missing file
fails loudly, and no file of the project names a path outside its own tree."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import reference_data
from tests.support.reference_data import MissingReferenceData

ROOT = Path(__file__).resolve().parents[1]


def test_the_alliance_sample_set_is_complete():
    names = [path.name for path in reference_data.alliance_samples()]
    assert len(names) == 40
    assert "Sample_oadrDistributeEvent_W_Baseline.xml" in names and "Sample_oadrPoll.xml" in names
    assert all(path.is_relative_to(ROOT) for path in reference_data.alliance_samples())


def test_both_openadr3_contracts_are_there():
    for version in ("3.0.1", "3.1.0"):
        path = reference_data.openadr3_spec(version)
        assert path.is_relative_to(ROOT) and path.read_text().startswith("openapi:")


def test_a_missing_sample_fails_loudly_instead_of_shrinking_the_set(tmp_path):
    copy = tmp_path / "oadr-samples"
    shutil.copytree(reference_data.OADR_SAMPLES, copy)
    (copy / "alliance" / "Sample_oadrPoll.xml").unlink()
    with pytest.raises(MissingReferenceData, match="Sample_oadrPoll.xml is missing"):
        reference_data.verified(copy)


def test_an_altered_sample_fails_loudly(tmp_path):
    copy = tmp_path / "oadr-samples"
    shutil.copytree(reference_data.OADR_SAMPLES, copy)
    (copy / "alliance" / "Sample_oadrPoll.xml").write_text("<changed/>")
    with pytest.raises(MissingReferenceData, match="differs from its recorded checksum"):
        reference_data.verified(copy)


@pytest.mark.external  # git
def test_no_tracked_file_names_a_path_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = ('"shared"', "shared/oadr-samples", "shared/openadr3-spec", "/work/", "parents[3]")
    offenders = []
    for name in tracked:
        path = ROOT / name
        if path.suffix not in {".py", ".sh", ".toml", ".md", ".cfg", ".ini", ".json"} and path.name != "Makefile":
            continue
        if name == "tests/test_reference_data.py":
            continue
        text = path.read_text(errors="replace")
        offenders += [f"{name}: {needle}" for needle in outside if needle in text]
    assert offenders == []
