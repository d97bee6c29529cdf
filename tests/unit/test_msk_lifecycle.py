"""Kafka version lifecycle: MSK's support table, the plan's warnings and the upgrade path, and
the Environment policy that makes a version past its end of support an error."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from reconciler.core.model import Risk
from reconciler.engine.load import load
from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.diff import cluster_warnings, plan_cluster
from reconciler.kinds.msk_cluster.lifecycle import version_warnings
from reconciler.kinds.msk_cluster.model import MskDesired, MskObserved
from reconciler.kinds.msk_cluster.spec import parse_cluster
from tests.unit.test_msk_diff import SEED, live, observed
from tests.unit.test_msk_spec import SEED_DOC

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_the_table_holds_msks_dates_with_its_source_and_check_date() -> None:
    by_name = rules.VERSIONS_BY_NAME
    assert by_name["3.5.1"].end_of_support == date(2025, 10, 23)  # as issue 13 says
    assert by_name["3.6.0"].end_of_support == date(2026, 6, 1)
    assert by_name["3.7.x"].end_of_support == by_name["3.7.x.kraft"].end_of_support
    assert by_name["4.1.x.kraft"].end_of_support is None
    assert "supported-kafka-versions.html" in rules.KAFKA_VERSIONS_SOURCE
    assert rules.support(rules.RECOMMENDED_VERSION, TODAY).status == "supported"
    keys = [rules.version_key(v.version) for v in rules.KAFKA_VERSIONS]
    assert keys == sorted(keys)  # oldest first, one row per version
    assert len(by_name) == len(rules.KAFKA_VERSIONS)


def test_support_status_ends_on_the_day_and_warns_ninety_days_ahead() -> None:
    end = date(2025, 10, 23)
    assert rules.support("3.5.1", end).status == "ended"
    assert rules.support("3.5.1", date(2025, 10, 22)) == rules.Support("3.5.1", "ending", end, 1)
    assert rules.support("3.5.1", date(2025, 7, 25)).status == "ending"  # 90 days before
    assert rules.support("3.5.1", date(2025, 7, 24)).status == "supported"
    assert rules.support("3.9.x", TODAY).status == "supported"
    assert rules.support("9.9.x", TODAY).status == "unknown"


def test_upgrades_stay_in_their_metadata_mode() -> None:
    assert rules.compatible_targets("3.5.1") == ("3.6.0", "3.7.x", "3.8.x", "3.9.x")
    kraft = ("3.8.x.kraft", "3.9.x.kraft", "4.0.x.kraft", "4.1.x.kraft")
    assert rules.compatible_targets("3.7.x.kraft") == kraft
    assert "2.8.2.tiered" not in rules.compatible_targets("2.8.1")
    assert rules.still_supported(("3.6.0", "3.7.x", "3.8.x", "3.9.x"), TODAY) == ("3.8.x", "3.9.x")


def test_the_seed_cluster_past_its_end_of_support_gets_the_upgrade_path() -> None:
    [warning] = version_warnings(SEED, observed().cluster, TODAY)
    assert warning.startswith(
        "Kafka 3.5.1 (the cluster's version) reached the end of MSK support on 2025-10-23: "
        "MSK may upgrade the cluster to its recommended version (3.8.x) at any time"
    )
    assert "upgrade path (GetCompatibleKafkaVersions): 3.8.x, 3.9.x; MSK recommends 3.8.x" in (
        warning
    )
    assert "3.6.0, 3.7.x also offered, but past the end of support too" in warning
    assert "Way out: set kafkaVersion to a supported version" in warning
    assert warning in cluster_warnings(SEED, observed(), today=TODAY)


def test_a_version_near_its_end_warns_with_the_days_left() -> None:
    on_37 = dataclasses.replace(SEED, kafka_version="3.7.x")
    seen = observed(live(kafka_version="3.7.x"))
    [warning] = version_warnings(on_37, seen.cluster, date(2026, 7, 1))
    assert "reaches the end of MSK support on 2026-09-01, in 62 days" in warning
    assert version_warnings(on_37, seen.cluster, date(2026, 6, 1)) == []  # 92 days ahead


def test_a_plan_that_upgrades_says_so_and_a_target_past_its_end_is_no_way_out() -> None:
    upgrading = dataclasses.replace(SEED, kafka_version="3.8.x")
    [warning] = version_warnings(upgrading, observed().cluster, TODAY)
    assert warning.endswith("This plan upgrades it to 3.8.x")
    to_36 = dataclasses.replace(SEED, kafka_version="3.6.0")
    running, target = version_warnings(to_36, observed().cluster, TODAY)
    assert running.startswith("Kafka 3.5.1 (the cluster's version)")
    assert target.startswith(
        "Kafka 3.6.0 (the spec's) reached the end of MSK support on 2026-06-01"
    )


def test_a_cluster_to_create_is_judged_by_the_specs_version() -> None:
    [warning] = version_warnings(SEED, None, TODAY)
    assert warning.startswith("Kafka 3.5.1 (the spec's) reached the end of MSK support")
    assert "upgrade path (MSK's upgrade paths from 3.5.1): 3.8.x, 3.9.x" in warning
    assert version_warnings(dataclasses.replace(SEED, kafka_version="3.9.x"), None, TODAY) == []


def test_a_version_missing_from_the_table_is_said_not_guessed() -> None:
    newer = dataclasses.replace(SEED, kafka_version="4.2.x.kraft")
    [warning] = version_warnings(newer, None, TODAY)
    assert "is not in the reconciler's table of MSK versions (checked 2026-12-01)" in warning


def test_policy_error_refuses_a_plan_that_keeps_an_unsupported_version() -> None:
    changes = plan_cluster(SEED, observed(), now=NOW, end_of_support="error")
    refusal = changes[0]
    assert refusal.blocked and refusal.operation is None
    assert [(d.field, d.before, d.after, d.risk) for d in refusal.diff] == [
        ("kafkaVersion", "3.5.1", "3.5.1", Risk.IMPOSSIBLE)
    ]
    assert "policy.endOfSupport is error" in refusal.reasons[0]
    assert "Way out: set kafkaVersion to a supported version; upgrade path" in refusal.reasons[0]
    assert plan_cluster(SEED, observed(), now=NOW) == []  # warn (the default) plans nothing


@pytest.mark.parametrize(("target", "blocked"), [("3.8.x", False), ("3.6.0", True)])
def test_policy_error_lets_the_upgrade_through_and_refuses_a_bad_target(
    target: str, blocked: bool
) -> None:
    upgrade = plan_cluster(
        dataclasses.replace(SEED, kafka_version=target),
        observed(),
        now=NOW,
        end_of_support="error",
    )
    assert [(c.operation, c.blocked) for c in upgrade] == [("UpdateClusterKafkaVersion", blocked)]


def test_policy_error_refuses_to_create_a_cluster_on_an_unsupported_version() -> None:
    created = plan_cluster(SEED, MskObserved(None), now=NOW, end_of_support="error")
    assert [c.operation for c in created if c.blocked] == ["CreateClusterV2"]


ENVIRONMENT = """\
apiVersion: reconciler/v1
kind: Environment
metadata: {name: dev}
spec:
  kafka: {bootstrapServers: "127.0.0.1:9092", securityProtocol: PLAINTEXT}
  msk: {region: eu-central-1, clusterName: malawi-pg-kafka-cluster}
"""


def test_the_policy_comes_from_the_environment_and_is_part_of_the_specs_digest(
    tmp_path: Path,
) -> None:
    env_dir = tmp_path / "dev"  # an environment is named after its directory
    env_dir.mkdir()
    (env_dir / "cluster.yaml").write_text(yaml.safe_dump(SEED_DOC), encoding="utf-8")
    digests = []
    for policy, expected in (("", "warn"), ("  policy: {endOfSupport: error}\n", "error")):
        (env_dir / "environment.yaml").write_text(ENVIRONMENT + policy, encoding="utf-8")
        loaded = load(env_dir)
        desired = loaded.kinds["MskCluster"]
        assert isinstance(desired, MskDesired)
        assert (desired.spec, desired.region, desired.end_of_support) == (
            parse_cluster(SEED_DOC),
            "eu-central-1",
            expected,
        )
        digests.append(loaded.digest)
    assert digests[0] != digests[1]
