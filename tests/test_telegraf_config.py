"""scripts/telegraf-cariflex.conf (Telegraf is not installable here): it parses as TOML, and what it subscribes to,
the tags it makes of a topic, the JSON keys it reads and the measurement it writes match what the VEN reads
(ven/telemetry_mqtt.py) and writes (ven/influx_sink.py) and what the site simulator publishes (demo/simulator.py).
The expectations come from that code, so a change on either side fails here."""

import json
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from paho.mqtt.client import topic_matches_sub

from demo.simulator import new_site, step
from mapping.dispatch import TOPIC_ROOT, ack_topic, setpoint_topic
from ven.config import SiteConfig, load_config
from ven.influx_config import DEFAULT_MEASUREMENT
from ven.influx_sink import reading_point
from ven.telemetry_mqtt import METER, UNITS, Rejected, parse_message, r_id_for

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "scripts" / "telegraf-cariflex.conf"
#: 18:00 in Martinique: the EVs are plugged in, so every kind of site publishes its device's state of charge too
AT = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
#: RFC 3339, which Go's layout "2006-01-02T15:04:05Z07:00" parses (fractional seconds included)
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


@pytest.fixture(scope="module")
def telegraf() -> dict[str, Any]:
    """The configuration file, parsed as Telegraf reads it (TOML)."""
    return tomllib.loads(CONF.read_text())


@pytest.fixture(scope="module")
def consumer(telegraf: dict[str, Any]) -> dict[str, Any]:
    [consumer] = telegraf["inputs"]["mqtt_consumer"]
    return consumer


@pytest.fixture(scope="module")
def sites() -> dict[str, SiteConfig]:
    """The demo's 40 sites (config/sites.toml), as the VEN hosts them."""
    return {site.name: site for site in load_config().sites}


@pytest.fixture(scope="module")
def published(sites: dict[str, SiteConfig]) -> list[tuple[str, bytes]]:
    """One step of the site simulator: every message it publishes for every site."""
    return [message for site in sites.values() for message in step(new_site(site), AT, 10 / 3600, timedelta(0))]


def test_it_subscribes_to_every_quantity_the_ven_reads(consumer):
    assert sorted(consumer["topics"]) == sorted(f"{TOPIC_ROOT}/+/+/{quantity}" for quantity in UNITS)
    assert consumer["topic_tag"] == ""  # the topic is in the tags below, not in a tag of its own


def test_what_the_simulator_publishes_is_taken_and_the_setpoints_are_not(consumer, sites, published):
    assignments = {tuple(topic.split("/")[2:]) for topic, _body in published}
    assert {(METER, "power"), ("pv", "power"), ("battery", "soc"), ("evse", "soc"), ("v2g", "soc")} <= assignments
    for topic, body in published:
        assert any(topic_matches_sub(wanted, topic) for wanted in consumer["topics"]), topic
        parse_message(topic, body, sites, AT)  # the VEN takes it as well
    for site in sites.values():
        kind = str(site.asset["kind"])
        for dispatch in (setpoint_topic(site.name, kind), ack_topic(site.name, kind)):
            assert not any(topic_matches_sub(wanted, dispatch) for wanted in consumer["topics"]), dispatch


def _tags(parsing: dict[str, str], topic: str) -> dict[str, str]:
    """What Telegraf's topic_parsing makes of `topic`: one tag per named part, `_` skipped."""
    names, parts = parsing["tags"].split("/"), topic.split("/")
    assert len(names) == len(parts) and topic_matches_sub(parsing["topic"], topic), topic
    return {name: part for name, part in zip(names, parts, strict=True) if name != "_"}


def test_the_topic_gives_the_site_asset_and_quantity_the_ven_reads(consumer, sites, published):
    [parsing] = consumer["topic_parsing"]
    for topic, body in published:
        tags = _tags(parsing, topic)
        sample = parse_message(topic, body, sites, AT)
        assert (tags["site"], r_id_for(tags["asset"], tags["quantity"])) == (sample.site, sample.r_id)
        # the same tags as the VEN's own points (the unit from the payload here, the unit it keeps there)
        assert set(reading_point(DEFAULT_MEASUREMENT, topic, sample).tags) == set(tags) | set(consumer["tag_keys"])
        assert {key: value for key, value in reading_point("m", topic, sample).tags.items() if key in tags} == tags


def test_the_payload_keys_are_those_the_ven_reads(consumer, sites, published):
    assert consumer["data_format"] == "json"
    assert consumer["json_time_format"] == "2006-01-02T15:04:05Z07:00"
    time_key, tag_keys = consumer["json_time_key"], set(consumer["tag_keys"])
    for topic, body in published:
        payload = json.loads(body)
        assert RFC3339.fullmatch(payload[time_key]), payload
        # JSON's numbers become fields: here the one the VEN reads and writes as its point's field
        fields = set(payload) - {time_key} - tag_keys
        assert fields == set(reading_point("m", topic, parse_message(topic, body, sites, AT)).fields), payload
        # and the VEN needs each of those keys: without one, it refuses the message
        for key, reason in [
            (time_key, "bad_timestamp"),
            *((k, "bad_unit") for k in tag_keys),
            *((k, "bad_value") for k in fields),
        ]:
            partial = json.dumps({k: v for k, v in payload.items() if k != key}).encode()
            with pytest.raises(Rejected) as refused:
                parse_message(topic, partial, sites, AT)
            assert refused.value.reason == reason, key


def test_measurements_and_database_are_the_documented_ones(telegraf, consumer):
    assert consumer["name_override"] == "cariflex_mqtt" != DEFAULT_MEASUREMENT  # raw and validated readings apart
    [output] = telegraf["outputs"]["influxdb"]
    ven_toml = tomllib.loads((ROOT / "config" / "ven.toml").read_text())
    assert output["database"] == ven_toml["influxdb"]["database"]  # both in the one database the docs describe
    assert all(url.startswith("http://") for url in output["urls"])
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    section = deployment.split("### Telegraf and InfluxDB", 1)[1]
    for name in (consumer["name_override"], DEFAULT_MEASUREMENT, "scripts/telegraf-cariflex.conf"):
        assert name in section, name
