"""observe -> plan -> apply of MskCluster specs through boto3 against the local MSK endpoint,
with CloudWatch Logs served by moto. Each rule of issue 3 point 3 and each apply behaviour of
point 4, end to end: after a successful apply, planning again gives no changes.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.clients.aws import Service, kafka_client, logs_client
from reconciler.clients.session import pick_bootstrap
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Change, Risk
from reconciler.kinds.base import ApplyOptions, Outcome
from reconciler.kinds.msk_cluster.apply import apply_changes
from reconciler.kinds.msk_cluster.diff import cluster_warnings, plan_cluster
from reconciler.kinds.msk_cluster.model import MskObserved
from reconciler.kinds.msk_cluster.observe import fingerprint, observe_cluster, observe_spec
from reconciler.kinds.msk_cluster.spec import MskClusterSpec, parse_cluster
from reconciler.local.msk.server import MskServer, start_msk_server
from tests.unit.test_msk_spec import SEED_DOC
from tests.unit.test_msk_wire import WireLog

if TYPE_CHECKING:
    from mypy_boto3_kafka import KafkaClient
    from mypy_boto3_logs import CloudWatchLogsClient

REGION = "eu-central-1"
TLS_BOOTSTRAP = "127.0.0.1:19093"
OPERATION_SECONDS = 0.4
GROUP = "/aws/msk/malawi-pg-kafka-cluster"


@dataclass
class Env:
    """One local MSK endpoint, its clients and what apply reported."""

    msk: MskServer
    kafka: KafkaClient
    logs: CloudWatchLogsClient
    wire: WireLog
    progress: list[str] = field(default_factory=list)

    @property
    def msk_api(self) -> Service:
        return Service(self.kafka, "MSK")

    @property
    def logs_api(self) -> Service:
        return Service(self.logs, "CloudWatch Logs")

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.msk.backend.clock_offset)

    def observe(self, spec: MskClusterSpec) -> MskObserved:
        return observe_spec(self.msk_api, self.logs_api, spec)

    def plan(self, spec: MskClusterSpec, **options: Any) -> list[Change]:
        return plan_cluster(spec, self.observe(spec), now=self.now(), **options)

    def apply(self, changes: list[Change], wait: float = 10.0) -> list[Outcome]:
        options = ApplyOptions(self.progress.append, wait_seconds=wait, poll_seconds=0.05)
        return apply_changes(self.msk_api, self.logs_api, changes, options)

    def converge(self, spec: MskClusterSpec) -> list[Outcome]:
        """Plan, apply, and check the next plan is empty (invariant 1)."""
        outcomes = self.apply(self.plan(spec))
        assert all(o.done for o in outcomes), [o.detail for o in outcomes]
        assert self.plan(spec) == []
        return outcomes


@pytest.fixture
def env(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    reset = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    with start_msk_server(
        kafka_bootstrap="127.0.0.1:19092",
        kafka_tls_bootstrap=TLS_BOOTSTRAP,
        operation_seconds=OPERATION_SECONDS,
        storage_cooldown_seconds=3600,
    ) as msk:
        wire = WireLog()
        kafka = wire.attach(kafka_client(REGION, msk.endpoint_url))
        yield Env(msk, kafka, logs_client(REGION, moto_url), wire)
        assert wire.problems() == []


def spec(**changes: Any) -> MskClusterSpec:
    """The seed cluster's spec with spec keys changed ("a__b" sets spec.a.b)."""
    doc = copy.deepcopy(SEED_DOC)
    for key, value in changes.items():
        node = doc["spec"]
        *parents, leaf = key.split("__")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return parse_cluster(doc)


def operations(changes: list[Change]) -> list[str]:
    return [str(c.operation) for c in changes]


def created(env: Env) -> MskClusterSpec:
    seed = spec()
    env.converge(seed)
    return seed


