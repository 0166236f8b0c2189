"""Flex Ready®-style aggregator data items ↔ OpenADR 2.0b events. Pure: no I/O.

The five data items (the 15-minute clock, maximum power, price, subscribed power, carbon
intensity), orders and their acknowledgements. "Flex Ready®-style": no public specification
exists, so this is our own mapping, never a claim of compliance.
"""
