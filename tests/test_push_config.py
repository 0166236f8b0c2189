"""`[push]` in vtn.toml (the VEN's push keys: tests/test_ven_push_config.py)."""

from datetime import timedelta

import pytest

from mapping.settings import ConfigError
from vtn.config import load_config
from vtn.oadr.push.settings import PushConfig
from vtn.store.database import StoreTimeouts


def _vtn_toml(tmp_path, text: str):
    path = tmp_path / "config" / "vtn.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_vtn_push_section_is_read(tmp_path):
    config = load_config(_vtn_toml(tmp_path, '[push]\nenabled = false\nscan_interval = "PT0.2S"\nconcurrency = 64\n'))
    assert config.push == PushConfig(enabled=False, scan_interval=timedelta(milliseconds=200), concurrency=64)
    assert load_config(_vtn_toml(tmp_path, "")).push == PushConfig()


def test_push_tls_is_the_client_certificate_of_pushes(tmp_path):
    (tmp_path / "certs").mkdir()
    for name in ("vtn-push.crt", "vtn-push.key", "ca.crt"):
        (tmp_path / "certs" / name).write_text("")  # read when pushing starts; here only their places matter
    toml = '[push.tls]\ncert = "certs/vtn-push.crt"\nkey = "certs/vtn-push.key"\nca = "certs/ca.crt"\n'
    tls = load_config(_vtn_toml(tmp_path, toml)).push.tls
    assert tls is not None and tls.chains == ((tmp_path / "certs" / "vtn-push.crt", tmp_path / "certs" / "vtn-push.key"),)
    assert tls.ca_file == tmp_path / "certs" / "ca.crt"
    with pytest.raises(ConfigError, match=r"push\.tls\.ciphers: unknown key"):
        load_config(_vtn_toml(tmp_path, toml + 'ciphers = "ALL"\n'))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[push]\nretries = 3\n", r"push\.retries: unknown key"),
        ('[push]\ntimeout = "soon"\n', r"push\.timeout"),
        ("[push]\nconcurrency = 0\n", r"push\.concurrency"),
        ('[push]\ntimeout = "PT0S"\n', r"push\.timeout: expected a duration above zero"),
        ('[push]\nscan_interval = "PT0S"\n', r"push\.scan_interval: expected a duration above zero"),
        ('[push]\nmin_backoff = "PT0S"\n', r"push\.min_backoff: expected a duration above zero"),
        ('[push]\nmax_backoff = "PT0S"\n', r"push\.max_backoff: expected a duration above zero"),
        ('[push]\nresend_unanswered = "PT0S"\n', r"push\.resend_unanswered: expected a duration above zero"),
        ('[push]\nmin_backoff = "PT10M"\n', r"push\.min_backoff: must not exceed max_backoff \(600 s > 300 s\)"),
        ('[store]\nleader_retry = "PT0S"\n', r"store\.leader_retry: expected a duration above zero"),
        ('[store]\nleader_retry = "PT0.01S"\n', r"store\.leader_retry: expected at least 0\.1 s"),
        ('[store]\nrefresh_interval = "PT0S"\n', r"store\.refresh_interval: expected a duration above zero"),
        ('[store]\nconnect_timeout = "PT1S"\n', r"store\.connect_timeout: expected at least 2 s"),
        ('[store]\nstatement_timeout = "PT0S"\n', r"store\.statement_timeout: expected a duration above zero"),
        ('[store]\npool_timeout = "PT0S"\n', r"store\.pool_timeout: expected a duration above zero"),
        ('[vtn]\npoll_interval = "PT0S"\n', r"vtn\.poll_interval: expected a duration above zero"),
        ('[vtn]\nbody_timeout = "PT0S"\n', r"vtn\.body_timeout: expected a duration above zero"),
    ],
)
def test_bad_push_and_timing_values_name_the_key(tmp_path, toml, message):
    """Unknown or malformed [push] keys, and zero durations (asyncio.timeout(0) fires at once and aiohttp's
    ClientTimeout(total=0) means no timeout), are refused naming the key."""
    with pytest.raises(ConfigError, match=message):
        load_config(_vtn_toml(tmp_path, toml))


def test_push_defaults_come_from_push_config(tmp_path):
    """An empty [push] and a [push] spelling out the documented defaults give the same PushConfig."""
    spelled = (
        '[push]\nscan_interval = "PT0.5S"\ntimeout = "PT10S"\nmin_backoff = "PT1S"\nmax_backoff = "PT5M"\n'
        'resend_unanswered = "PT60S"\n'
    )
    assert load_config(_vtn_toml(tmp_path, spelled)).push == load_config(_vtn_toml(tmp_path, "[push]\n")).push == PushConfig()


def test_store_timeouts_are_read_with_documented_defaults(tmp_path):
    """[store] connect_timeout, statement_timeout and pool_timeout (docs/deployment.md): 5 s, 15 s, 5 s unless set."""
    assert load_config(_vtn_toml(tmp_path, "")).store_timeouts == StoreTimeouts(
        timedelta(seconds=5), timedelta(seconds=15), timedelta(seconds=5)
    )
    toml = '[store]\nconnect_timeout = "PT3S"\nstatement_timeout = "PT30S"\npool_timeout = "PT2S"\n'
    assert load_config(_vtn_toml(tmp_path, toml)).store_timeouts == StoreTimeouts(
        timedelta(seconds=3), timedelta(seconds=30), timedelta(seconds=2)
    )
