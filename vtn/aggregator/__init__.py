"""The aggregator API, Flex Ready®-style: JSON over HTTP at /flexready/v1, bearer tokens per aggregator."""
