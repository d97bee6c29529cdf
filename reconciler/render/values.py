"""What the three renderers share, so text, markdown and JSON can never disagree.

Summary counts, the symbol of a change, secret masking, friendly values and the text-style
lines of a change block all live here; the renderers only lay them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.core.configs.topic import humanize
from reconciler.core.model import Action, Change, Cost, CostPart, FieldDiff, Plan, Risk
from reconciler.core.text import one_line

#: What a secret is replaced with everywhere; a diff stage that cannot see a secret uses it too.
SENSITIVE = "(sensitive)"
#: How an absent value (`None`) reads in text and markdown.
UNSET = "(unset)"
#: The prefix of a FieldDiff.field that names a topic config.
CONFIG_PREFIX = "config."

SYMBOLS: Mapping[Action, str] = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.REPLACE: "-/+",
}
#: A blocked change gets this symbol whatever its action: it will not happen.
BLOCKED_SYMBOL = "!"

#: How a line should be emphasised; text maps it to ANSI colours, markdown ignores it.
Style = Literal["create", "update", "delete", "replace", "destructive", "impossible", "plain"]

_ACTION_STYLE: Mapping[Action, Style] = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.DELETE: "delete",
    Action.REPLACE: "replace",
}
#: A risky field line is emphasised like the change it would make: disruptive reads as an update.
_RISK_STYLE: Mapping[Risk, Style] = {
    Risk.SAFE: "plain",
    Risk.DISRUPTIVE: "update",
    Risk.DESTRUCTIVE: "destructive",
    Risk.IMPOSSIBLE: "impossible",
}


@dataclass(frozen=True)
class Summary:
    """Counts of a plan. Action counts leave out blocked changes, which count as impossible.

    So create + update + delete + replace + impossible == number of changes, and "to update"
    never includes a change that will not be made.
    """

    create: int = 0
    update: int = 0
    delete: int = 0
    replace: int = 0
    orphans: int = 0
    impossible: int = 0
    destructive: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(
            self.create + self.update + self.delete + self.replace + self.impossible + self.orphans
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "create": self.create,
            "update": self.update,
            "delete": self.delete,
            "replace": self.replace,
            "orphans": self.orphans,
            "impossible": self.impossible,
            "destructive": self.destructive,
        }

    def line(self) -> str:
        """The one line every output ends its story with (text, markdown, CLI)."""
        if not self.has_changes:
            return "No changes. The cluster matches the specs."
        parts = [f"{self.create} to create", f"{self.update} to update", f"{self.delete} to delete"]
        if self.replace:
            parts.append(f"{self.replace} to replace")
        if self.impossible:
            parts.append(f"{self.impossible} impossible")
        if self.orphans:
            parts.append(f"{self.orphans} orphaned")
        return "Plan: " + ", ".join(parts) + "."


def summarize(plan: Plan) -> Summary:
    """One pass over the changes; the basis of every count shown anywhere."""
    counts = dict.fromkeys(Action, 0)
    impossible = destructive = 0
    for change in plan.changes:
        if change.blocked:
            impossible += 1
            continue
        counts[change.action] += 1
        if change.risk is Risk.DESTRUCTIVE:
            destructive += 1
    return Summary(
        create=counts[Action.CREATE],
        update=counts[Action.UPDATE],
        delete=counts[Action.DELETE],
        replace=counts[Action.REPLACE],
        orphans=len(plan.orphans),
        impossible=impossible,
        destructive=destructive,
    )


def symbol(change: Change) -> str:
    return BLOCKED_SYMBOL if change.blocked else SYMBOLS[change.action]


def change_style(change: Change) -> Style:
    """Blocked beats destructive beats the action's own colour."""
    if change.blocked:
        return "impossible"
    if change.risk is Risk.DESTRUCTIVE:
        return "destructive"
    return _ACTION_STYLE[change.action]


def _config_name(field: str) -> str | None:
    return field[len(CONFIG_PREFIX) :] if field.startswith(CONFIG_PREFIX) else None


def is_sensitive(diff: FieldDiff) -> bool:
    """A secret because its kind says so, or because one side already carries the marker.

    If either side carries the marker, the other side is masked too: a real value next to
    "(sensitive)" would be the secret itself.
    """
    return diff.sensitive or SENSITIVE in (diff.before, diff.after)


def masked(diff: FieldDiff) -> tuple[Any, Any]:
    """before/after safe to show anywhere; absence (`None`) is not a secret and stays visible."""
    if not is_sensitive(diff):
        return diff.before, diff.after
    return (
        None if diff.before is None else SENSITIVE,
        None if diff.after is None else SENSITIVE,
    )


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # Kafka's spelling
    if isinstance(value, str):
        return one_line(value) if value else '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return one_line(str(value))


