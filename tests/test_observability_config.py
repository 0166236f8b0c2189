"""`[metrics]` in vtn.toml and ven.toml: the token from the environment, refusals that name the key, and
the refusal reasons /metrics gives (the HTTP side is in test_observability_vtn.py)."""

from pathlib import Path

import pytest

from mapping.settings import ConfigError, Table
from observability.http import MetricsSettings, parse_metrics, refusal
from vtn.config import parse_config

TOKEN = "a-long-enough-token-0123"


def _vtn(data: dict, environ: dict | None = None) -> MetricsSettings:
    return parse_config(data, Path("/tmp"), environ or {}).metrics


def test_vtn_metrics_token_from_the_environment():
    settings = _vtn({"metrics": {"token": "env:CFX_TOKEN"}}, {"CFX_TOKEN": TOKEN})
    assert settings == MetricsSettings(public=False, token=TOKEN)
    assert _vtn({}) == MetricsSettings(public=False, token=None)
    assert _vtn({"metrics": {"public": True}}).public


@pytest.mark.parametrize(
    ("metrics", "environ", "message"),
    [
        ({"token": "env:CFX_MISSING"}, {}, "metrics.token: environment variable CFX_MISSING is not set"),
        ({"token": "short"}, {}, "metrics.token: at least 16 characters"),
        ({"token": ""}, {}, "metrics.token: expected a non-empty string"),
        ({"public": "yes"}, {}, "metrics.public: expected true or false"),
        ({"port": 9464}, {}, "metrics.port: unknown key"),  # the VTN serves /metrics on its own port
    ],
)
def test_vtn_bad_metrics_settings_name_the_key(metrics, environ, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        _vtn({"metrics": metrics}, environ)


def test_ven_metrics_listener_settings():
    table = Table({"enabled": True, "port": 0, "host": "0.0.0.0", "public": True}, "metrics", {})
    assert parse_metrics(table, with_listener=True) == MetricsSettings(public=True, token=None, host="0.0.0.0", port=0)
    assert parse_metrics(Table({}, "metrics", {}), with_listener=True).port is None  # no listener unless enabled
    with pytest.raises(ConfigError, match=r"metrics\.port: expected an integer from 0 to 65535"):
        parse_metrics(Table({"enabled": True, "port": 70000}, "metrics", {}), with_listener=True)


@pytest.mark.parametrize(
    ("settings", "header", "why"),
    [
        (MetricsSettings(public=True), None, None),
        (MetricsSettings(token=TOKEN), f"Bearer {TOKEN}", None),
        (MetricsSettings(token=TOKEN), f"bearer   {TOKEN}", None),
        (MetricsSettings(token=TOKEN), None, "missing Authorization header"),
        (MetricsSettings(token=TOKEN), "Bearer", "Authorization must be 'Bearer <token>'"),
        (MetricsSettings(token=TOKEN), f"Token {TOKEN}", "Authorization must be 'Bearer <token>'"),
        (MetricsSettings(token=TOKEN), f"Bearer {TOKEN}x", "bearer token does not match"),
        (MetricsSettings(), f"Bearer {TOKEN}", "no [metrics] token is configured"),
    ],
)
def test_who_may_scrape(settings, header, why):
    reason = refusal(settings, header)
    assert (reason is None) if why is None else (reason is not None and why in reason)
