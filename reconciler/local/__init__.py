"""A real local Apache Kafka cluster (KRaft) for trying the tool and for the tests."""