def test_a_missing_cluster_is_created_with_its_log_group_and_configuration(env: Env) -> None:
    seed = spec()
    plan = env.plan(seed)
    assert operations(plan) == [
        "CreateLogGroup",
        "PutRetentionPolicy",
        "CreateConfiguration",
        "CreateClusterV2",
    ]
    outcomes = env.apply(plan)
    assert [o.done for o in outcomes] == [True] * 4
    assert env.plan(seed) == []
    groups = env.logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups] == [(GROUP, 7)]
    cluster = observe_cluster(env.msk_api, env.logs_api, seed.name)
    assert cluster is not None and cluster.configuration is not None
    assert cluster.configuration.label == "malawi-pg-kafka-cluster:1"
    assert cluster.actual.server_properties == seed.server_properties
    assert pick_bootstrap(cluster.bootstrap_brokers, "SSL", None) == TLS_BOOTSTRAP


def test_a_server_property_change_plans_a_new_revision_and_applies_it(env: Env) -> None:
    seed = created(env)
    changed = dataclasses.replace(
        seed, server_properties={**(seed.server_properties or {}), "num.partitions": "6"}
    )
    before = fingerprint(None, env.observe(changed))
    assert fingerprint(None, env.observe(changed)) == before  # reading changes nothing
    plan = env.plan(changed)
    assert operations(plan) == ["UpdateConfiguration", "UpdateClusterConfiguration"]
    assert plan[0].diff[0].after == "malawi-pg-kafka-cluster:2"
    env.apply(plan)
    cluster = observe_cluster(env.msk_api, env.logs_api, changed.name)
    assert cluster is not None and cluster.configuration is not None
    assert cluster.configuration.label == "malawi-pg-kafka-cluster:2"
    assert cluster.configuration.server_properties["num.partitions"] == "6"
    assert env.plan(changed) == []
    assert fingerprint(None, env.observe(changed)) != before  # a saved plan from before is stale


def test_two_updates_run_one_after_another_each_waiting_for_the_previous(env: Env) -> None:
    seed = created(env)
    bigger = dataclasses.replace(
        seed,
        instance_type="kafka.m5.large",
        broker_count=4,
        storage=dataclasses.replace(seed.storage, volume_size_gib=200),
    )
    plan = env.plan(bigger)
    assert operations(plan) == ["UpdateBrokerType", "UpdateBrokerCount", "UpdateBrokerStorage"]
    env.apply(plan)
    assert env.plan(bigger) == []
    cluster = observe_cluster(env.msk_api, env.logs_api, seed.name)
    assert cluster is not None
    runs = sorted((o for o in cluster.operations if o.type != "CREATE"), key=lambda o: o.start or 0)
    assert [o.type for o in runs] == [
        "UPDATE_BROKER_TYPE",
        "INCREASE_BROKER_COUNT",
        "UPDATE_BROKER_STORAGE",
    ]
    for earlier, later in itertools.pairwise(runs):
        assert earlier.end is not None and later.start is not None
        assert later.start >= earlier.end  # never two operations at once
    assert any("step 1/3, UPDATE_BROKER_TYPE IN_PROGRESS" in line for line in env.progress)


def test_a_broker_count_that_is_not_a_multiple_of_the_az_count_is_refused(env: Env) -> None:
    seed = created(env)
    plan = env.plan(dataclasses.replace(seed, broker_count=3))
    assert [(c.operation, c.risk) for c in plan] == [("UpdateBrokerCount", Risk.IMPOSSIBLE)]
    assert "cannot be spread evenly over 2 Availability Zones" in plan[0].reasons[0]
    with pytest.raises(ReconcilerError, match="nothing was applied"):
        env.apply(plan)


def test_brokers_are_removed_only_as_msk_allows(env: Env) -> None:
    seed = created(env)
    assert env.plan(dataclasses.replace(seed, broker_count=4))[0].risk is Risk.SAFE
    on_t3 = dataclasses.replace(seed, broker_count=4)
    env.converge(on_t3)
    refused = env.plan(seed)
    assert refused[0].blocked and "only from M5 and M7g clusters" in refused[0].reasons[0]
    m5 = dataclasses.replace(on_t3, instance_type="kafka.m5.large")
    env.converge(m5)
    removal = env.plan(dataclasses.replace(m5, broker_count=2))
    assert [(c.operation, c.risk) for c in removal] == [("UpdateBrokerCount", Risk.DISRUPTIVE)]
    env.apply(removal)
    assert env.plan(dataclasses.replace(m5, broker_count=2)) == []
    cluster = observe_cluster(env.msk_api, env.logs_api, seed.name)
    assert cluster is not None and cluster.operations[0].type == "DECREASE_BROKER_COUNT"


