"""Certificates and TLS for OpenADR 2.0b: a development PKI (`cariflex certs`), the 2.0b TLS profile
(server and client contexts shared by the VTN and the VEN) and OpenADR certificate fingerprints."""
