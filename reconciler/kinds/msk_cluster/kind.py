"""The MskCluster kind, as the engine sees it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.core.errors import SpecProblem
from reconciler.core.record import decode, encode
from reconciler.kinds.base import Adopting, Discovered, Kind, Loading, deferred
from reconciler.kinds.msk_cluster import documents
from reconciler.kinds.msk_cluster.cost import BUNDLED, PriceTable, price_table
from reconciler.kinds.msk_cluster.fields import flatten
from reconciler.kinds.msk_cluster.model import MskDesired, MskObserved
from reconciler.kinds.msk_cluster.spec import KIND as NAME
from reconciler.kinds.msk_cluster.spec import (
    ClusterSpecError,
    MskClusterSpec,
    located_problems,
    parse_cluster,
)
from reconciler.specs.side_files import load_side_file
from reconciler.specs.yaml_source import Document

if TYPE_CHECKING:
    from reconciler.clients.session import Clients

PRICES_SCHEMA = "msk-prices.schema.json"


def _prices(loading: Loading) -> tuple[PriceTable, list[SpecProblem]]:
    """The bundled price table, under the Environment's `spec.cost.priceFile` if it names one."""
    doc = loading.document
    entry = ((doc.data["spec"].get("cost") or {}).get("priceFile")) if doc else None
    if doc is None or not entry:
        return BUNDLED, []
    path = ("spec", "cost", "priceFile")
    data, problems = load_side_file(
        entry,
        Path(doc.file).parent,
        where=doc.location(path),
        field=".".join(path),
        schema=PRICES_SCHEMA,
        boundary=loading.boundary,
    )
    if data is None:
        return BUNDLED, problems
    return BUNDLED.merged(price_table(data, entry)), []


def _desired(spec: MskClusterSpec, loading: Loading) -> tuple[MskDesired, list[SpecProblem]]:
    prices, problems = _prices(loading)
    policy = (loading.document.data["spec"].get("policy") or {}) if loading.document else {}
    environment = loading.environment
    region = environment.msk.region if environment and environment.msk else None
    cost = (loading.document.data["spec"].get("cost") or {}) if loading.document else {}
    wanted = MskDesired(spec, region, policy.get("endOfSupport", "warn"), prices)
    return replace(wanted, price_file=cost.get("priceFile")), problems


def load(docs: Sequence[Document], loading: Loading) -> tuple[MskDesired | None, list[SpecProblem]]:
    """The environment's one MskCluster, which must be the cluster its `msk:` names, with the
    Environment's region, version policy and prices."""
    problems: list[SpecProblem] = []
    for extra in docs[1:]:
        problems.append(
            SpecProblem(
                extra.location(("kind",)),
                "kind",
                "a second MskCluster document",
                f"an environment holds one cluster; the first is {docs[0].location(())}",
            )
        )
    ref = loading.environment.msk if loading.environment else None
    if ref and ref.cluster_name and ref.arn_name and ref.cluster_name != ref.arn_name:
        where = (
            loading.document.location(("spec", "msk", "clusterArn")) if loading.document else None
        )
        problems.append(
            SpecProblem(
                where,
                "spec.msk.clusterArn",
                f"names cluster {ref.arn_name!r}, but spec.msk.clusterName is "
                f"{ref.cluster_name!r}: MSK calls and Kafka connections would go to different "
                "clusters",
                "keep one of them, or make them name the same cluster",
            )
        )
    if not docs:
        return None, problems
    doc = docs[0]
    try:
        spec = parse_cluster(doc.data)
    except ClusterSpecError as exc:
        return None, [*problems, *located_problems(doc, exc.issues)]
    desired, found = _desired(spec, loading)
    problems.extend(found)
    environment = loading.environment
    named = environment.msk.name if environment and environment.msk else None
    if loading.document is not None and named != spec.name:
        problems.append(
            SpecProblem(
                doc.location(("metadata", "name")),
                "metadata.name",
                f"the Environment's msk names cluster {named!r}, not {spec.name!r}",
                "set spec.msk.clusterName (or clusterArn, and region) in the Environment to "
                "this cluster",
            )
        )
    return desired, problems


def _spec_fingerprint(desired: MskDesired | None) -> object:
    """Everything in the specs that changes the cluster's plan: its fields, and the policy and
    prices it is judged and priced by."""
    if desired is None:
        return None
    fingerprint: dict[str, Any] = {"spec": flatten(desired.spec), "region": desired.region}
    fingerprint["endOfSupport"] = desired.end_of_support
    fingerprint["prices"] = desired.prices.as_json()
    return fingerprint


def discover(
    clients: Clients, adopting: Adopting[MskDesired | None]
) -> Discovered[MskDesired | None, MskObserved | None]:
    """The cluster the Environment names, as MSK reports it (its configuration revision's
    server properties, its log group's retention, its tags); left alone when the user's own
    files declare it."""
    from reconciler.kinds.msk_cluster.observe import observe_cluster, reading  # its reads

    msk = adopting.environment.msk
    if msk is None:
        return Discovered(None, None)
    with reading("reading the cluster"):
        cluster = observe_cluster(clients.msk(), clients.logs(), msk.cluster)
    if cluster is None:
        return Discovered(
            None, MskObserved(None), (f"MSK has no cluster {msk.cluster!r}: not imported",)
        )
    # What a plan of this spec reads beside the cluster: its log group, and no other
    # configuration (the spec names the one the cluster runs).
    observed = MskObserved(cluster, cluster.log_group)
    if adopting.declared is not None:
        name = adopting.declared.spec.name
        return Discovered(
            None,
            observed,
            (f"MSK cluster {name} is declared in files import did not write: left as written",),
        )
    return Discovered(MskDesired(cluster.actual, msk.region), observed)


def _load_observed(value: object, path: str) -> MskObserved | None:
    observed: MskObserved | None = decode(MskObserved | None, value, path)
    return observed


def _environment_section(desired: MskDesired | None) -> dict[str, Any]:
    """The Environment's parts this kind reads, for `show`."""
    if desired is None:
        return {}
    section: dict[str, Any] = {"policy": {"endOfSupport": desired.end_of_support}}
    if desired.price_file:
        section["cost"] = {"priceFile": desired.price_file}
    return section


KIND: Kind[MskDesired | None, MskObserved | None] = Kind(
    name=NAME,
    schema="mskcluster.schema.json",
    label=("MSK cluster", "MSK clusters"),
    load=load,
    count=lambda desired: 0 if desired is None else 1,
    spec_fingerprint=_spec_fingerprint,
    observe=deferred("reconciler.kinds.msk_cluster.observe", "observe"),
    diff=deferred("reconciler.kinds.msk_cluster.diff", "diff"),
    fingerprint=deferred("reconciler.kinds.msk_cluster.observe", "fingerprint"),
    apply=deferred("reconciler.kinds.msk_cluster.apply", "apply"),
    dump_observed=encode,
    load_observed=_load_observed,
    to_documents=documents.to_documents,
    environment_section=_environment_section,
    discover=discover,
    file="cluster",
)
