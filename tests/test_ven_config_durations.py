"""ven.toml durations where zero means a busy loop or no timeout are refused, naming the key."""

import re
from pathlib import Path

import pytest

from mapping.settings import ConfigError
from tests.support.ven_toml import load_ven_toml
from ven.config import VenConfig

FLEXMEASURES = 'enabled = true\nurl = "http://127.0.0.1:5000"\nemail = "a@b.mq"\npassword = "x"\n'


def _load(tmp_path: Path, tables: dict[str, str]) -> VenConfig:
    tables = {"vtn": "", **tables}
    tables["vtn"] = 'vtn_id = "CARIFLEX-VTN"\n' + tables["vtn"]
    return load_ven_toml(tmp_path, "".join(f"[{name}]\n{body}" for name, body in tables.items()))


@pytest.mark.parametrize(
    ("table", "body", "key"),
    [
        ("vtn", 'request_timeout = "PT0S"\n', "vtn.request_timeout"),
        ("poll", 'default_interval = "PT0S"\n', "poll.default_interval"),
        ("poll", 'max_backoff = "PT0S"\n', "poll.max_backoff"),
        ("reports", 'duration = "PT0S"\n', "reports.duration"),
        ("mqtt", 'enabled = true\nmin_backoff = "PT0S"\n', "mqtt.min_backoff"),
        ("flexmeasures", FLEXMEASURES + 'read_every = "PT0S"\n', "flexmeasures.read_every"),
    ],
)
def test_a_zero_duration_is_refused_naming_its_key(tmp_path: Path, table: str, body: str, key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(key) + ": expected a duration above zero"):
        _load(tmp_path, {table: body})


def test_the_defaults_load(tmp_path: Path) -> None:
    config = _load(tmp_path, {})
    assert config.default_poll_interval.total_seconds() == 10 and config.request_timeout.total_seconds() == 10
