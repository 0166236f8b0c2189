"""Who the VTN can target right now (from its in-memory view), for the 3.x → 2.0b translation."""

from mapping.openadr3.targets import Directory
from vtn.cache.live import LiveState


def directory(live: LiveState) -> Directory:
    """Groups and zones, resources, and venIDs by VEN name, as the VTN knows them now."""
    return Directory(
        groups=frozenset(g for groups in live.groups_by_name.values() for g in groups),
        resources=frozenset(r for resources in live.resources_by_name.values() for r in resources),
        ven_ids_by_name={v.ven_name: v.ven_id for v in live.vens.values() if v.ven_name},
    )
