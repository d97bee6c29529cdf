"""Kafka's config knowledge, shared by topic configs and broker (MSK server) properties:
the catalogs, one normaliser, and the risk of each change."""
