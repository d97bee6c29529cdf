"""The live topics as desired topics, for `import`: the first plan after it is empty.

Reads every topic the Environment may own (and the ones its specs declare) with all of its
configs and their sources, once, as a plan reads them; `adopt` then turns the ones the
selection covers into documents that are exact under the Environment's defaults and
overrides, and says what it left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.kinds.base import Adopting, Discovered
from reconciler.kinds.topic.adopt import Sections, adopt
from reconciler.kinds.topic.model import ObservedTopics, Topics
from reconciler.kinds.topic.observe import observe_with

if TYPE_CHECKING:
    from reconciler.clients.session import Clients


def discovered(
    observed: ObservedTopics, adopting: Adopting[Topics]
) -> Discovered[Topics, ObservedTopics]:
    """What `import` writes of the observed topics, and what it left out (pure)."""
    sections = Sections.of(adopting.document.data["spec"])
    adoption = adopt(observed, adopting.declared, sections, adopting.selection)
    shared = {} if adoption.defaults is None else {"topics": {"defaults": adoption.defaults}}
    return Discovered(
        adoption.topics,
        observed,
        adoption.warnings,
        adoption.refusals,
        shared,
        adopting.selection.covers,
    )


def discover(clients: Clients, adopting: Adopting[Topics]) -> Discovered[Topics, ObservedTopics]:
    """The topics the selection covers, read with every config and its source."""
    declared = adopting.declared
    # Everything the Environment may own: the engine checks the written specs against it.
    owner = Topics(declared.topics, declared.manage or ("*",), declared.ignore)
    cluster, metadata = clients.cluster()
    first = min((b.node_id for b in cluster.brokers), default=None)
    observed = observe_with(clients.topics(), owner, metadata, first, every_config=True)
    return discovered(observed, adopting)
