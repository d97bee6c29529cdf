"""Bodies of plan comments, apply results and drift issues: pure, and always under the limit.

GitHub rejects comment and issue bodies over 65,536 characters. Each part that can grow (the
plan, an error, a log, the drift list) gets its own budget and is cut at a line boundary with
a pointer to where the whole text is, so the sum always fits and the marker always ends it.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from reconciler.core.model import Plan
from reconciler.core.text import one_line
from reconciler.github.markers import drift_marker, plan_marker
from reconciler.render.markdown import code_span, md_escape, render_markdown
from reconciler.render.values import summarize

#: GitHub's limit for a comment or issue body, in characters.
COMMENT_LIMIT = 65_536
#: What the rendered plan may take; the rest is room for the context line and apply result.
PLAN_LIMIT = 60_000
#: The apply result section, log included.
RESULT_LIMIT = 4_000
#: A plan error (invalid specs, unreachable cluster) shown in a comment.
ERROR_LIMIT = 20_000
#: The list of what drifted, before the folded plan in a drift issue.
DRIFT_LIST_LIMIT = 12_000
DRIFT_PLAN_LIMIT = 50_000
#: Starts the apply result; everything from here to the marker is replaced on the next result.
RESULT_START = "<!-- reconciler-result -->"
DRIFT_LABEL = "reconciler-drift"

_BACKTICKS = re.compile(r"`+")


class Outcome(StrEnum):
    """How an apply run ended, as the workflow tells it."""

    APPLIED = "applied"
    FAILED = "failed"
    REFUSED = "refused"


def _cost(lines: Sequence[str]) -> int:
    return sum(map(len, lines)) + len(lines)


def fenced(text: str, info: str = "text") -> list[str]:
    """A code block no line of `text` can close early (a longer fence than any backtick run)."""
    # A leading space keeps a quoted marker-like line from ever being a line of ours.
    lines = [
        " " + line if line.lstrip().startswith("<!--") else line
        for line in map(one_line, text.rstrip("\n").split("\n"))
    ]
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *lines, fence]


def clip(text: str, limit: int, *, keep: str = "head", pointer: str = "") -> str:
    """At most `limit` characters of whole lines: the first ones, or the last (`keep="tail"`).

    Says how many lines were left out and, with `pointer`, where to read them all.
    """
    if len(text) <= limit:
        return text
    lines = text.rstrip("\n").split("\n")
    note = f"... {{}} lines left out{'; ' + pointer if pointer else ''} ..."
    room = limit - len(note.format(len(lines))) - 1
    kept: list[str] = []
    for line in lines if keep == "head" else reversed(lines):
        room -= len(line) + 1
        if room < 0:
            break
        kept.append(line)
    left = note.format(len(lines) - len(kept))
    if keep == "head":
        return "\n".join([*kept, left])
    return "\n".join([left, *reversed(kept)])


def link(text: str, url: str) -> str:
    """A markdown link whose URL cannot break out of the parentheses."""
    return f"[{md_escape(text)}]({urllib.parse.quote(url, safe=':/?&=#%~+,;@')})"


def context_line(commit: str | None, run_url: str | None) -> str | None:
    """Which commit the plan is of and which run made it, for the reader of the comment."""
    parts = []
    if commit:
        parts.append(f"commit {code_span(commit[:12])}")
    if run_url:
        parts.append(link("this run", run_url))
    return f"<sub>Planned from {' by '.join(parts)}.</sub>" if parts else None


def _trim(lines: list[str]) -> list[str]:
    """Without trailing blank lines, so parts join with exactly one blank line between."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _finish(lines: list[str], marker: str, heading: str, pointer: str) -> str:
    """Join with the marker last; if a budget was ever miscounted, a short body still fits."""
    body = "\n".join([*_trim(lines), "", marker]) + "\n"
    if len(body) <= COMMENT_LIMIT:
        return body
    return "\n".join([heading, "", f"Too long for a comment; {pointer}.", "", marker]) + "\n"


def plan_comment(plan: Plan, *, hint: str, context: str | None = None) -> str:
    """The pull-request comment for one environment's plan, ending with its marker."""
    lines = render_markdown(plan, limit=PLAN_LIMIT, full_plan_hint=hint).rstrip("\n").split("\n")
    marker = lines.pop()
    lines = _trim(lines)
    if context:
        lines += ["", context]
    return _finish(lines, marker, lines[0], hint)


def error_comment(environment: str, error: str, *, context: str | None = None) -> str:
    """The comment when no plan could be made; its marker approves nothing."""
    heading = f"## Reconciler plan for {code_span(environment)}"
    shown = clip(error.strip() or "(no error output)", ERROR_LIMIT, pointer="see the job log")
    lines = [
        heading,
        "",
        "**The plan failed: nothing can be reviewed or applied until it succeeds.**",
        "",
        *fenced(shown),
    ]
    if context:
        lines += ["", context]
    return _finish(lines, plan_marker(environment), heading, "see the job log")


