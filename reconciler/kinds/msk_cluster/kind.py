"""The MskCluster kind, as the engine sees it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.core.environment import Environment
from reconciler.core.errors import SpecProblem
from reconciler.core.record import decode, encode
from reconciler.kinds.base import Discovered, Kind, Loading, Selection
from reconciler.kinds.msk_cluster import apply, diff, documents, observe
from reconciler.kinds.msk_cluster.fields import flatten
from reconciler.kinds.msk_cluster.model import MskObserved
from reconciler.kinds.msk_cluster.observe import observe_cluster, reading
from reconciler.kinds.msk_cluster.spec import KIND as NAME
from reconciler.kinds.msk_cluster.spec import (
    ClusterSpecError,
    MskClusterSpec,
    located_problems,
    parse_cluster,
)
from reconciler.specs.yaml_source import Document

if TYPE_CHECKING:
    from reconciler.clients.session import Clients


def load(
    docs: Sequence[Document], loading: Loading
) -> tuple[MskClusterSpec | None, list[SpecProblem]]:
    """The environment's one MskCluster, which must be the cluster its `msk:` names."""
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
    if not docs:
        return None, problems
    doc = docs[0]
    try:
        spec = parse_cluster(doc.data)
    except ClusterSpecError as exc:
        return None, [*problems, *located_problems(doc, exc.issues)]
    environment = loading.environment
    named = environment.msk.cluster_name if environment and environment.msk else None
    if loading.document is not None and named != spec.name:
        problems.append(
            SpecProblem(
                doc.location(("metadata", "name")),
                "metadata.name",
                f"the Environment's msk.clusterName is {named!r}, not {spec.name!r}",
                "set spec.msk.clusterName (and region) in the Environment to this cluster",
            )
        )
    return spec, problems


def discover(
    clients: Clients, environment: Environment, selection: Selection
) -> Discovered[MskClusterSpec | None]:
    """The cluster the Environment names, as MSK reports it (its configuration revision's
    server properties, its log group's retention, its tags)."""
    if environment.msk is None:
        return Discovered(None)
    with reading("reading the cluster"):
        cluster = observe_cluster(clients.msk(), clients.logs(), environment.msk.cluster)
    if cluster is None:
        return Discovered(None, (f"MSK has no cluster {environment.msk.cluster!r}: not imported",))
    return Discovered(cluster.actual)


def _load_observed(value: object, path: str) -> MskObserved | None:
    observed: MskObserved | None = decode(MskObserved | None, value, path)
    return observed


KIND: Kind[MskClusterSpec | None, MskObserved | None] = Kind(
    name=NAME,
    schema="mskcluster.schema.json",
    label=("MSK cluster", "MSK clusters"),
    load=load,
    count=lambda desired: 0 if desired is None else 1,
    spec_fingerprint=lambda desired: None if desired is None else flatten(desired),
    observe=observe.observe,
    diff=diff.diff,
    fingerprint=observe.fingerprint,
    apply=apply.apply,
    dump_observed=encode,
    load_observed=_load_observed,
    to_documents=documents.to_documents,
    discover=discover,
    file="cluster",
)
