"""The Cariflex OpenADR 2.0b VTN: VEN-facing services, store, lifecycle and operator-facing APIs."""
