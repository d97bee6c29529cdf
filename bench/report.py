"""Statistics of repeated measurements and the markdown report. Pure.

Each measurement is repeated; the report shows its median and its spread (min-max), the
ratio to its baseline (the floor of bare admin calls, or the bare CreateTopics), and the
targets of issues 5 and 14 beside them. Targets are read from the table, never asserted.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TARGET_SIZE = 10_000
"""The size at which the plan, validate, memory and render targets apply."""
PLAN_FLOOR_RATIO = 1.1
"""Issue 14 (issue 5 asked for 1.5x)."""
GROWTH_SLACK = 1.2
"""plan(10k) <= 12x plan(1k): 1.2 times the growth in topics."""
APPLY_OVER_PLAN_SECONDS = 0.5
"""Issue 14: apply of the creates within the plan of the same environment + 0.5 s."""
PLAN_RSS_BYTES = 300_000_000
"""Issue 14 (issue 5 asked for 400 MB)."""
RENDER_SECONDS = 1.0
VALIDATE_SECONDS = 1.0
ENVIRONMENTS_RATIO = 1.2
"""Issue 14: many environments in one process take "about as long as the slowest one"."""

MET, MISSED = "met", "**MISSED**"


@dataclass(frozen=True)
class Stat:
    """Samples of one measurement (seconds, or bytes for memory)."""

    samples: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError("a measurement needs at least one sample")

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stat:
        return cls(tuple(samples))

    @property
    def median(self) -> float:
        return float(statistics.median(self.samples))

    @property
    def minimum(self) -> float:
        return min(self.samples)

    @property
    def maximum(self) -> float:
        return max(self.samples)


@dataclass(frozen=True)
class SizeResult:
    """Everything measured at one number of topics N."""

    size: int
    floor: Stat
    plan_cli: Stat
    plan_inproc: Stat
    plan_one_cli: Stat
    plan_one_inproc: Stat
    plan_rss: Stat
    render_markdown: Stat
    render_json: Stat
    apply_cli: Stat | None = None
    bare_create: Stat | None = None
    apply_topics: int = 0
    floor_chunked: Stat | None = None
    """The floor with DescribeConfigs sent ``floor_chunk`` topics at a time (information)."""
    floor_chunk: int = 0
    validate: Stat | None = None
    """``reconciler validate`` of the N topic documents, as a process (wall, then CPU)."""
    validate_cpu: Stat | None = None
    apply_plan: Stat | None = None
    """``reconciler plan`` of the environment apply then creates: what apply is judged by."""


@dataclass(frozen=True)
class EnvironmentsResult:
    """``plan DIR...`` of ``count`` environments of ``per_env`` topics in one process,
    against each of them planned alone by its own process."""

    count: int
    per_env: int
    together: Stat
    together_cpu: Stat
    slowest: Stat
    total: Stat
    total_cpu: Stat
    #: The bare admin calls for every environment's topics at once: what one process must
    #: read, whichever way it is planned (they share one cluster).
    floor: Stat


@dataclass(frozen=True)
class Row:
    size: str
    measurement: str
    median: str
    spread: str
    ratio: str = ""
    target: str = ""
    status: str = ""


@dataclass(frozen=True)
class Report:
    machine: Mapping[str, str]
    setup: Mapping[str, str]
    results: Sequence[SizeResult]
    startup: Stat | None = None
    notes: Sequence[str] = field(default_factory=tuple)
    environments: EnvironmentsResult | None = None


# --------------------------------------------------------------------------- formatting


def _time_unit(seconds: float) -> tuple[float, str, int]:
    """(scale, suffix, decimals) that show ``seconds`` with about three digits."""
    if seconds >= 100:
        return 1.0, "s", 0
    if seconds >= 10:
        return 1.0, "s", 1
    if seconds >= 1:
        return 1.0, "s", 2
    ms = seconds * 1000
    if ms >= 100:
        return 1000.0, "ms", 0
    if ms >= 10:
        return 1000.0, "ms", 1
    return 1000.0, "ms", 2


def format_seconds(seconds: float) -> str:
    scale, suffix, decimals = _time_unit(seconds)
    return f"{seconds * scale:.{decimals}f} {suffix}"


def format_time_spread(stat: Stat) -> str:
    """``min-max`` in the median's unit, e.g. ``1.21-1.35 s``."""
    scale, suffix, decimals = _time_unit(stat.median)
    return f"{stat.minimum * scale:.{decimals}f}-{stat.maximum * scale:.{decimals}f} {suffix}"


