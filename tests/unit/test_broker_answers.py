"""Which broker answered a Metadata request: the check behind every per-broker read."""

from __future__ import annotations

from confluent_kafka.admin import ClusterMetadata

from reconciler.clients.kafka import answered_by


def _answer(broker_id: int, name: str) -> ClusterMetadata:
    metadata = ClusterMetadata()
    metadata.orig_broker_id = broker_id
    metadata.orig_broker_name = name  # type: ignore[assignment]  # the stubs say None only
    return metadata


def test_a_broker_answers_by_its_id_or_as_the_bootstrap_server_it_is() -> None:
    assert answered_by(_answer(2, "10.0.0.2:9092/2"), 2, "10.0.0.2:9092")
    # Before librdkafka has matched the bootstrap server to an id, it answers as "/bootstrap".
    assert answered_by(_answer(-1, "10.0.0.2:9092/bootstrap"), 2, "10.0.0.2:9092")


def test_another_broker_or_another_bootstrap_server_is_not_this_broker() -> None:
    assert not answered_by(_answer(1, "10.0.0.1:9092/1"), 2, "10.0.0.2:9092")
    assert not answered_by(_answer(-1, "10.0.0.1:9092/bootstrap"), 2, "10.0.0.2:9092")
    assert not answered_by(_answer(-1, ""), 2, "10.0.0.2:9092")
