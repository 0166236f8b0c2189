"""The OpenADR 2.0b services of the VTN, one module per service, each a set of message handlers."""
