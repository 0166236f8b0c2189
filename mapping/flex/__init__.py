"""OpenADR 2.0b event signals → FlexMeasures constraints (flex-context, flex-model), pure."""