def format_value(field: str, value: Any) -> str:
    """A value for humans: `(unset)`, or raw plus its meaning or friendly unit form.

    The raw value stays first so it can be copied into a spec: `-1 (unlimited)`,
    `604800000 (7d)`. The wording comes from the catalog's `humanize`, so the plan says what
    Kafka means. Pass values through `masked` first; this does not know secrets.
    """
    if value is None:
        return UNSET
    raw = _plain(value)
    name = _config_name(field)
    if name is None or not isinstance(value, str | int) or isinstance(value, bool):
        return raw
    friendly = humanize(name, str(value))
    if friendly is None or friendly == raw or friendly.startswith(f"{raw} ("):
        return friendly or raw
    return f"{raw} ({friendly})"


def diff_text(action: Action, diff: FieldDiff) -> str:
    """`field: before -> after`; a create shows only the new value, a delete only the old."""
    before, after = masked(diff)
    field = one_line(diff.field)
    if before is None and action is Action.CREATE:
        return f"{field}: {format_value(diff.field, after)}"
    if after is None and action is Action.DELETE:
        return f"{field}: {format_value(diff.field, before)}"
    return f"{field}: {format_value(diff.field, before)} -> {format_value(diff.field, after)}"


def change_header(change: Change) -> str:
    """`~ Topic payments (destructive)`; a blocked change also names the refused action."""
    head = f"{symbol(change)} {one_line(change.kind)} {one_line(change.name)}"
    if change.operation:
        head = f"{head} [{one_line(change.operation)}]"
    if change.blocked:
        return f"{head} ({change.action.value}, impossible)"
    if change.risk in (Risk.DISRUPTIVE, Risk.DESTRUCTIVE):
        return f"{head} ({change.risk.value})"
    return head


#: Indentation of the field and reason lines under a change header.
INDENT = "    "


def change_lines(change: Change) -> list[tuple[Style, str]]:
    """The text-style block of one change, each line with its emphasis, without colour codes.

    Field-level reasons are shown next to their field; change reasons that merely repeat one
    of them are not printed twice.
    """
    lines: list[tuple[Style, str]] = [(change_style(change), change_header(change))]
    shown: set[str] = set()
    for diff in change.diff:
        text = INDENT + diff_text(change.action, diff)
        if diff.risk is not Risk.SAFE:
            note = f"{diff.risk.value}: {diff.reason}" if diff.reason else diff.risk.value
            text += f"  [{one_line(note)}]"
        elif diff.reason:
            text += f"  ({one_line(diff.reason)})"
        if diff.reason:
            shown.add(diff.reason)
        lines.append((_RISK_STYLE[diff.risk], text))
    for reason in change.reasons:
        if reason not in shown:
            lines.append(("plain", f"{INDENT}reason: {one_line(reason)}"))
    lines.extend(("plain", f"{INDENT}estimate: {one_line(note)}") for note in change.notes)
    return lines


# --- costs ----------------------------------------------------------------------------------

#: What the cost lines leave out, said once above them.
COST_SCOPE = "estimated from list prices; data transfer is not included"


def money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _unit_price(part: CostPart) -> str:
    if part.unit_price is None:
        return "(no price)"
    text = f"{part.unit_price:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _part_text(part: CostPart) -> str:
    return f"{part.quantity:,g} {part.unit} x {_unit_price(part)} = {money(part.monthly)}"


def cost_head(cost: Cost) -> str:
    """`MskCluster name (eu-central-1): $107.60 -> $327.40 (+$219.80)`."""
    before, after = Cost.total(cost.before), Cost.total(cost.after)
    where = one_line(cost.region) if cost.region else "region unknown"
    head = f"{one_line(cost.kind)} {one_line(cost.name)} ({where}): "
    if cost.before is None:
        return head + f"{money(after)} once created"
    head += f"{money(before)} -> {money(after)}"
    if before is None or after is None:
        return head
    change = round(after - before, 2)
    if change == 0:
        return head + " (no change)"
    return head + f" ({'+' if change > 0 else '-'}{money(abs(change))})"


def cost_details(cost: Cost) -> list[str]:
    """One line per component (before -> after where it changes), the prices' source, and
    what has no price with where to give one."""
    before = {p.component: p for p in cost.before or ()}
    after = {p.component: p for p in cost.after or ()}
    lines = []
    for component in dict.fromkeys([*before, *after]):
        old, new = before.get(component), after.get(component)
        if old is None and new is not None:
            text = _part_text(new) + (" (new)" if cost.before is not None else "")
        elif new is None and old is not None:
            text = f"{_part_text(old)} -> none"
        elif old is not None and new is not None and old != new:
            text = f"{_part_text(old)} -> {_part_text(new)}"
        else:
            text = _part_text(new) if new is not None else ""
        lines.append(f"{component}: {text}")
    lines.append(f"prices: {one_line(cost.source)}")
    missing = list(dict.fromkeys(p.unit for p in cost.unpriced))
    priced = any(p.unit_price is not None for p in (*(cost.before or ()), *(cost.after or ())))
    if missing and priced:  # with no price at all, the source line already says why
        lines.append(
            f"unknown: no price for {', '.join(missing)} in {cost.region or 'this region'}; "
            "give it in a price file (spec.cost.priceFile, schemas/msk-prices.schema.json)"
        )
    return [one_line(line) for line in lines]
