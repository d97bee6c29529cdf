"""The pure core: plan values, errors, digests, ownership, units, polling and Kafka's config
knowledge. Nothing here does I/O or imports a client library."""