def test_a_storage_decrease_is_refused(env: Env) -> None:
    seed = created(env)
    smaller = dataclasses.replace(
        seed, storage=dataclasses.replace(seed.storage, volume_size_gib=50)
    )
    plan = env.plan(smaller)
    assert [(c.operation, c.risk) for c in plan] == [("UpdateBrokerStorage", Risk.IMPOSSIBLE)]
    assert "cannot shrink broker storage" in plan[0].reasons[0]


def test_storage_grows_again_only_after_the_cooldown_read_from_history(env: Env) -> None:
    seed = created(env)
    first = dataclasses.replace(
        seed, storage=dataclasses.replace(seed.storage, volume_size_gib=200)
    )
    env.converge(first)
    second = dataclasses.replace(
        seed, storage=dataclasses.replace(seed.storage, volume_size_gib=300)
    )
    blocked = env.plan(second, storage_cooldown=timedelta(hours=1))
    assert (
        blocked[0].blocked and "Way out: run apply again after that time" in blocked[0].reasons[0]
    )
    env.msk.advance_clock(3601)
    plan = env.plan(second, storage_cooldown=timedelta(hours=1))
    assert not plan[0].blocked
    env.apply(plan)
    assert env.plan(second, storage_cooldown=timedelta(hours=1)) == []


def test_instance_type_and_version_rules_come_from_msk(env: Env) -> None:
    seed = created(env)
    downgrade = env.plan(dataclasses.replace(seed, kafka_version="3.4.0"))
    assert downgrade[0].blocked and "offers 3.6.0, 3.7.x, 3.8.x, 3.9.x" in downgrade[0].reasons[0]
    upgraded = dataclasses.replace(seed, kafka_version="3.6.0", instance_type="kafka.m5.large")
    env.converge(upgraded)
    back = env.plan(dataclasses.replace(upgraded, instance_type="kafka.t3.small"))
    assert back[0].blocked and "down to kafka.t3.small" in back[0].reasons[0]


def test_fields_fixed_at_creation_are_impossible(env: Env) -> None:
    seed = created(env)
    moved = dataclasses.replace(seed, client_subnets=("subnet-x", "subnet-y"))
    plan = env.plan(moved)
    assert len(plan) == 1 and plan[0].blocked and plan[0].operation is None
    assert "fixed when MSK creates the cluster" in plan[0].reasons[0]


def test_a_stale_current_version_is_reread_and_the_update_retried(env: Env) -> None:
    seed = created(env)
    other = kafka_client(REGION, env.msk.endpoint_url)
    raced = threading.Event()

    def another_writer(**_: Any) -> None:
        """Just before our UpdateBrokerStorage goes out, someone else updates the cluster."""
        if raced.is_set():
            return
        raced.set()
        cluster = other.list_clusters_v2()["ClusterInfoList"][0]
        env.msk.backend.operation_seconds = 1.5  # still running when our apply looks
        other.update_monitoring(
            ClusterArn=cluster["ClusterArn"],
            CurrentVersion=cluster["CurrentVersion"],
            EnhancedMonitoring="PER_BROKER",
        )
        env.msk.backend.operation_seconds = OPERATION_SECONDS

    env.kafka.meta.events.register("before-call.kafka.UpdateBrokerStorage", another_writer)
    bigger = dataclasses.replace(
        seed, storage=dataclasses.replace(seed.storage, volume_size_gib=200)
    )
    outcomes = env.apply(env.plan(bigger))
    assert [o.done for o in outcomes] == [True]
    assert any("the cluster version changed meanwhile; re-reading" in p for p in env.progress)
    assert any("waiting for MSK cluster" in p and "UPDATE_MONITORING" in p for p in env.progress)
    assert env.plan(dataclasses.replace(bigger, enhanced_monitoring="PER_BROKER")) == []


