"""The operator web UI: server-rendered pages under /ui/ (event log, VENs, reports, audit), login required."""
