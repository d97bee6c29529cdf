"""Declarative GitOps reconciler for Amazon MSK and Apache Kafka."""

__version__ = "0.1.0"