def format_megabytes(value: float) -> str:
    return f"{value / 1e6:.0f} MB"


def format_bytes_spread(stat: Stat) -> str:
    return f"{stat.minimum / 1e6:.0f}-{stat.maximum / 1e6:.0f} MB"


def format_count(value: int) -> str:
    return f"{value:,}"


def format_ratio(value: float) -> str:
    return f"{value:.2f}x"


def _verdict(ok: bool) -> str:
    return MET if ok else MISSED


# --------------------------------------------------------------------------- rows


def _time_row(
    size: str, measurement: str, stat: Stat, *, ratio: str = "", target: str = "", status: str = ""
) -> Row:
    return Row(
        size,
        measurement,
        format_seconds(stat.median),
        format_time_spread(stat),
        ratio,
        target,
        status,
    )


def size_rows(result: SizeResult) -> list[Row]:
    """The rows of one N: floor, plans, memory, render, apply."""
    n = format_count(result.size)
    at_target = result.size == TARGET_SIZE  # 20,000 topics are not held to 10,000's targets
    floor = result.floor.median
    target_n = format_count(TARGET_SIZE)

    def vs_floor(stat: Stat) -> str:
        return f"{format_ratio(stat.median / floor)} floor" if floor > 0 else ""

    plan_target = f"<= {PLAN_FLOOR_RATIO:g}x floor at {target_n}"
    plan_ratio = result.plan_cli.median / floor if floor > 0 else float("inf")
    rows = [
        _time_row(
            n, "floor: bare admin calls (metadata, cluster, configs)", result.floor, ratio="1.00x"
        ),
        _time_row(
            n,
            "plan, no change (CLI process)",
            result.plan_cli,
            ratio=vs_floor(result.plan_cli),
            target=plan_target,
            status=_verdict(plan_ratio <= PLAN_FLOOR_RATIO) if at_target else "",
        ),
        _time_row(
            n,
            "plan, no change (in-process plan_environment)",
            result.plan_inproc,
            ratio=vs_floor(result.plan_inproc),
        ),
        _time_row(
            n,
            "plan, one change (CLI process)",
            result.plan_one_cli,
            ratio=vs_floor(result.plan_one_cli),
        ),
        _time_row(
            n,
            "plan, one change (in-process plan_environment)",
            result.plan_one_inproc,
            ratio=vs_floor(result.plan_one_inproc),
        ),
        Row(
            n,
            "plan peak RSS (CLI process, no change)",
            format_megabytes(result.plan_rss.median),
            format_bytes_spread(result.plan_rss),
            "",
            f"< {format_megabytes(PLAN_RSS_BYTES)} at {target_n}",
            _verdict(result.plan_rss.median < PLAN_RSS_BYTES) if at_target else "",
        ),
    ]
    if result.floor_chunked is not None:
        rows.insert(
            1,
            _time_row(
                n,
                f"floor variant: DescribeConfigs {format_count(result.floor_chunk)} topics "
                "per request",
                result.floor_chunked,
                ratio=vs_floor(result.floor_chunked),
            ),
        )
    if result.validate is not None:
        rows.append(
            _time_row(
                n,
                f"validate, {n} topic documents (CLI process)",
                result.validate,
                target=f"< {VALIDATE_SECONDS:g} s at {target_n}",
                status=_verdict(result.validate.median < VALIDATE_SECONDS) if at_target else "",
            )
        )
    if result.validate_cpu is not None:
        rows.append(_time_row(n, "validate, CPU time (user + system)", result.validate_cpu))
    for label, stat in (("markdown", result.render_markdown), ("JSON", result.render_json)):
        rows.append(
            _time_row(
                n,
                f"render {label}, all {n} topics changing",
                stat,
                target=f"< {RENDER_SECONDS:g} s at {target_n}",
                status=_verdict(stat.median < RENDER_SECONDS) if at_target else "",
            )
        )
    if result.apply_cli is not None and result.bare_create is not None:
        created = format_count(result.apply_topics)
        bare = result.bare_create.median
        ratio = result.apply_cli.median / bare if bare > 0 else float("inf")
        rows.append(
            _time_row(n, f"bare CreateTopics, {created} topics (one batch)", result.bare_create)
        )
        if result.apply_plan is not None:
            rows.append(
                _time_row(n, f"plan of the {created} creates (CLI process)", result.apply_plan)
            )
        over = result.apply_cli.median - result.apply_plan.median if result.apply_plan else None
        rows.append(
            _time_row(
                n,
                f"apply --auto-approve, {created} new topics (CLI process)",
                result.apply_cli,
                ratio=f"{format_ratio(ratio)} bare create"
                + ("" if over is None else f", plan {over:+.2f} s"),
                target=f"<= plan + {APPLY_OVER_PLAN_SECONDS:g} s",
                status="" if over is None else _verdict(over <= APPLY_OVER_PLAN_SECONDS),
            )
        )
    return rows