def test_an_operation_in_flight_is_reported_and_waited_for(env: Env) -> None:
    seed = created(env)
    cluster = env.kafka.list_clusters_v2()["ClusterInfoList"][0]
    env.msk.backend.operation_seconds = 1.5  # someone else's long update...
    env.kafka.update_broker_type(
        ClusterArn=cluster["ClusterArn"],
        CurrentVersion=cluster["CurrentVersion"],
        TargetInstanceType="kafka.m5.large",
    )
    env.msk.backend.operation_seconds = OPERATION_SECONDS  # ...then ours
    wanted = dataclasses.replace(seed, instance_type="kafka.m5.large", broker_count=4)
    seen = env.observe(wanted)
    assert seen.cluster is not None and seen.cluster.busy
    warnings = cluster_warnings(wanted, seen, today=env.now().date())
    assert "operation UPDATE_BROKER_TYPE" in warnings[0] and "Apply waits for it" in warnings[0]
    plan = plan_cluster(wanted, seen, now=env.now())
    assert operations(plan) == ["UpdateBrokerType", "UpdateBrokerCount"]
    outcomes = env.apply(plan)
    assert [o.detail for o in outcomes] == [
        "UpdateBrokerType: already in place",
        "UpdateBrokerCount: UPDATE_COMPLETE",
    ]
    assert any(p.startswith("waiting for MSK cluster") for p in env.progress)
    assert env.plan(wanted) == []


def test_update_failed_reports_msks_error_and_stops_the_rest(env: Env) -> None:
    seed = created(env)
    env.msk.inject_failure(seed.name, "UPDATE_BROKER_TYPE", "BrokerUnhealthy", "broker 1 is down")
    wanted = dataclasses.replace(
        seed,
        instance_type="kafka.m5.large",
        storage=dataclasses.replace(seed.storage, volume_size_gib=200),
    )
    outcomes = env.apply(env.plan(wanted))
    assert [o.done for o in outcomes] == [False, False]
    assert "UpdateBrokerType failed: MSK reports BrokerUnhealthy broker 1 is down" in (
        outcomes[0].detail
    )
    assert (
        outcomes[1].detail
        == "not attempted: UpdateBrokerType on malawi-pg-kafka-cluster did not complete"
    )
    assert operations(env.plan(wanted)) == ["UpdateBrokerType", "UpdateBrokerStorage"]


def test_waiting_is_bounded(env: Env) -> None:
    seed = created(env)
    env.msk.backend.operation_seconds = 30
    outcomes = env.apply(env.plan(dataclasses.replace(seed, enhanced_monitoring="PER_BROKER")), 0.3)
    assert not outcomes[0].done
    assert "UpdateMonitoring was still" in outcomes[0].detail
    assert "after 0.3s; MSK keeps running it" in outcomes[0].detail


def test_security_then_public_access_then_tags_and_retention(env: Env) -> None:
    seed = created(env)
    wanted = spec(
        clientAuthentication={"unauthenticated": False, "sasl": {"iam": True}},
        brokers__publicAccess=True,
        tags={"Environment": "dev", "Team": "payments"},
        logging__cloudWatch__retentionDays=14,
    )
    assert wanted.name == seed.name
    plan = env.plan(wanted)
    assert [(c.operation, c.risk) for c in plan] == [
        ("UpdateSecurity", Risk.DISRUPTIVE),
        ("PutRetentionPolicy", Risk.SAFE),
        ("UpdateConnectivity", Risk.DISRUPTIVE),
        ("TagResource", Risk.SAFE),
    ]
    env.apply(plan)
    assert env.plan(wanted) == []
    cluster = observe_cluster(env.msk_api, env.logs_api, seed.name)
    assert cluster is not None
    assert cluster.bootstrap_brokers["BootstrapBrokerStringPublicSaslIam"] == TLS_BOOTSTRAP
    shorter = spec(
        clientAuthentication={"unauthenticated": False, "sasl": {"iam": True}},
        brokers__publicAccess=True,
        tags={"Environment": "dev", "Team": "payments"},
        logging__cloudWatch__retentionDays=3,
    )
    assert [(c.operation, c.risk) for c in env.plan(shorter)] == [
        ("PutRetentionPolicy", Risk.DESTRUCTIVE)
    ]


def test_throttled_reads_are_retried(env: Env) -> None:
    seed = created(env)
    env.msk.throttle(1)
    started = time.monotonic()
    assert env.plan(seed) == []
    assert time.monotonic() - started < 10
