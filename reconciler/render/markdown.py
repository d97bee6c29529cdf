"""The plan as a pull-request comment: risks first, details folded, never over the size limit.

GitHub rejects comments over 65,536 characters, and a reviewer must see what is impossible or
destructive without expanding anything. So the comment is built by priority: heading, summary
and marker always; then impossible and destructive changes (with reasons if they fit, else
by name only), orphans and warnings; then as many whole change blocks as still fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.core.model import Change, Plan, Risk
from reconciler.core.text import one_line
from reconciler.render.values import (
    COST_SCOPE,
    INDENT,
    change_lines,
    cost_details,
    cost_head,
    summarize,
)

DEFAULT_LIMIT = 60_000
DEFAULT_HINT = "the full plan is in the job's plan.json artifact"
#: Longest reason text shown per item; longer ones are cut, the full text is in plan.json.
REASON_CHARS = 500
#: Field lines shown per change; the rest (e.g. the 200th moved partition) are in plan.json.
FIELD_LINES = 12

_MD_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~#!&"})
_BACKTICKS = re.compile(r"`+")


def md_escape(text: str) -> str:
    """Free text (reasons, warnings) as inline markdown that renders literally."""
    return one_line(text).translate(_MD_ESCAPES)


def _longest_backtick_run(lines: Sequence[str]) -> int:
    return max(
        (len(run) for line in lines if "`" in line for run in _BACKTICKS.findall(line)),
        default=0,
    )


def code_span(text: str) -> str:
    """Inline code that stays closed whatever the text holds (CommonMark's backtick rule)."""
    text = one_line(text)
    ticks = "`" * (_longest_backtick_run([text]) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(lines: Sequence[str]) -> str:
    """A code fence longer than any backtick run inside, so content cannot close it early."""
    return "`" * max(3, _longest_backtick_run(lines) + 1)


def _cost(lines: Sequence[str]) -> int:
    """Characters the lines take in the output, each with its newline."""
    return sum(map(len, lines)) + len(lines)


def _cut(text: str, limit: int = REASON_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def plan_marker(environment: str, specs_digest: str, observed: str) -> str:
    """The hidden line the workflow finds its own comment by (one format, used everywhere)."""
    env = one_line(environment).replace("-->", "--&gt;")
    digests = f"digest={one_line(specs_digest)} observed={one_line(observed)}"
    return f"<!-- reconciler-plan: {env} {digests} -->"


def marker(plan: Plan) -> str:
    """The hidden line the workflow finds its own comment by, to update it in place."""
    return plan_marker(plan.environment, plan.specs_digest, plan.observed_digest)


def _why(change: Change) -> str:
    """The change's reasons, then any risky field's reason they do not already say."""
    reasons = list(dict.fromkeys(change.reasons))
    seen = set(reasons)
    for diff in change.diff:
        if diff.risk is not Risk.SAFE and diff.reason and diff.reason not in seen:
            seen.add(diff.reason)
            reasons.append(diff.reason)
    return md_escape(_cut("; ".join(reasons) or "no reason given"))


@dataclass(frozen=True)
class _Section:
    """One warning list, renderable in full or, when space is short, as a plain list of names."""

    heading: str
    intro: str
    items: list[str]
    names: list[str]
    #: Says why the compact form is shorter; `{hint}` is replaced by where the full plan is.
    shortened: str = "Reasons are left out to fit this comment; {hint}."

    def _top(self, count: int, note: str) -> list[str]:
        lines = ["", f"### {self.heading} ({count})", ""]
        text = " ".join(t for t in (self.intro, note) if t)
        return [*lines, text, ""] if text else lines

    def full(self) -> list[str]:
        return [*self._top(len(self.items), ""), *self.items] if self.items else []

    def compact(self, budget: int | None, hint: str) -> list[str]:
        """Names one per line in a code block; with a budget, as many as fit and a count."""
        if not self.names:
            return []
        fence = _fence(self.names)
        lines = [*self._top(len(self.names), self.shortened.format(hint=hint)), fence + "text"]
        if budget is None or _cost(lines) + _cost(self.names) + len(fence) + 1 <= budget:
            return [*lines, *self.names, fence]
        more = f"{len(self.names)} more not listed; {hint}."
        room = budget - _cost(lines) - _cost([fence, "", more])
        if room < 0:
            return []
        shown = 0
        for name in self.names:
            room -= len(name) + 1
            if room < 0:
                break
            shown += 1
        more = f"{len(self.names) - shown} more not listed; {hint}."
        return [*lines, *self.names[:shown], fence, "", more]


def _change_section(title: str, blurb: str, changes: list[Change]) -> _Section:
    lines = [
        f"- {md_escape(c.kind)} {code_span(c.name)} ({c.action.value}): {_why(c)}" for c in changes
    ]
    return _Section(title, blurb, lines, [one_line(c.name) for c in changes])


def _sections(plan: Plan) -> list[_Section]:
    impossible = [c for c in plan.changes if c.blocked]
    destructive = [c for c in plan.changes if c.risk is Risk.DESTRUCTIVE]
    return [
        _change_section(
            "Impossible changes",
            "The plan cannot be applied while it holds these; the reasons say the way out.",
            impossible,
        ),
        _change_section(
            "Destructive changes",
            "These can lose data or settings; review them before merging.",
            destructive,
        ),
        _Section(
            "Orphans",
            "Managed topics in no spec.",
            [
                f"- {md_escape(o.kind)} {code_span(o.name)}: {md_escape(_cut(o.reason))}"
                for o in plan.orphans
            ],
            [one_line(o.name) for o in plan.orphans],
        ),
        _Section(
            "Warnings",
            "",
            [f"- {md_escape(_cut(w))}" for w in plan.warnings],
            [one_line(_cut(w, 200)) for w in plan.warnings],
            shortened="Shortened to fit this comment; {hint}.",
        ),
    ]


def _warning_candidates(
    sections: list[_Section], budget: int, hint: str
) -> list[Callable[[], list[str]]]:
    """Richest first. Reasons go in reverse order of importance (orphans, then destructive,
    then impossible, then warnings are shortened); last, names are cut to fit, impossible
    before destructive before orphans before warnings, each list saying how many it left out.
    """
    impossible, destructive, orphans, warnings = sections

    def fitted() -> list[str]:
        lines: list[str] = []
        for section in sections:
            lines += section.compact(budget - _cost(lines), hint)
        return lines

    return [
        lambda: [line for s in sections for line in s.full()],
        lambda: [
            *impossible.full(),
            *destructive.full(),
            *orphans.compact(None, hint),
            *warnings.full(),
        ],
        lambda: [
            *impossible.full(),
            *destructive.compact(None, hint),
            *orphans.compact(None, hint),
            *warnings.full(),
        ],
        lambda: [line for s in sections for line in s.compact(None, hint)],
        fitted,
    ]


def _block(change: Change, hint: str) -> list[str]:
    """One change in the text style; a change with more than FIELD_LINES fields (a
    reassignment lists every moved partition) shows the first ones and says how many more."""
    lines = [text for _style, text in change_lines(change)]
    extra = len(change.diff) - FIELD_LINES
    if extra <= 0:
        return lines
    head, fields, tail = lines[:1], lines[1 : 1 + len(change.diff)], lines[1 + len(change.diff) :]
    more = f"{INDENT}... {_plural(extra, 'more field')} not shown; {hint}"
    return [*head, *fields[:FIELD_LINES], more, *tail]


def _blocks(plan: Plan, hint: str) -> list[list[str]]:
    """Each change in the text style, symbol in column one so ```diff colours + and -."""
    return [_block(c, hint) for c in plan.changes]


def _left_out(left: int, limit: int, hint: str) -> list[str]:
    return [
        "",
        f"{_plural(left, 'change')} not shown, to keep this comment under {limit:,} characters; "
        f"{hint}.",
    ]


def _details(blocks: list[list[str]], budget: int, limit: int, hint: str) -> list[str]:
    """Whole change blocks while they fit, with the fence and <details> always closed.

    When not even one block fits, only the line saying how many were left out remains;
    the caller reserves room for that line.
    """
    total = len(blocks)
    content: list[str] = []
    for block in blocks:
        if content:
            content.append("")
        content += block
    fence = _fence(content)

    def wrap(body: list[str], shown: int) -> list[str]:
        what = _plural(total, "change")
        summary = f"Show {what}" if shown == total else f"Show the first {shown} of {what}"
        lines = [
            "",
            f"<details><summary>{summary}</summary>",
            "",
            fence + "diff",
            *body,
            fence,
            "",
            "</details>",
        ]
        return lines if shown == total else [*lines, *_left_out(total - shown, limit, hint)]

    full = wrap(content, total)
    if _cost(full) <= budget:
        return full
    room = budget - _cost(wrap([], 0))
    body: list[str] = []
    shown = 0
    for block in blocks:
        needed = _cost(block) + (1 if body else 0)
        if needed > room:
            break
        if body:
            body.append("")
        body += block
        room -= needed
        shown += 1
    return wrap(body, shown) if shown else _left_out(total, limit, hint)


def _costs(plan: Plan) -> list[str]:
    """The monthly cost of each priced resource: a few lines, always shown in full."""
    if not plan.costs:
        return []
    currency = "/".join(dict.fromkeys(c.currency for c in plan.costs))
    lines = ["", f"### Monthly cost ({md_escape(currency)}, {COST_SCOPE})", ""]
    for cost in plan.costs:
        lines.append(f"- {md_escape(cost_head(cost))}")
        lines.extend(f"  - {md_escape(line)}" for line in cost_details(cost))
    return lines


def render_markdown(
    plan: Plan, *, limit: int = DEFAULT_LIMIT, full_plan_hint: str = DEFAULT_HINT
) -> str:
    """A PR comment of at most `limit` characters, ending with the marker line."""
    hint = one_line(full_plan_hint)
    summary = summarize(plan)
    head = [
        f"## Reconciler plan for {code_span(plan.environment)}",
        "",
        f"**{summary.line()}**",
        *_costs(plan),
    ]
    tail = ["", marker(plan)]
    budget = limit - _cost(head) - _cost(tail)
    blocks = _blocks(plan, hint)
    # The smallest possible details part: only the line saying every change was left out.
    reserve = _cost(_left_out(len(blocks), limit, hint)) if blocks else 0
    if budget - reserve < 0:
        raise ValueError(f"limit {limit} is too small for the plan's heading and marker")
    sections = _sections(plan)
    warnings: list[str] = []
    for candidate in _warning_candidates(sections, budget - reserve, hint):
        warnings = candidate()
        if _cost(warnings) <= budget - reserve:
            break
    details = _details(blocks, budget - _cost(warnings), limit, hint) if blocks else []
    return "\n".join([*head, *warnings, *details, *tail]) + "\n"
