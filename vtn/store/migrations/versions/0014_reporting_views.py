"""reporting views: a read-only `reporting` schema for Metabase and other BI tools (issue 20, item 5)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:40:00

Six views in the schema `reporting` give a stable shape over the store's tables, which may change from one
revision to the next: events, deliveries (what each VEN received and answered), opts, the curtailment the
VENs reported per event, site and day, and the settlement statements with their lines. Their columns and
units are documented in docs/reporting.md; a later revision may add columns, never rename or drop one.
Times are `timestamptz` (the store keeps naive UTC), energies kWh, days the Martinique calendar day.

PostgreSQL only. On SQLite this revision does nothing: SQLite has neither schemas nor roles, so nothing could
keep a reporting tool to the views, and a SQLite store is the single-process VTN of a demo or a test bench,
not what a BI tool is pointed at (docs/reporting.md). Read access is given to a role by `cariflex db
reporting-role` (vtn/store/reporting.py), not here: roles belong to the whole PostgreSQL cluster, not to one
database.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

#: the calendar of the `day` columns: the gateway's home
DAY_ZONE = "America/Martinique"


def _utc(column: str) -> str:
    """A stored naive-UTC timestamp as timestamptz."""
    return f"({column} AT TIME ZONE 'UTC')"


def _day(column: str) -> str:
    """A stored naive-UTC timestamp's Martinique calendar day."""
    return f"(({column} AT TIME ZONE 'UTC') AT TIME ZONE '{DAY_ZONE}')::date"


EVENTS = f"""
CREATE VIEW reporting.events AS
SELECT e.event_id,
       p.program_id,
       e.market_context,
       e.status,
       e.cancelled,
       e.closed,
       e.priority,
       e.modification_number,
       {_utc("e.dtstart")} AS starts_at,
       {_utc("e.end_at")} AS ends_at,
       {_day("e.dtstart")} AS day,
       (e.body->>'duration_s')::double precision / 60 AS duration_minutes,
       (SELECT string_agg((s->>'name') || ':' || (s->>'type'), ',' ORDER BY n)
          FROM json_array_elements(e.body->'signals') WITH ORDINALITY AS sig(s, n)) AS signals,
       e.source,
       {_utc("e.created_at")} AS created_at,
       {_utc("e.modified_at")} AS modified_at
FROM public.event e
LEFT JOIN public.program p ON p.market_context = e.market_context
"""

DELIVERIES = f"""
CREATE VIEW reporting.deliveries AS
SELECT d.event_id,
       d.modification_number,
       d.ven_id,
       v.ven_name AS site,
       {_utc("d.first_delivered_at")} AS delivered_at,
       {_utc("a.received_at")} AS answered_at,
       a.opt_type,
       a.response_code,
       a.response_description
FROM public.event_delivery d
LEFT JOIN public.ven v ON v.ven_id = d.ven_id
LEFT JOIN LATERAL (
    SELECT r.received_at, r.opt_type, r.response_code, r.response_description
    FROM public.event_response r
    WHERE r.ven_id = d.ven_id AND r.event_id = d.event_id AND r.modification_number = d.modification_number
    ORDER BY r.id DESC
    LIMIT 1
) a ON true
"""

# an availability schedule has windows (one row each); an opt on an event has none (one row, window null)
OPTS = f"""
CREATE VIEW reporting.opts AS
SELECT o.ven_id,
       v.ven_name AS site,
       o.opt_id,
       o.opt_type,
       o.opt_reason,
       p.program_id,
       o.market_context,
       o.event_id,
       o.modification_number,
       (w.win->>0)::timestamptz AS window_start,
       (w.win->>1)::timestamptz AS window_end,
       {_utc("o.created_at")} AS created_at,
       {_utc("o.received_at")} AS received_at,
       {_utc("o.cancelled_at")} AS cancelled_at
FROM public.opt o
LEFT JOIN public.ven v ON v.ven_id = o.ven_id
LEFT JOIN public.program p ON p.market_context = o.market_context
LEFT JOIN LATERAL json_array_elements(
    CASE WHEN json_typeof(o.windows) = 'array' THEN o.windows ELSE '[]'::json END
) AS w(win) ON true
"""


def _kwh(r_id: str) -> str:
    return f"sum(p.value * coalesce(p.duration_s, 900) / 3600.0) FILTER (WHERE p.r_id = '{r_id}')"


