"""The local Apache Kafka cluster: KRaft brokers on loopback, from jars we locate or fetch."""