def apply_result(
    outcome: Outcome,
    plan: Plan | None,
    *,
    log: str = "",
    run_url: str | None = None,
    now: datetime | None = None,
) -> list[str]:
    """The section an apply run adds to the plan comment it applied (or refused)."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    by = f" by {link('this run', run_url)}" if run_url else ""
    if outcome is Outcome.APPLIED and plan is not None and not plan.has_changes:
        head, text = "Nothing to apply", f"The cluster already matched these specs ({when}{by})."
    elif outcome is Outcome.APPLIED:
        summary = md_escape(summarize(plan).line()) if plan is not None else "The plan"
        head, text = "Applied", f"{summary} Applied at {when}{by}; the plan is now empty."
    elif outcome is Outcome.REFUSED:
        head = "Apply refused"
        text = (
            f"Nothing was applied ({when}{by}): the specs or the cluster are no longer what this "
            "plan was made from. Re-run this pull request's plan workflow, review the new plan, "
            "then re-run the apply workflow."
        )
    else:
        head = "Apply failed"
        text = (
            f"The apply did not complete ({when}{by}). Run the plan again to see what is left; "
            "re-running the apply workflow continues from there."
        )
    lines = [RESULT_START, "", f"### {head}", "", text]
    if log.strip():
        room = RESULT_LIMIT - _cost(lines) - 80
        shown = clip(log.strip(), room, keep="tail", pointer="see the job log")
        lines += ["", "<details><summary>Log</summary>", "", *fenced(shown), "", "</details>"]
    return lines


def with_result(body: str, result: list[str]) -> str:
    """The comment with its apply result replaced: the reviewed plan and marker stay as they are.

    The result starts at the first RESULT_START line: the plan above it never holds that line
    (diff lines start with a symbol, free text is escaped), and logs are fenced one_line text.
    """
    lines = body.replace("\r\n", "\n").rstrip().split("\n")
    marker = lines.pop()
    if RESULT_START in lines:
        lines = lines[: lines.index(RESULT_START)]
    return _finish(
        [*_trim(lines), "", *result], marker, lines[0] if lines else "", "see the job log"
    )


def drift_title(environment: str) -> str:
    return f"Drift: the {environment} cluster differs from its specs"


def drift_list(plan: Plan, limit: int = DRIFT_LIST_LIMIT) -> list[str]:
    """One line per drifted resource, what changed on it; cut to `limit` with a count."""
    items = []
    for change in plan.changes:
        fields = [d.field for d in change.diff]
        shown = ", ".join(fields[:8]) + (f" and {len(fields) - 8} more" if len(fields) > 8 else "")
        what = f"{change.action.value}" + (f" of {md_escape(shown)}" if shown else "")
        items.append(f"- {md_escape(change.kind)} {code_span(change.name)}: {what}")
    for orphan in plan.orphans:
        items.append(
            f"- {md_escape(orphan.kind)} {code_span(orphan.name)}: on the cluster, in no spec"
        )
    lines = ["### What drifted", ""]
    for index, item in enumerate(items):
        if _cost([*lines, item]) > limit - 80:
            lines.append(f"- ... and {len(items) - index} more, listed in the plan below")
            break
        lines.append(item)
    return lines


def drift_issue(plan: Plan, *, hint: str) -> tuple[str, str]:
    """Title and body of the drift issue; the same drift always gives the same body."""
    env = plan.environment
    rendered = render_markdown(plan, limit=DRIFT_PLAN_LIMIT, full_plan_hint=hint)
    # Under a heading of its own, and without its marker: this issue is not a plan comment.
    plan_lines = ["### What apply would change", *rendered.rstrip("\n").split("\n")[1:-1]]
    heading = f"## Drift in {code_span(env)}"
    lines = [
        heading,
        "",
        f"The {code_span(env)} cluster no longer matches the specs on the default branch "
        "(someone changed it by hand, a client auto-created a topic, or the cluster changed). "
        "Either change the specs to accept the cluster as it is, in a pull request, or apply "
        "the specs again to undo the change. The scheduled drift check closes this issue once "
        "the cluster matches.",
        "",
        *drift_list(plan),
        "",
        *plan_lines,
    ]
    return drift_title(env), _finish(lines, drift_marker(env), heading, hint)


def drift_gone(run_url: str | None, now: datetime | None = None) -> str:
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    by = f" ({link('drift check', run_url)})" if run_url else ""
    return f"The drift is gone: the cluster matches the specs again as of {when}{by}. Closing."
