"""The hidden markers that tie a comment or an issue to an environment, and how they are read.

A marker counts only as the last line of a body written by the bot: the plan above it may
quote text from specs or logs, so a marker-looking line anywhere else is never trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.render.markdown import plan_marker as render_plan_marker

#: The digests of a plan that could not be made (invalid specs, unreachable cluster).
NO_DIGEST = "none"

_PLAN = re.compile(
    r"<!-- reconciler-plan: (?P<environment>\S+) "
    r"digest=(?P<specs>\S+) observed=(?P<observed>\S+) -->"
)
_DRIFT = re.compile(r"<!-- reconciler-drift: (?P<environment>\S+) -->")


@dataclass(frozen=True)
class PlanMarker:
    """What a plan comment says it was made from: the digests apply compares against."""

    environment: str
    specs_digest: str
    observed_digest: str

    @property
    def planned(self) -> bool:
        """False for the comment of a plan that failed: there is nothing to approve."""
        return NO_DIGEST not in (self.specs_digest, self.observed_digest)


def last_line(body: str) -> str:
    lines = body.replace("\r\n", "\n").rstrip().split("\n")
    return lines[-1].strip()


def plan_marker(environment: str, specs_digest: str = NO_DIGEST, observed: str = NO_DIGEST) -> str:
    """The same line `render_markdown` ends a plan with; `none` digests for a failed plan."""
    return render_plan_marker(environment, specs_digest, observed)


def parse_plan_marker(body: str) -> PlanMarker | None:
    match = _PLAN.fullmatch(last_line(body))
    if match is None:
        return None
    return PlanMarker(match["environment"], match["specs"], match["observed"])


def drift_marker(environment: str) -> str:
    return f"<!-- reconciler-drift: {environment} -->"


def parse_drift_marker(body: str) -> str | None:
    """The environment a drift issue body is about, or None when it is not ours."""
    match = _DRIFT.fullmatch(last_line(body))
    return None if match is None else match["environment"]
