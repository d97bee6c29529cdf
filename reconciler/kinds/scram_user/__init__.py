"""The ScramUser kind: SASL/SCRAM users, on self-managed Kafka or through MSK's secrets."""
