"""The VEN's FlexMeasures side: provisioning the sites, applying events as constraints and schedules (hooks,
link), telemetry to and from FlexMeasures, and which of its errors are retried."""
