"""The plan for a terminal, laid out like `terraform plan` so operators read it without a guide."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core.model import Plan
from reconciler.core.text import one_line
from reconciler.render.values import (
    BLOCKED_SYMBOL,
    COST_SCOPE,
    SYMBOLS,
    Style,
    change_lines,
    cost_details,
    cost_head,
    summarize,
    symbol,
)

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
_ANSI: Mapping[Style, str] = {
    "create": "\x1b[32m",
    "update": "\x1b[33m",
    "delete": "\x1b[31m",
    "replace": "\x1b[31m",
    "destructive": "\x1b[31m",
    "impossible": "\x1b[1;31m",
    "plain": "",
}
_LEGEND = (*((s, a.value) for a, s in SYMBOLS.items()), (BLOCKED_SYMBOL, "impossible"))


def render_text(plan: Plan, *, color: bool) -> str:
    """Header, one block per change, orphans, warnings, monthly costs, and the summary line
    last.

    Colour is opt-in (`color=True`) so redirected output and CI logs stay plain.
    """

    def paint(style: Style, text: str) -> str:
        code = _ANSI[style] if color else ""
        return f"{code}{text}{RESET}" if code else text

    summary = summarize(plan)
    lines = [f"Environment: {one_line(plan.environment)}"]
    if plan.changes:
        used = {symbol(c) for c in plan.changes}
        legend = ", ".join(f"{s} {what}" for s, what in _LEGEND if s in used)
        lines += ["", f"Planned changes ({legend}):"]
        for change in plan.changes:
            lines.append("")
            lines.extend("  " + paint(style, text) for style, text in change_lines(change))
    if plan.orphans:
        lines += ["", "Orphans (managed resources in no spec):"]
        lines.extend(
            f"  * {one_line(o.kind)} {one_line(o.name)}: {one_line(o.reason)}" for o in plan.orphans
        )
    if plan.warnings:
        lines += ["", "Warnings:"]
        lines.extend(f"  * {one_line(w)}" for w in plan.warnings)
    if plan.costs:
        currency = "/".join(dict.fromkeys(c.currency for c in plan.costs))
        lines += ["", f"Monthly cost ({currency}, {COST_SCOPE}):"]
        for cost in plan.costs:
            lines.append(f"  {cost_head(cost)}")
            lines.extend(f"    {line}" for line in cost_details(cost))
    closing = summary.line()
    if color:
        closing = f"{_ANSI['impossible'] if summary.impossible else BOLD}{closing}{RESET}"
    lines += ["", closing]
    return "\n".join(lines) + "\n"
