"""French grid operators' signals → OpenADR events: pure translations, one module per signal kind."""
