"""What `import` checks before it keeps what it wrote: the first plan is empty (pure).

The specs as written are loaded again and diffed, with each kind's own diff, against what
the kinds read. A change to anything the import wrote means its documents are not the live
state: the import is refused. So is a deletion (the Environment owns a resource, its policy
deletes what no spec declares, and the import left it out), and a change to a resource the
user's own files declare that was not in their plan before (the import changed what their
spec means, e.g. by factoring defaults). What remains is said: changes the specs already
planned before the import, resources left out (orphans), and what the Environment's own
settings plan beyond the spec files (replica placement), read with the cluster's shape.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.core.cluster import ClusterView
from reconciler.core.model import Action, Change
from reconciler.kinds.base import Context, Kind
from reconciler.render.values import change_header, diff_text

#: At most this many changes are spelled out in a refusal; the rest are counted.
SHOWN = 20


@dataclass(frozen=True)
class Verdict:
    """`differences` refuse the import; `notes` are for the user to know."""

    differences: tuple[str, ...]
    notes: tuple[str, ...]


def _described(change: Change) -> str:
    fields = "; ".join(diff_text(change.action, d) for d in change.diff)
    return f"{change_header(change)}: {fields}" if fields else change_header(change)


def _names(changes: Sequence[Change]) -> str:
    shown = ", ".join(f"{c.kind} {c.name}" for c in changes[:SHOWN])
    return shown + (f" and {len(changes) - SHOWN} more" if len(changes) > SHOWN else "")


@dataclass(frozen=True)
class KindCheck:
    """One kind's side of the check: its specs before the import (the files it did not
    rewrite, or all of them where it keeps some of an earlier import's documents) and after
    (everything as written), what the kind read, and the names the import wrote afresh."""

    kind: Kind[Any, Any]
    before: Any
    after: Any
    observed: Any
    written: Collection[str]


def check_import(kinds: Sequence[KindCheck], cluster: ClusterView | None, now: datetime) -> Verdict:
    """Refusals and notes for the first plan of what `import` wrote."""
    wrong: list[str] = []
    deleted: list[Change] = []
    changed: list[Change] = []
    pending: list[Change] = []
    beyond: list[Change] = []
    notes: list[str] = []
    for item in kinds:
        kind = item.kind
        specs = Context(now)  # without the cluster's shape: what the spec files say
        mine = kind.diff(item.after, item.observed, specs)
        theirs = kind.diff(item.before, item.observed, specs).changes
        for change in mine.changes:
            if change.action is Action.DELETE:
                deleted.append(change)
            elif change.name in item.written:
                wrong.append(_described(change))
            elif change in theirs:
                pending.append(change)
            else:
                changed.append(change)
        placed = kind.diff(item.after, item.observed, Context(now, cluster)).changes
        beyond.extend(c for c in placed if c not in mine.changes)
        if mine.orphans:
            names = ", ".join(o.name for o in mine.orphans[:SHOWN])
            more = f" and {len(mine.orphans) - SHOWN} more" if len(mine.orphans) > SHOWN else ""
            notes.append(
                f"the Environment owns {len(mine.orphans)} {kind.label[1]} that no spec "
                f"declares ({names}{more}): the first plan lists them as orphans. Import them, "
                "or add them to the Environment's ignore list to leave them alone"
            )
    differences = [
        *(f"{line} (written by this import, yet not what the cluster has)" for line in wrong),
        *(
            f"{_described(c)} (the Environment owns it and its policy deletes what no spec "
            "declares, but this import leaves it out: import it, or add it to the "
            "Environment's ignore list)"
            for c in deleted
        ),
        *(
            f"{_described(c)} (a spec this import did not write afresh, whose meaning it "
            "changes: declare these values in it, or import it too, or import without "
            "--factor-defaults)"
            for c in changed
        ),
    ]
    if pending:
        notes.append(
            f"the first plan still changes {_names(pending)}: specs this import did not write "
            "afresh, which planned the same before it (see reconciler plan)"
        )
    if beyond:
        notes.append(
            f"beyond the spec files, the Environment's settings (replica placement) make the "
            f"first plan change {_names(beyond)} (see reconciler plan)"
        )
    return Verdict(tuple(differences), tuple(notes))
