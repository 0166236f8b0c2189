"""The OpenADR 2.0b side of the VTN: the simple-HTTP transport, its services, push delivery, VEN identity
and XML signatures, report ingest."""