def growth_rows(results: Sequence[SizeResult]) -> list[Row]:
    """plan(N2)/plan(N1) for consecutive sizes; linear means about N2/N1."""
    rows = []
    ordered = sorted(results, key=lambda r: r.size)
    for small, large in itertools.pairwise(ordered):
        if small.size <= 0:
            continue
        factor = large.size / small.size
        limit = GROWTH_SLACK * factor
        label = f"{format_count(small.size)} to {format_count(large.size)}"
        for how, a, b in (
            ("CLI process", small.plan_cli, large.plan_cli),
            ("in-process", small.plan_inproc, large.plan_inproc),
        ):
            growth = b.median / a.median if a.median > 0 else float("inf")
            is_target = how == "CLI process"
            rows.append(
                Row(
                    label,
                    f"plan growth, no change ({how}; topics x{factor:g})",
                    format_ratio(growth),
                    "",
                    "",
                    f"<= {limit:g}x" if is_target else "",
                    _verdict(growth <= limit) if is_target else "",
                )
            )
    return rows


def environments_rows(result: EnvironmentsResult) -> list[Row]:
    """One process planning every environment, beside the slowest and the sum alone."""
    size = f"{result.count} x {format_count(result.per_env)}"
    slowest = result.slowest.median
    ratio = result.together.median / slowest if slowest > 0 else float("inf")
    return [
        _time_row(
            size,
            f"plan of {result.count} environments in one process (`plan DIR...`)",
            result.together,
            ratio=f"{format_ratio(ratio)} slowest",
            target=f"<= {ENVIRONMENTS_RATIO:g}x slowest alone",
            status=_verdict(ratio <= ENVIRONMENTS_RATIO),
        ),
        _time_row(size, "the slowest environment planned alone (CLI process)", result.slowest),
        _time_row(
            size,
            f"floor: bare admin calls for all {format_count(result.count * result.per_env)} "
            "of their topics",
            result.floor,
            ratio=f"{format_ratio(result.together.median / result.floor.median)} together"
            if result.floor.median > 0
            else "",
        ),
        _time_row(size, f"the {result.count} planned one by one (sum)", result.total),
        _time_row(size, "CPU time: one process for all", result.together_cpu),
        _time_row(size, "CPU time: one by one (sum)", result.total_cpu),
    ]


