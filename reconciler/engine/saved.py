"""A saved plan applies only to the state it was made from (invariant 4)."""

from __future__ import annotations

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Plan
from reconciler.render.plan_json import plan_to_dict


class StalePlan(ReconcilerError):
    """The saved plan was made from other specs or another cluster state."""


def check_saved_plan(saved: Plan, current: Plan) -> None:
    """Refuse unless the environment, both digests and every change are what was reviewed."""
    if saved.environment != current.environment:
        raise StalePlan(
            f"the plan is for environment {saved.environment!r}, not {current.environment!r}"
        )
    if saved.specs_digest != current.specs_digest:
        raise StalePlan(
            "the specs changed since the plan was made "
            f"({saved.specs_digest[:19]} -> {current.specs_digest[:19]}); nothing was applied. "
            "Run plan again and review it"
        )
    if saved.observed_digest != current.observed_digest:
        raise StalePlan(
            "the cluster changed since the plan was made "
            f"({saved.observed_digest[:19]} -> {current.observed_digest[:19]}); nothing was "
            "applied. Run plan again and review the new plan"
        )
    from deepdiff import DeepDiff  # only `apply --plan` needs it; it costs 0.2 s to import

    before, after = plan_to_dict(saved, tool_version=""), plan_to_dict(current, tool_version="")
    for change in (*before["changes"], *after["changes"]):
        del change["notes"]  # measurements (bytes to move), not what was reviewed
    difference = DeepDiff(before["changes"], after["changes"], ignore_order=False)
    if difference:
        raise StalePlan(
            "the saved plan's changes differ from what the same specs and state give now "
            f"(a different reconciler version?): {difference.pretty()}; nothing was applied"
        )
