"""The cluster as a spec document again: the inverse of loading, for `show` and `import`."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.base import SpecDocument
from reconciler.kinds.msk_cluster.fields import MAP_FIELDS, flatten, set_in
from reconciler.kinds.msk_cluster.model import MskDesired
from reconciler.kinds.msk_cluster.spec import KIND
from reconciler.specs.documents import document, natural


def to_documents(wanted: MskDesired | None, readable: bool) -> list[SpecDocument]:
    """Every managed field at its spec path (the table's paths are the document's); server
    properties as numbers and booleans where they are (`readable` changes nothing more)."""
    if wanted is None:
        return []
    desired = wanted.spec
    spec: dict[str, Any] = {}
    for path, value in flatten(desired).items():
        if value is None or value == [] or path.split(".")[0] in MAP_FIELDS:
            continue
        set_in(spec, path, value)
    if desired.server_properties:
        spec["serverProperties"] = {k: natural(v) for k, v in desired.server_properties.items()}
    if desired.configuration_name:
        spec["configurationName"] = desired.configuration_name
    if desired.tags is not None:
        spec["tags"] = dict(desired.tags)
    return [document(KIND, desired.name, spec)]
