"""`[influxdb]` of ven.toml: read with its defaults, and every bad value refused naming its key."""

from datetime import timedelta
from pathlib import Path

import pytest

from mapping.settings import ConfigError
from tests.support.ven_toml import load_ven_toml
from ven.influx_config import InfluxSettings

MQTT = "[mqtt]\nenabled = true\n"


def _load(tmp_path, table: str, mqtt: str = MQTT):
    """ven.toml with `table` as the keys of an enabled [influxdb] (and [mqtt] enabled unless told otherwise)."""
    return load_ven_toml(tmp_path, '[vtn]\nvtn_id = "CARIFLEX-VTN"\n' + mqtt + "[influxdb]\nenabled = true\n" + table)


def test_defaults_and_credentials(tmp_path, monkeypatch):
    config = _load(tmp_path, 'url = "http://127.0.0.1:8086/"\ndatabase = "cariflex"\n')
    assert config.influxdb == InfluxSettings("http://127.0.0.1:8086", "cariflex")
    monkeypatch.setenv("CFX_INFLUX_PW", "s3cret")
    config = _load(
        tmp_path,
        'url = "https://influx.example.mq:8086"\ndatabase = "d"\nusername = "ven"\npassword = "env:CFX_INFLUX_PW"\n'
        'measurement = "m"\nbatch_size = 10\nflush_interval = "PT0.5S"\nmax_buffer = 10\nmax_backoff = "PT1M"\n'
        'timeout = "PT3S"\n',
    )
    assert config.influxdb == InfluxSettings(
        "https://influx.example.mq:8086",
        "d",
        "ven",
        "s3cret",
        "m",
        10,
        timedelta(seconds=0.5),
        10,
        timedelta(minutes=1),
        timedelta(seconds=3),
    )
    assert "s3cret" not in repr(config.influxdb)


def test_off_unless_enabled(tmp_path):
    vtn = '[vtn]\nvtn_id = "CARIFLEX-VTN"\n'
    assert load_ven_toml(tmp_path, vtn + "[influxdb]\nenabled = false\n").influxdb is None
    assert load_ven_toml(tmp_path, vtn).influxdb is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('database = "d"\n', r"influxdb\.url: expected a non-empty string"),
        ('url = "127.0.0.1:8086"\ndatabase = "d"\n', r"influxdb\.url: expected the server's base URL"),
        ('url = "http://h:8086/?db=x"\ndatabase = "d"\n', r"influxdb\.url: expected the server's base URL"),
        ('url = "http://h:8086"\n', r"influxdb\.database: expected a non-empty string"),
        ('url = "http://h:8086"\ndatabase = "d"\npassword = "p"\n', r"influxdb\.password: given without username"),
        ('url = "http://h:8086"\ndatabase = "d"\nbatch_size = 0\n', r"influxdb\.batch_size: expected an integer from 1"),
        ('url = "http://h:8086"\ndatabase = "d"\nbatch_size = 100\nmax_buffer = 50\n', r"influxdb\.max_buffer: must be at"),
        ('url = "http://h:8086"\ndatabase = "d"\nflush_interval = "PT0S"\n', r"influxdb\.flush_interval: expected a duration"),
        ('url = "http://h:8086"\ndatabase = "d"\nflush_interval = "10s"\n', r"influxdb\.flush_interval: expected an ISO 8601"),
        ('url = "http://h:8086"\ndatabase = "d"\nmax_backoff = "PT1S"\n', r"influxdb\.max_backoff: shorter than flush"),
        ('url = "http://h:8086"\ndatabase = "d"\nmeasurement = "ends\\\\"\n', r"influxdb\.measurement: .* ends with a backslash"),
        ('url = "http://h:8086"\ndatabase = "d"\nbatchsize = 5\n', r"influxdb\.batchsize: unknown key"),
        (
            'url = "http://h:8086"\ndatabase = "d"\npassword = "env:CFX_NOT_SET"\nusername = "u"\n',
            r"influxdb\.password: .*CFX_NOT_SET",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_key(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, table)


def test_the_sink_needs_mqtt(tmp_path):
    with pytest.raises(ConfigError, match=r"influxdb\.enabled: needs \[mqtt\] enabled"):
        _load(tmp_path, 'url = "http://h:8086"\ndatabase = "d"\n', mqtt="")


def test_the_shipped_block_loads_once_enabled(tmp_path):
    """config/ven.toml's [influxdb] block (off there) loads with enabled = true and says what the defaults say."""
    text = (Path(__file__).parent.parent / "config" / "ven.toml").read_text()
    block = text.split("\n[influxdb]\n", 1)[1].split("\n\n", 1)[0]
    assert block.startswith("enabled = false\n")
    config = _load(tmp_path, block.replace("enabled = false\n", ""))
    assert config.influxdb == InfluxSettings("http://127.0.0.1:8086", "cariflex")
