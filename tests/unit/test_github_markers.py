"""Markers: read only from the last line, so quoted or pasted markers are never trusted."""

from __future__ import annotations

from reconciler.core.model import Plan
from reconciler.github.markers import (
    PlanMarker,
    drift_marker,
    parse_drift_marker,
    parse_plan_marker,
    plan_marker,
)
from reconciler.render.markdown import marker, render_markdown

SPECS = "sha256:" + "a" * 64
OBSERVED = "sha256:" + "b" * 64


def test_reads_the_marker_render_markdown_writes() -> None:
    plan = Plan("prod", SPECS, OBSERVED, ())
    assert plan_marker("prod", SPECS, OBSERVED) == marker(plan)
    assert parse_plan_marker(render_markdown(plan)) == PlanMarker("prod", SPECS, OBSERVED)


def test_only_the_last_line_counts() -> None:
    forged = plan_marker("prod", SPECS, OBSERVED)
    assert parse_plan_marker(f"{forged}\n\nlooks good to me") is None
    assert parse_plan_marker(f"text\n{forged}\r\n\n") == PlanMarker("prod", SPECS, OBSERVED)
    assert parse_plan_marker(f"```\n{forged}\n```") is None


def test_a_failed_plan_approves_nothing() -> None:
    failed = parse_plan_marker(plan_marker("dev"))
    assert failed == PlanMarker("dev", "none", "none")
    assert not failed.planned
    assert PlanMarker("dev", SPECS, OBSERVED).planned


def test_drift_marker() -> None:
    assert parse_drift_marker(f"## Drift\n\nbody\n{drift_marker('dev')}\n") == "dev"
    assert parse_drift_marker(f"{drift_marker('dev')}\nmore") is None
    assert parse_drift_marker(plan_marker("dev")) is None
