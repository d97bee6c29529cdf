"""Building changes: the worst risk of their parts, and what blocks them. Pure.

Every kind builds its changes here, so "a change is as risky as its riskiest field" and "a
blocked change is impossible, and says why first" hold for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from reconciler.core.model import Action, Change, FieldDiff, Risk


def worst(risks: Iterable[Risk]) -> Risk:
    return max(risks, key=lambda r: r.rank, default=Risk.SAFE)


def make_change(
    kind: str,
    name: str,
    action: Action,
    diffs: Sequence[FieldDiff],
    *,
    operation: str | None = None,
    reasons: Iterable[str] = (),
    blockers: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> Change:
    """A change whose risk is its worst field's, or IMPOSSIBLE when anything blocks it.

    Reasons read blockers first (what stops it, with the way out), then the fields' own
    reasons, then the change's; each sentence once.
    """
    blocking = tuple(blockers)
    why = (*blocking, *(d.reason for d in diffs if d.reason), *reasons)
    risk = Risk.IMPOSSIBLE if blocking else worst(d.risk for d in diffs)
    return Change(
        kind, name, action, risk, tuple(diffs), tuple(dict.fromkeys(why)), operation, tuple(notes)
    )


def blocked(change: Change, reason: str) -> Change:
    """The same change, refused: `reason` (with its way out) goes first."""
    return replace(change, risk=Risk.IMPOSSIBLE, reasons=(reason, *change.reasons))
