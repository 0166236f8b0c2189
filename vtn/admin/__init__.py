"""Changes to events and report requests: the one place each is made (the CLI, the APIs and the UI call it)."""
