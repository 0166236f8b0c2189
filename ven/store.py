"""The VENs' local state in one small SQLite file: registration, known events and the answers
given, report requests, and reports not yet delivered. A restart resumes from it."""

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.json_form import event_from_json, event_to_json, report_request_from_json, report_request_to_json

SCHEMA = [
    # version 1
    """
    CREATE TABLE registration (site TEXT PRIMARY KEY, ven_id TEXT NOT NULL, registration_id TEXT NOT NULL,
                               vtn_id TEXT NOT NULL, poll_freq_s REAL, updated_at TEXT NOT NULL);
    CREATE TABLE event (site TEXT NOT NULL, event_id TEXT NOT NULL, modification_number INTEGER NOT NULL,
                        body TEXT NOT NULL, opt_type TEXT, answered_modification INTEGER, start_offset_s REAL NOT NULL,
                        PRIMARY KEY (site, event_id));
    CREATE TABLE report_request (site TEXT NOT NULL, report_request_id TEXT NOT NULL, report_name TEXT NOT NULL,
                                 body TEXT NOT NULL, sent_until TEXT, PRIMARY KEY (site, report_request_id));
    CREATE TABLE unsent (id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, service TEXT NOT NULL, body BLOB NOT NULL,
                         created_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
    """,
    # version 2: whether the VTN has the site's report metadata (so a restart does not register it again)
    """
    ALTER TABLE registration ADD COLUMN reports_registered INTEGER NOT NULL DEFAULT 0;
    """,
    # version 3: the optOuts told for events the site's schedule cannot honour (what the VTN holds)
    """
    CREATE TABLE unmet_opt (site TEXT NOT NULL, event_id TEXT NOT NULL, modification_number INTEGER NOT NULL,
                            windows TEXT NOT NULL, PRIMARY KEY (site, event_id));
    """,
    # version 4: events the operator opted out of after answering them (oadrCreateOpt with qualifiedEventID)
    """
    CREATE TABLE operator_opt_out (site TEXT NOT NULL, event_id TEXT NOT NULL, opt_id TEXT NOT NULL,
                                   PRIMARY KEY (site, event_id));
    """,
]


@dataclass(frozen=True)
class Registration:
    """What a site's VEN holds after registering."""

    ven_id: str
    registration_id: str
    vtn_id: str
    poll_freq_s: float | None


@dataclass(frozen=True)
class KnownEvent:
    """An event the VEN holds, with the opt it chose, the modification it answered and its random start offset."""

    event: m.Event
    opt_type: str | None
    answered_modification: int | None
    start_offset_s: float


