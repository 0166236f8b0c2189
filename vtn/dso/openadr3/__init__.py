"""The OpenADR 3 business-logic API (3.0.1 and 3.1.0) the VTN serves to grid operators (DSO systems)."""
