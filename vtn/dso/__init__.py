"""The grid operators' side: the OpenADR 3 business-logic API and the French signal adapters' endpoint."""
