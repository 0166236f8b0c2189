"""Achieved curtailment at the VTN: asking the VENs, querying what they reported, the API and the table."""
