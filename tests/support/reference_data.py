"""The reference files the tests read (tests/data/): where they are, and a loud check that none is missing.

A missing or altered file must fail the run, never shrink it: every path handed out here has been
checked against its folder's SHA256SUMS first.
"""

import hashlib
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
OADR_SAMPLES = DATA / "oadr-samples"
OPENADR3_SPEC = DATA / "openadr3-spec"
SPOT_PRICES = DATA / "spot-prices"


class MissingReferenceData(RuntimeError):
    """A file of tests/data is missing or differs from its recorded checksum."""


def _manifest(folder: Path) -> dict[str, str]:
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        raise MissingReferenceData(f"{sums} is missing: the reference data of the tests is incomplete (see tests/data/README.md)")
    entries = {}
    for line in sums.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        entries[name.lstrip("*")] = digest
    return entries


@cache
def verified(folder: Path) -> tuple[Path, ...]:
    """Every file listed in `folder`/SHA256SUMS, after checking each exists with its recorded digest."""
    paths = []
    for name, digest in sorted(_manifest(folder).items()):
        path = folder / name
        if not path.is_file():
            raise MissingReferenceData(f"{path} is missing (listed in {folder / 'SHA256SUMS'}; see tests/data/README.md)")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != digest:
            raise MissingReferenceData(f"{path} differs from its recorded checksum (see tests/data/README.md)")
        paths.append(path)
    return tuple(paths)


def alliance_samples() -> list[Path]:
    """The 40 OpenADR 2.0b sample messages of the Alliance, sorted, each checked."""
    return [path for path in verified(OADR_SAMPLES) if path.suffix == ".xml"]


def alliance_sample(file_name: str) -> Path:
    """One Alliance sample by file name, checked."""
    for path in alliance_samples():
        if path.name == file_name:
            return path
    raise MissingReferenceData(f"no Alliance sample named {file_name} in {OADR_SAMPLES}")


def openadr3_spec(version: str) -> Path:
    """The official OpenAPI file of OpenADR 3 `version` (3.0.1 or 3.1.0), checked."""
    wanted = OPENADR3_SPEC / version / "openadr3.yaml"
    if wanted not in verified(OPENADR3_SPEC):
        raise MissingReferenceData(f"no OpenADR {version} OpenAPI file in {OPENADR3_SPEC}")
    return wanted


def openadr3_notifiers_excerpt() -> Path:
    """The 3.1 Definition's section on notifier bindings (GET /notifiers, MQTT topic names), checked."""
    wanted = OPENADR3_SPEC / "3.1.1" / "Definition-notifiers-excerpt.md"
    if wanted not in verified(OPENADR3_SPEC):
        raise MissingReferenceData(f"no 3.1 Definition excerpt in {OPENADR3_SPEC}")
    return wanted


def spot_price_file(file_name: str) -> Path:
    """One of the day-ahead price publications of tests/data/spot-prices (ENTSO-E A44 or EPEX CSV), checked."""
    wanted = SPOT_PRICES / file_name
    if wanted not in verified(SPOT_PRICES):
        raise MissingReferenceData(f"no price publication named {file_name} in {SPOT_PRICES}")
    return wanted
