"""The `cariflex` command: one entry point for the VTN, the VENs and their tools."""
