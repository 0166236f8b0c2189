"""Importing a meter operator's load curve, as the CLI and the operator UI both do it."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from mapping.curtailment import MeterStep
from vtn.store import Tx
from vtn.store import meter_repository as meters
from vtn.store import ui_repository as users


def import_and_audit(
    session: Tx, curves: Mapping[str, Sequence[MeterStep]], source: str, username: str, now: datetime
) -> meters.ImportSummary:
    """Store the curves and write who imported what in the audit log, in one transaction."""
    summary = meters.import_curves(session, curves, source, username, now)
    detail = {"batch": summary.batch, "delivery_points": summary.delivery_points, "added": summary.added}
    users.audit(session, username, "meter import", source, detail | {"corrected": summary.corrected}, now)
    return summary
