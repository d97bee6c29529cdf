"""The Kafka version's MSK lifecycle in a plan: support dates, the upgrade path, the policy.

MSK ends support for each Kafka version on a date (`rules.KAFKA_VERSIONS`, with its source and
when it was checked); a cluster past it may be upgraded by MSK at any time. The plan warns
about the running and the wanted version past or near that date, names where the cluster can
go (GetCompatibleKafkaVersions, else the table's paths), and with `policy.endOfSupport: error`
refuses a spec that stays on an ended version. Pure.
"""

from __future__ import annotations

from datetime import date

from reconciler.core.changes import blocked, make_change
from reconciler.core.model import Action, Change, FieldDiff, Risk
from reconciler.kinds.msk_cluster import rules
from reconciler.kinds.msk_cluster.model import ObservedCluster
from reconciler.kinds.msk_cluster.spec import KIND, MskClusterSpec


def _offered(spec: MskClusterSpec, cluster: ObservedCluster | None) -> tuple[tuple[str, ...], str]:
    """Where the cluster can go, and who says so: MSK's GetCompatibleKafkaVersions for a live
    cluster, else the table's upgrade paths from the spec's version."""
    if cluster is not None and cluster.compatible_versions:
        return cluster.compatible_versions, "GetCompatibleKafkaVersions"
    source = cluster.actual.kafka_version if cluster else spec.kafka_version
    return rules.compatible_targets(source), f"MSK's upgrade paths from {source}"


def upgrade_path(offered: tuple[tuple[str, ...], str], today: date) -> str:
    """The supported versions among `offered`, MSK's recommended one named, the rest said."""
    versions, source = offered
    good = rules.still_supported(versions, today)
    ended = [v for v in versions if v not in good]
    if not good:
        return (
            f"{source} offers no supported version ({', '.join(versions) or 'none'}): create a "
            "cluster on a supported version and migrate to it (MSK Replicator)"
        )
    text = f"upgrade path ({source}): {', '.join(good)}"
    if rules.RECOMMENDED_VERSION in good:
        text += f"; MSK recommends {rules.RECOMMENDED_VERSION}"
    if ended:
        text += f"; {', '.join(ended)} also offered, but past the end of support too"
    return text


def _past_or_near(state: rules.Support, whose: str) -> str:
    end = f"{state.end_of_support:%Y-%m-%d}"
    after = (
        f"MSK may upgrade the cluster to its recommended version ({rules.RECOMMENDED_VERSION}) "
        "at any time, without notice (version-support.html)"
    )
    if state.status == "ended":
        return f"Kafka {state.version} ({whose}) reached the end of MSK support on {end}: {after}"
    return (
        f"Kafka {state.version} ({whose}) reaches the end of MSK support on {end}, in "
        f"{state.days_left} days; after that {after}"
    )


def version_warnings(
    spec: MskClusterSpec, cluster: ObservedCluster | None, today: date
) -> list[str]:
    """The running and the wanted Kafka version against MSK's support dates: past the end of
    support or within END_OF_SUPPORT_NOTICE of it (with the upgrade path), or not in the table."""
    running = cluster.actual.kafka_version if cluster else None
    wanted = spec.kafka_version
    path = upgrade_path(_offered(spec, cluster), today)
    upgrading = running is not None and wanted != running
    if rules.support(wanted, today).status in {"supported", "unknown"}:
        way_out = f"This plan upgrades it to {wanted}" if upgrading else ""
    else:
        way_out = f"Way out: set kafkaVersion to a supported version; {path}"
    found = []
    for version, whose in ((running, "the cluster's version"), (wanted, "the spec's")):
        if version is None or (whose == "the spec's" and not upgrading and running):
            continue
        state = rules.support(version, today)
        if state.status == "unknown":
            found.append(
                f"Kafka {version} ({whose}) is not in the reconciler's table of MSK versions "
                f"(checked {rules.KAFKA_VERSIONS_CHECKED:%Y-%m-%d}): its end of support is not "
                "known here; see supported-kafka-versions.html"
            )
        elif state.status != "supported":
            text = _past_or_near(state, whose)
            found.append(f"{text}. {way_out}" if way_out else text)
    return found


def refuse_unsupported(
    spec: MskClusterSpec, cluster: ObservedCluster | None, changes: list[Change], today: date
) -> list[Change]:
    """policy.endOfSupport: error. A spec whose version is past MSK's end of support cannot
    be applied; moving off such a version is the way out, so that is never refused."""
    state = rules.support(spec.kafka_version, today)
    if state.status != "ended":
        return changes
    path = upgrade_path(_offered(spec, cluster), today)
    reason = (
        f"Kafka {spec.kafka_version} reached the end of MSK support on "
        f"{state.end_of_support:%Y-%m-%d} and the Environment's policy.endOfSupport is error. "
        f"Way out: set kafkaVersion to a supported version; {path}; or set "
        "policy.endOfSupport: warn"
    )
    refused = {"CreateClusterV2", "UpdateClusterKafkaVersion"}
    if any(c.operation in refused for c in changes):
        return [blocked(c, reason) if c.operation in refused else c for c in changes]
    running = cluster.actual.kafka_version if cluster else None
    diff = FieldDiff("kafkaVersion", running, spec.kafka_version, Risk.IMPOSSIBLE, reason)
    return [make_change(KIND, spec.name, Action.UPDATE, [diff]), *changes]
