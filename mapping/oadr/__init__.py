"""The OpenADR 2.0b wire format: XML codec, schema check, durations and event status.

This is the one place both `vtn` and `ven` take the 2.0b codec from. It only turns bytes
into typed messages and back; it never touches the network or a database.
"""
