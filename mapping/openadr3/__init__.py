"""OpenADR 3 (3.0.1 and 3.1) business-logic objects ↔ our 2.0b model: pure translations, no I/O.

The API: events (`clean_event` checks a 3.x event, `to_draft` carries it to 2.0b, `render_event`
writes it back), programs, reports and subscriptions the same way, the payload types 2.0b can carry
(`payloads`), targets (`Directory`), and `wire`'s field checks, which the DSO adapters and the
aggregator API share. Every refusal is `mapping.refusal.Refused`, naming the field.
"""

from mapping.openadr3.events import ProgramView, clean_event, render_event, timeline, to_draft
from mapping.openadr3.payloads import CAPACITY_SIGNALS, CURRENCIES
from mapping.openadr3.programs import clean_program, render_program
from mapping.openadr3.reports import READING_TYPES, build_report, payload_type, report_id
from mapping.openadr3.subscriptions import (
    OBJECT_TYPES,
    callbacks,
    check_callback_hosts,
    clean_subscription,
    notification,
    render_subscription,
)
from mapping.openadr3.targets import Directory
from mapping.openadr3.wire import VERSIONS, object_id
from mapping.refusal import Refused

__all__ = [
    "CAPACITY_SIGNALS",
    "CURRENCIES",
    "OBJECT_TYPES",
    "READING_TYPES",
    "VERSIONS",
    "Directory",
    "ProgramView",
    "Refused",
    "build_report",
    "callbacks",
    "check_callback_hosts",
    "clean_event",
    "clean_program",
    "clean_subscription",
    "notification",
    "object_id",
    "payload_type",
    "render_event",
    "render_program",
    "render_subscription",
    "report_id",
    "timeline",
    "to_draft",
]