class VenStore:
    """sqlite3, autocommit per statement group; calls are short and local."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for index, script in enumerate(SCHEMA[version:], start=version + 1):
            with self.db:
                self.db.executescript(script)
                self.db.execute(f"PRAGMA user_version = {index}")

    def close(self) -> None:
        """Release the file."""
        self.db.close()

    # --- registration -------------------------------------------------------------------------

    def registration(self, site: str) -> Registration | None:
        """The site's registration, if any."""
        row = self.db.execute(
            "SELECT ven_id, registration_id, vtn_id, poll_freq_s FROM registration WHERE site = ?", (site,)
        ).fetchone()
        return Registration(*row) if row else None

    def save_registration(self, site: str, registration: Registration) -> None:
        """Keep a registration."""
        self.db.execute(
            "INSERT OR REPLACE INTO registration (site, ven_id, registration_id, vtn_id, poll_freq_s, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (site, registration.ven_id, registration.registration_id, registration.vtn_id, registration.poll_freq_s, _now()),
        )

    def reports_registered(self, site: str) -> bool:
        """True once the VTN answered the site's oadrRegisterReport (for its current registration)."""
        row = self.db.execute("SELECT reports_registered FROM registration WHERE site = ?", (site,)).fetchone()
        return bool(row and row[0])

    def set_reports_registered(self, site: str, done: bool) -> None:
        """Record whether the VTN has the site's report metadata."""
        self.db.execute("UPDATE registration SET reports_registered = ? WHERE site = ?", (int(done), site))

    def forget_registration(self, site: str) -> None:
        """Drop the registration and everything that depended on it."""
        with self.db:
            for table in ("registration", "event", "report_request", "unmet_opt"):
                self.db.execute(f"DELETE FROM {table} WHERE site = ?", (site,))

    # --- events ---------------------------------------------------------------------------------

    def events(self, site: str) -> dict[str, KnownEvent]:
        """Every event the site holds."""
        rows = self.db.execute(
            "SELECT body, opt_type, answered_modification, start_offset_s FROM event WHERE site = ?", (site,)
        ).fetchall()
        return {e.event.event_id: e for e in (KnownEvent(event_from_json(json.loads(b)), o, a, s) for b, o, a, s in rows)}

    def save_event(self, site: str, known: KnownEvent) -> None:
        """Keep (or update) an event."""
        self.db.execute(
            "INSERT OR REPLACE INTO event VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                site,
                known.event.event_id,
                known.event.modification_number,
                json.dumps(event_to_json(known.event)),
                known.opt_type,
                known.answered_modification,
                known.start_offset_s,
            ),
        )

    def delete_event(self, site: str, event_id: str) -> None:
        """Forget an event (completed or cancelled and done)."""
        self.db.execute("DELETE FROM event WHERE site = ? AND event_id = ?", (site, event_id))
        self.db.execute("DELETE FROM operator_opt_out WHERE site = ? AND event_id = ?", (site, event_id))

    def save_operator_opt_out(self, site: str, event_id: str, opt_id: str) -> None:
        """Record that the operator opted out of an event (its modifications are answered optOut too)."""
        self.db.execute("INSERT OR REPLACE INTO operator_opt_out VALUES (?, ?, ?)", (site, event_id, opt_id))

    def operator_opt_out(self, site: str, event_id: str) -> str | None:
        """The optID of the operator's optOut of an event, if any."""
        row = self.db.execute("SELECT opt_id FROM operator_opt_out WHERE site = ? AND event_id = ?", (site, event_id)).fetchone()
        return row[0] if row else None

    # --- optOuts for what the schedule cannot honour -------------------------------------------

    def unmet_opts(self, site: str) -> dict[str, tuple[int, tuple[tuple[datetime, timedelta], ...]]]:
        """Per event id, the optOut the VTN holds: (modification, windows; () for the whole event)."""
        rows = self.db.execute("SELECT event_id, modification_number, windows FROM unmet_opt WHERE site = ?", (site,))
        return {e: (n, tuple((datetime.fromisoformat(a), timedelta(seconds=d)) for a, d in json.loads(w))) for e, n, w in rows}

    def save_unmet_opt(
        self, site: str, event_id: str, modification: int, windows: tuple[tuple[datetime, timedelta], ...]
    ) -> None:
        """Record the optOut told for an event."""
        encoded = json.dumps([(start.isoformat(), length.total_seconds()) for start, length in windows])
        self.db.execute("INSERT OR REPLACE INTO unmet_opt VALUES (?, ?, ?, ?)", (site, event_id, modification, encoded))

    def delete_unmet_opt(self, site: str, event_id: str) -> None:
        """Forget the optOut told for an event (withdrawn, or the event is gone)."""
        self.db.execute("DELETE FROM unmet_opt WHERE site = ? AND event_id = ?", (site, event_id))

    # --- report requests ------------------------------------------------------------------------

    def report_requests(self, site: str) -> list[tuple[r.ReportRequest, str, datetime | None]]:
        """(request, report name, data sent up to) for every active request."""
        rows = self.db.execute("SELECT body, report_name, sent_until FROM report_request WHERE site = ?", (site,)).fetchall()
        return [(report_request_from_json(json.loads(b)), n, datetime.fromisoformat(u) if u else None) for b, n, u in rows]

    def save_report_request(
        self, site: str, request: r.ReportRequest, report_name: str, sent_until: datetime | None = None
    ) -> None:
        """Keep a report request and how far its data has been sent."""
        self.db.execute(
            "INSERT OR REPLACE INTO report_request VALUES (?, ?, ?, ?, ?)",
            (
                site,
                request.report_request_id,
                report_name,
                json.dumps(report_request_to_json(request)),
                sent_until.isoformat() if sent_until else None,
            ),
        )

    def delete_report_request(self, site: str, report_request_id: str) -> None:
        """Forget a report request (cancelled or finished)."""
        self.db.execute("DELETE FROM report_request WHERE site = ? AND report_request_id = ?", (site, report_request_id))

    # --- reports not yet delivered --------------------------------------------------------------

    def queue(self, site: str, service: str, body: bytes) -> int:
        """Keep an encoded message until the VTN has accepted it."""
        return self.db.execute(
            "INSERT INTO unsent (site, service, body, created_at) VALUES (?, ?, ?, ?)", (site, service, body, _now())
        ).lastrowid

    def unsent(self, site: str) -> list[tuple[int, str, bytes]]:
        """(id, service, body) of undelivered messages, oldest first."""
        return self.db.execute("SELECT id, service, body FROM unsent WHERE site = ? ORDER BY id", (site,)).fetchall()

    def unsent_counts(self) -> dict[str, int]:
        """How many messages wait for delivery, per site (read by /metrics)."""
        return dict(self.db.execute("SELECT site, COUNT(*) FROM unsent GROUP BY site").fetchall())

    def sent(self, message_id: int) -> None:
        """The VTN accepted a queued message."""
        self.db.execute("DELETE FROM unsent WHERE id = ?", (message_id,))

    def failed(self, message_id: int) -> None:
        """Count a failed delivery attempt (kept for the next try)."""
        self.db.execute("UPDATE unsent SET attempts = attempts + 1 WHERE id = ?", (message_id,))


def _now() -> str:
    return datetime.now(UTC).isoformat()
