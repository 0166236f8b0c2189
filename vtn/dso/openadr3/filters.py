"""Search filters shared by /programs and /events: targets (3.0.1 targetType/targetValues, 3.1 targets)."""

from typing import Any

from aiohttp import web


def target_values(request: web.Request, version: str) -> tuple[str | None, set[str]]:
    """(targetType, values) of a search; values may repeat the parameter or be comma-separated."""
    if version == "3.0.1":
        values = {v for raw in request.query.getall("targetValues", []) for v in raw.split(",") if v}
        return request.query.get("targetType"), values
    return None, {v for raw in request.query.getall("targets", []) for v in raw.split(",") if v}


def matches_targets(targets: list[Any], target_type: str | None, values: set[str], version: str) -> bool:
    """3.0.1: the object's targets name one of `values` (of `target_type`); 3.1: every one of `values`."""
    if version == "3.0.1":
        return any(
            (target_type is None or t.get("type") == target_type) and (not values or values.intersection(t.get("values") or []))
            for t in targets
            if isinstance(t, dict)
        )
    return values <= {t for t in targets if isinstance(t, str)}


def filter_by_targets(request: web.Request, version: str, rows: list[Any]) -> list[Any]:
    """The rows (with a `.body`) whose targets match the request's target filter (all when none is given)."""
    target_type, values = target_values(request, version)
    if not values and not target_type:
        return rows
    return [r for r in rows if matches_targets(r.body.get("targets", []), target_type, values, version)]
