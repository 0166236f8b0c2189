"""`[vtn]` push keys of ven.toml: read, and the address the VTN is given must be one it can connect to."""

from pathlib import Path

import pytest

from mapping.settings import ConfigError
from tests.support.ven_toml import load_ven_toml
from ven.config import PushSettings


def _load(tmp_path, vtn: str):
    return load_ven_toml(tmp_path, '[vtn]\nvtn_id = "CARIFLEX-VTN"\npush = true\n' + vtn)


@pytest.mark.parametrize(
    ("vtn", "message"),
    [
        ('push_host = "0.0.0.0"\n', r"vtn\.push_public_host: required when push_host is '0\.0\.0\.0'"),
        ('push_host = "::"\n', r"vtn\.push_public_host: required when push_host is '::'"),
        ('push_public_host = "0.0.0.0"\n', r"vtn\.push_public_host: '0\.0\.0\.0' is not an address the VTN can reach"),
        ('push_host = "0.0.0.0"\npush_public_host = "[::]"\n', r"vtn\.push_public_host: '\[::\]' is not an address"),
    ],
)
def test_push_public_host_must_be_reachable(tmp_path, vtn, message):
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, vtn)


def test_ven_push_settings(tmp_path):
    assert _load(tmp_path, 'push_host = "0.0.0.0"\npush_port = 9100\npush_public_host = "ven.example.mq"\n').push == PushSettings(
        "0.0.0.0", 9100, "ven.example.mq"
    )
    assert load_ven_toml(tmp_path, '[vtn]\nvtn_id = "CARIFLEX-VTN"\npush = false\n').push is None
    with pytest.raises(ConfigError, match=r"vtn\.push_port"):
        _load(tmp_path, "push_port = 70000\n")


def test_push_on_every_interface_with_a_public_host(tmp_path):
    config = _load(tmp_path, 'push_host = "0.0.0.0"\npush_public_host = "ven.example.mq"\n')
    assert config.push == PushSettings("0.0.0.0", 8090, "ven.example.mq")
    assert _load(tmp_path, 'push_host = "10.1.2.3"\n').push == PushSettings("10.1.2.3", 8090, "10.1.2.3")


def test_example_ven_toml_push_block_is_valid(tmp_path):
    """The commented push block of config/ven.toml, uncommented, loads."""
    text = (Path(__file__).parent.parent / "config" / "ven.toml").read_text()
    block = [line[2:] for line in text.splitlines() if line.startswith("# push")]
    assert [line.split(" =")[0] for line in block] == ["push", "push_host", "push_port", "push_public_host"]
    assert _load(tmp_path, "\n".join(block[1:]) + "\n").push == PushSettings("0.0.0.0", 8090, "site-gateway.example.mq")