def all_rows(report: Report) -> list[Row]:
    rows: list[Row] = []
    if report.startup is not None:
        rows.append(_time_row("any", "CLI start-up alone (`reconciler --version`)", report.startup))
    for result in sorted(report.results, key=lambda r: r.size):
        rows.extend(size_rows(result))
    rows.extend(growth_rows(report.results))
    if report.environments is not None:
        rows.extend(environments_rows(report.environments))
    return rows


# --------------------------------------------------------------------------- markdown

_HEADER = ("N", "measurement", "median", "min-max", "ratio", "target", "target met")
_RIGHT = {2, 3, 4}


def markdown_table(rows: Sequence[Row]) -> str:
    """A markdown table, padded so it also reads well in a terminal."""
    cells = [list(_HEADER)] + [
        [r.size, r.measurement, r.median, r.spread, r.ratio, r.target, r.status] for r in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_HEADER))]

    def line(values: Sequence[str]) -> str:
        padded = [
            v.rjust(widths[i]) if i in _RIGHT else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if i in _RIGHT else "-" * w for i, w in enumerate(widths)]
    return "\n".join([line(cells[0]), line(rule), *(line(c) for c in cells[1:])])


def _bullets(values: Mapping[str, str]) -> list[str]:
    return [f"- {key}: {value}" for key, value in values.items()]


def render_report(report: Report) -> str:
    """The whole report: machine, setup, table, missed targets, notes."""
    rows = all_rows(report)
    missed = [r for r in rows if r.status == MISSED]
    lines = ["## Benchmark results", "", "Machine:", "", *_bullets(report.machine), ""]
    lines += ["Setup:", "", *_bullets(report.setup), ""]
    lines += [markdown_table(rows), ""]
    if missed:
        lines.append(f"Targets missed: {len(missed)}")
        lines.extend(f"- N={r.size}: {r.measurement}: {r.target}" for r in missed)
    else:
        lines.append("Targets missed: none")
    if report.notes:
        lines += ["", "Notes:", "", *(f"- {note}" for note in report.notes)]
    return "\n".join(lines) + "\n"


def report_to_dict(report: Report) -> dict[str, Any]:
    """Raw samples for ``--json``: seconds, and bytes for memory."""

    def stat(value: Stat | None) -> list[float] | None:
        return None if value is None else list(value.samples)

    return {
        "machine": dict(report.machine),
        "setup": dict(report.setup),
        "startup_seconds": stat(report.startup),
        "results": [
            {
                "size": r.size,
                "floor_seconds": stat(r.floor),
                "floor_chunked_seconds": stat(r.floor_chunked),
                "floor_chunk": r.floor_chunk,
                "plan_cli_seconds": stat(r.plan_cli),
                "plan_inprocess_seconds": stat(r.plan_inproc),
                "plan_one_change_cli_seconds": stat(r.plan_one_cli),
                "plan_one_change_inprocess_seconds": stat(r.plan_one_inproc),
                "plan_peak_rss_bytes": stat(r.plan_rss),
                "render_markdown_seconds": stat(r.render_markdown),
                "render_json_seconds": stat(r.render_json),
                "apply_topics": r.apply_topics,
                "apply_cli_seconds": stat(r.apply_cli),
                "bare_create_seconds": stat(r.bare_create),
                "apply_plan_cli_seconds": stat(r.apply_plan),
                "validate_cli_seconds": stat(r.validate),
                "validate_cpu_seconds": stat(r.validate_cpu),
            }
            for r in sorted(report.results, key=lambda r: r.size)
        ],
        "environments": None
        if report.environments is None
        else {
            "count": report.environments.count,
            "topics_each": report.environments.per_env,
            "together_seconds": stat(report.environments.together),
            "together_cpu_seconds": stat(report.environments.together_cpu),
            "slowest_alone_seconds": stat(report.environments.slowest),
            "sum_alone_seconds": stat(report.environments.total),
            "sum_alone_cpu_seconds": stat(report.environments.total_cpu),
            "floor_seconds": stat(report.environments.floor),
        },
        "notes": list(report.notes),
    }
