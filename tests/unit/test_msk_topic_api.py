"""`kafka.api: msk` without a cluster: the Configs encoding, the API's requirements, refusals
turned into what to do, and what a plan through it can and cannot say (pure diff)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from botocore.stub import Stubber

from reconciler.clients.aws import Service, kafka_client
from reconciler.clients.msk_topics import (
    MskTopicAdmin,
    check_cluster,
    decode_configs,
    encode_configs,
    version_tuple,
)
from reconciler.clients.topics import UNNAMED_SOURCE
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Plan, Risk
from reconciler.kinds.topic.model import (
    ObservedConfig,
    ObservedTopic,
    ObservedTopics,
    PlacementPolicy,
    TopicSpec,
)
from reconciler.kinds.topic.record import dump_observed, load_observed
from tests.planning import desired_of, observed_of, plan_of
from tests.unit.test_diff import env, live, spec

ARN = "arn:aws:kafka:eu-central-1:123456789012:cluster/demo/11111111-2222-3333-4444-555555555555-1"


def test_configs_are_base64_of_a_json_object_of_strings() -> None:
    encoded = encode_configs({"retention.ms": "3600000", "cleanup.policy": "compact"})
    assert json.loads(base64.b64decode(encoded)) == {
        "cleanup.policy": "compact",
        "retention.ms": "3600000",
    }
    assert decode_configs(encoded) == {"cleanup.policy": "compact", "retention.ms": "3600000"}


def test_describe_topic_configs_read_in_either_documented_form() -> None:
    # AWS's developer guide (describe-topic-cli) shows this answer: properties lines.
    documented = "Y29tcHJlc3Npb24udHlwZT1wcm9kdWNlcgpyZXRlbnRpb24ubXM9NjA0ODAwMDAw"
    assert decode_configs(documented) == {
        "compression.type": "producer",
        "retention.ms": "604800000",
    }
    typed = base64.b64encode(b'{"retention.ms": 604800000, "preallocate": false}').decode()
    assert decode_configs(typed) == {"retention.ms": "604800000", "preallocate": "false"}
    assert decode_configs(None) == {} and decode_configs("") == {}


@pytest.mark.parametrize("broken", ["not base64!", base64.b64encode(b"[1, 2]").decode()])
def test_configs_msk_should_never_send_are_an_error_not_a_guess(broken: str) -> None:
    with pytest.raises(ReconcilerError, match="MSK returned topic configs"):
        decode_configs(broken)


def cluster_info(**changes: object) -> dict[str, object]:
    info: dict[str, object] = {
        "ClusterName": "demo",
        "ClusterType": "PROVISIONED",
        "State": "ACTIVE",
        "Provisioned": {"CurrentBrokerSoftwareInfo": {"KafkaVersion": "3.6.0"}},
    }
    info.update(changes)
    return info


def test_the_api_needs_a_provisioned_active_cluster_on_kafka_3_6_or_later() -> None:
    check_cluster(cluster_info())
    check_cluster(
        cluster_info(Provisioned={"CurrentBrokerSoftwareInfo": {"KafkaVersion": "3.7.x.kraft"}})
    )
    with pytest.raises(ReconcilerError, match=r"runs Kafka 3\.5\.1.*needs 3\.6\.0 or later"):
        check_cluster(
            cluster_info(Provisioned={"CurrentBrokerSoftwareInfo": {"KafkaVersion": "3.5.1"}})
        )
    with pytest.raises(ReconcilerError, match="serves Provisioned clusters"):
        check_cluster(cluster_info(ClusterType="SERVERLESS"))
    with pytest.raises(ReconcilerError, match=r"(?s)is UPDATING.*once its operation has finished"):
        check_cluster(cluster_info(State="UPDATING"))
    assert version_tuple("3.6.0.1") == (3, 6, 0, 1) and version_tuple("2.8.2.tiered") == (2, 8, 2)


def test_a_refused_call_says_which_iam_actions_the_role_needs() -> None:
    client = kafka_client("eu-central-1", endpoint_url="https://kafka.example.invalid")
    admin = MskTopicAdmin(Service(client, "MSK"), ARN, cluster_info(), timeout=5)
    with Stubber(client) as stub:  # botocore's own stub: requests checked against the model
        stub.add_client_error("list_topics", "ForbiddenException", "denied", 403)
        with pytest.raises(ReconcilerError) as raised:
            admin.topic_metadata()
    assert "kafka-cluster:Connect" in str(raised.value)
    assert "DescribeTopicDynamicConfiguration" in str(raised.value)


def test_removing_an_override_through_the_msk_api_is_an_error_with_the_way_out() -> None:
    client = kafka_client("eu-central-1", endpoint_url="https://kafka.example.invalid")
    admin = MskTopicAdmin(Service(client, "MSK"), ARN, cluster_info(), timeout=5)
    with Stubber(client):  # no call may be made: the stub would refuse any
        results = admin.alter_topic_configs({"a": [("retention.ms", None)]}, validate_only=False)
    assert "cannot remove" in str(results["a"]) and "declare the value" in str(results["a"])


def reported(value: str) -> ObservedConfig:
    return ObservedConfig(value, UNNAMED_SOURCE)


def plan_via_msk(
    specs: list[TopicSpec],
    live_topics: list[ObservedTopic],
    placement: PlacementPolicy | None = None,
) -> Plan:
    owner = env()
    if placement is not None:
        owner = replace(owner, placement=placement)
    desired = replace(owner, topics={s.name: s for s in specs})
    observed = ObservedTopics({t.name: t for t in live_topics}, api="msk")
    return plan_of(desired_of(Topic=desired), observed_of(Topic=observed))


def test_through_msk_only_declared_configs_are_compared() -> None:
    """MSK reports every value with no source: an undeclared one is never drift (a topic's
    own or a broker's default, nobody can tell), a declared one is compared."""
    topic = live("a", retention_ms=reported("3600000"), compression_type=reported("lz4"))
    plan = plan_via_msk([spec("a", compression_type="lz4")], [topic])
    assert plan.changes == ()
    [change] = plan_via_msk([spec("a", compression_type="zstd")], [topic]).changes
    assert [(d.field, d.before, d.after) for d in change.diff] == [
        ("config.compression.type", "lz4", "zstd")
    ]
    assert any("neither compared nor reset" in w for w in plan.warnings)


def test_through_msk_a_declared_config_msk_does_not_report_is_set_not_refused() -> None:
    [change] = plan_via_msk([spec("a", segment_ms="3600000")], [live("a")]).changes
    [diff] = change.diff
    assert (diff.field, diff.before, diff.after) == ("config.segment.ms", None, "3600000")
    assert change.risk is not Risk.IMPOSSIBLE


def test_through_msk_a_replication_factor_change_is_refused_with_the_way_out() -> None:
    [change] = plan_via_msk([spec("a", rf=3)], [live("a", rf=2)]).changes
    assert change.risk is Risk.IMPOSSIBLE
    assert "cannot change a replication factor" in change.reasons[0]
    assert "kafka.api: kafka" in change.reasons[0]


def test_through_msk_placement_is_not_planned_and_the_plan_says_so() -> None:
    skewed = replace(live("a", partitions=2, rf=1), replicas={0: (1,), 1: (1,)})
    plan = plan_via_msk([spec("a", 2, 1)], [skewed], PlacementPolicy(balance=True))
    assert plan.changes == ()  # balancing would move replicas: impossible here
    assert any("spec.placement is not applied" in w for w in plan.warnings)
    created = plan_via_msk([spec("new")], [])
    assert any("no validate-only mode" in w for w in created.warnings)


def test_a_snapshot_remembers_which_api_read_it() -> None:
    observed = ObservedTopics({"a": live("a", retention_ms=reported("1"))}, api="msk")
    again = load_observed(json.loads(json.dumps(dump_observed(observed))), "topics")
    assert again.api == "msk" and again.abilities.validates is False
    assert again.topics["a"].configs["retention.ms"].may_be_own("retention.ms")
    assert not again.topics["a"].configs["cleanup.policy"].may_be_own("cleanup.policy")
    older = dump_observed(observed)
    del older["api"]  # snapshots taken before the MSK API were read through Kafka's
    assert load_observed(older, "topics").api == "kafka"
