"""`reconciler local ...`: a real local Apache Kafka cluster (KRaft) and MSK endpoint."""

from __future__ import annotations

import sys

import click

from reconciler.local.kafka import cluster as local_cluster
from reconciler.local.kafka.distribution import DEFAULT_KAFKA_VERSION
from reconciler.local.msk import endpoint as msk_endpoint


@click.group()
def local() -> None:
    """A real local Apache Kafka cluster (KRaft) on loopback, for trying the tool and for tests."""


@local.command("up")
@click.option("--brokers", default=3, show_default=True, help="Number of brokers.")
@click.option(
    "--racks", default=3, show_default=True, help="Racks (AZs) the brokers are spread over."
)
@click.option("--kafka-version", default=DEFAULT_KAFKA_VERSION, show_default=True)
@click.option(
    "--timeout", default=180.0, show_default=True, help="Seconds to wait for the brokers."
)
def local_up(brokers: int, racks: int, kafka_version: str, timeout: float) -> None:
    """Start the cluster (or keep the running one) and print shell exports of its address.

    Use it as: eval "$(reconciler local up)"
    """
    started = local_cluster.up(brokers=brokers, version=kafka_version, timeout=timeout, racks=racks)
    endpoint = msk_endpoint.start(started.state_dir, started.bootstrap_servers)
    click.echo(
        f"# Kafka {started.kafka_version}: {len(started.brokers)} brokers at "
        f"{started.bootstrap_servers}; MSK endpoint {endpoint.url} "
        f"(cluster {msk_endpoint.LOCAL_CLUSTER!r})",
        err=True,
    )
    click.echo(local_cluster.shell_exports(started))
    click.echo(f"export {msk_endpoint.ENDPOINT_ENV}={endpoint.url}")


@local.command("down")
def local_down() -> None:
    """Stop the cluster and remove its data (harmless when nothing runs)."""
    msk_endpoint.stop(local_cluster.default_state_dir())
    removed = local_cluster.down()
    click.echo(
        "Local Kafka cluster stopped and removed." if removed else "No local cluster to stop."
    )


@local.command("status")
def local_status() -> None:
    """Show the local cluster's brokers and whether they run; exit 1 when it does not."""
    found = local_cluster.status()
    click.echo(local_cluster.render_status(found))
    endpoint = msk_endpoint.running(local_cluster.default_state_dir())
    click.echo(
        f"  MSK endpoint:       {endpoint.url} (pid {endpoint.pid})"
        if endpoint
        else "  MSK endpoint:       not running"
    )
    if found is None or not found.alive:
        sys.exit(1)
