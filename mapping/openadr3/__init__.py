"""OpenADR 3 (3.0.1 and 3.1) business-logic objects ↔ our 2.0b model: pure translations, no I/O."""
