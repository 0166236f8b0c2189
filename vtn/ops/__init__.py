"""Operations: Prometheus metrics, /metrics, /healthz, /readyz."""