# the VENs' x-ACHIEVED_CURTAILMENT reports (mapping/curtailment/report.py); a value sent as "No Value" is none
CURTAILMENT = f"""
CREATE VIEW reporting.curtailment_daily AS
SELECT c.event_id,
       e.market_context,
       c.ven_id,
       v.ven_name AS site,
       {_day("p.dtstart")} AS day,
       count(DISTINCT p.dtstart) AS intervals,
       {_kwh("curtailment-baseline")} AS baseline_kwh,
       {_kwh("curtailment-measured")} AS measured_kwh,
       {_kwh("curtailment-achieved")} AS achieved_kwh,
       {_kwh("curtailment-planned")} AS planned_kwh
FROM public.curtailment_request c
JOIN public.report_point p ON p.report_request_id = c.report_request_id AND p.ven_id = c.ven_id
LEFT JOIN public.event e ON e.event_id = c.event_id
LEFT JOIN public.ven v ON v.ven_id = c.ven_id
WHERE p.value IS NOT NULL AND p.data_quality IS DISTINCT FROM 'No Quality - No Value'
GROUP BY c.event_id, e.market_context, c.ven_id, v.ven_name, {_day("p.dtstart")}
"""

STATEMENTS = f"""
CREATE VIEW reporting.settlement_statements AS
SELECT s.statement_id,
       s.scope_kind,
       s.scope_key,
       {_utc("s.period_start")} AS period_start,
       {_utc("s.period_end")} AS period_end,
       {_utc("s.issued_at")} AS issued_at,
       s.issued_by,
       s.reason,
       s.supersedes,
       later.statement_id AS superseded_by,
       later.statement_id IS NULL AS current,
       s.content_hash,
       (s.content->'totals'->>'lines')::integer AS lines,
       (s.content->'totals'->>'requested_kwh')::double precision AS requested_kwh,
       (s.content->'totals'->>'delivered_kwh')::double precision AS delivered_kwh,
       (s.content->'totals'->>'shortfall_kwh')::double precision AS shortfall_kwh,
       (s.content->'totals'->>'missing_intervals')::integer AS missing_intervals,
       (s.content->'totals'->>'final')::boolean AS final
FROM public.settlement_statement s
LEFT JOIN LATERAL (
    SELECT n.statement_id FROM public.settlement_statement n
    WHERE n.supersedes = s.statement_id ORDER BY n.issued_at DESC LIMIT 1
) later ON true
"""

LINES = f"""
CREATE VIEW reporting.settlement_lines AS
SELECT st.statement_id,
       st.current,
       st.scope_kind,
       st.scope_key,
       st.issued_at,
       l.n::integer AS line_number,
       l.line->>'event_id' AS event_id,
       {_day("e.dtstart")} AS event_day,
       l.line->>'site' AS site,
       l.line->>'method' AS method,
       l.line->>'status' AS status,
       (l.line->>'coverage')::double precision AS coverage,
       (l.line->>'intervals')::integer AS intervals,
       (l.line->>'missing_intervals')::integer AS missing_intervals,
       (l.line->>'requested_kwh')::double precision AS requested_kwh,
       (l.line->>'baseline_kwh')::double precision AS baseline_kwh,
       (l.line->>'measured_kwh')::double precision AS measured_kwh,
       (l.line->>'achieved_kwh')::double precision AS achieved_kwh,
       (l.line->>'delivered_kwh')::double precision AS delivered_kwh,
       (l.line->>'shortfall_kwh')::double precision AS shortfall_kwh,
       l.line->>'outcome' AS outcome
FROM reporting.settlement_statements st
JOIN public.settlement_statement s ON s.statement_id = st.statement_id
CROSS JOIN LATERAL json_array_elements(s.content->'lines') WITH ORDINALITY AS l(line, n)
LEFT JOIN public.event e ON e.event_id = l.line->>'event_id'
"""

#: in creation order (settlement_lines reads settlement_statements)
VIEWS = (EVENTS, DELIVERIES, OPTS, CURTAILMENT, STATEMENTS, LINES)


def upgrade() -> None:
    """Create the schema `reporting` and its views (PostgreSQL; nothing on SQLite: see the module's docstring)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SCHEMA reporting")
    for view in VIEWS:
        op.execute(view)


def downgrade() -> None:
    """Drop the schema and its views (the grants on them go too; a reporting role stays, with nothing to read)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP SCHEMA reporting CASCADE")
