"""The per-process cache (vtn/cache/live.py): a VEN registered again — through this process or, via the change feed,
another — has been given nothing yet, so every process (the pushing leader too) gives it its events again."""

from dataclasses import replace

from vtn.cache.live import LiveState
from vtn.domain import VenRecord

GIVEN = (("event-1", 0, "far"),)


def _cache_with_a_delivery() -> LiveState:
    live = LiveState()
    live.put_ven(VenRecord("ven-1", "site-01", "reg-1"))
    live.delivered["ven-1"] = GIVEN
    return live


def test_an_update_of_the_same_registration_keeps_what_the_ven_was_given() -> None:
    live = _cache_with_a_delivery()
    live.put_ven(VenRecord("ven-1", "site-01", "reg-1", fingerprint="AB:CD"))
    assert live.delivered["ven-1"] == GIVEN


def test_a_new_registration_forgets_what_the_ven_was_given() -> None:
    live = _cache_with_a_delivery()
    live.put_ven(VenRecord("ven-1", "site-01", "reg-2"))
    assert "ven-1" not in live.delivered


def test_a_switch_from_pull_to_push_forgets_what_the_ven_was_given() -> None:
    live = _cache_with_a_delivery()
    live.put_ven(replace(live.vens["ven-1"], http_pull_model=False, transport_address="http://127.0.0.1:9/"))
    assert "ven-1" not in live.delivered
