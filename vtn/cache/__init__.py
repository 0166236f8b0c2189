"""The in-memory view every poll reads, and keeping it in step with the store's change feed."""
