"""Errors of the local helpers, in one module so the CLI catches the base without loading more."""

from __future__ import annotations


class LocalKafkaError(RuntimeError):
    """Base error of the local-cluster helpers; messages say what the user can do."""


class DistributionError(LocalKafkaError):
    """The Kafka jars could not be found or fetched."""


class LocalClusterError(LocalKafkaError):
    """The local cluster could not be started, inspected or stopped."""


class ClusterMismatchError(LocalClusterError):
    """``up`` was asked for a different cluster than the one running; we never replace a
    running cluster (and its topics) implicitly."""


class PortClashError(LocalClusterError):
    """A picked port was taken before the broker bound it; starting again fixes it."""
