"""Helpers shared by the test suite: databases, a VTN under test, a raw 2.0b client."""
