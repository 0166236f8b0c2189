"""What the VTN and VEN processes share to be watched: Prometheus metrics (tally), the /metrics, /healthz and
/readyz routes, and the log set-up (text or JSON lines). Imports neither vtn nor ven (they meet only over the wire)."""
