"""The benchmark of issue 14 parts 2-4, before against after, on a local cluster of its own.

    python3 -m bench.overlap --before /path/to/older/checkout [--sizes 5000,10000]

"Before" is another checkout of the project (e.g. the main branch), "after" this one; each
runs as a CLI process from its own source tree, alternating, so background load hits both
alike. It measures:

- overlap: at each N, `plan` (no change) before and after, beside the floor of bare admin
  calls and `validate` alone (the load): a plan that overlaps approaches max(load, floor),
  one that does not, their sum;
- many environments: one `plan DIR...` process over E environments of T topics each
  (after), beside each of them planned alone (its slowest and the sum of all);
- apply overhead: `apply --auto-approve` creating 1,000 topics before and after, beside
  `plan` of the same environment (after) and one bare CreateTopics.

It prints a markdown table of medians (min-max) with the load average, and `--json FILE`
saves every sample. Exit 1 only when something could not be measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.run import (
    BenchError,
    CliRun,
    bare_create,
    check_plan_output,
    clean_slate,
    converge_topics,
    measure_floor,
    parse_sizes,
    progress,
    remove_topics,
    run_cli,
    start_cluster,
    wait_for_metadata,
    wait_until_describable,
)
from bench.run import measure_environments as run_environments
from bench.specs import (
    APPLY_PREFIX,
    MAIN_PREFIX,
    env_files,
    make_topics,
    write_env_dir,
)
from reconciler.local.kafka.cluster import down as cluster_down
from reconciler.local.kafka.distribution import cache_dir
from reconciler.local.kafka.errors import LocalKafkaError
from reconciler.local.kafka.state import LocalCluster

TIMEOUT_SECONDS = 120.0
Samples = dict[str, list[float]]


@dataclass(frozen=True)
class Bench:
    """What every measurement runs on: the cluster, the spec tree, the two CLIs."""

    cluster: LocalCluster
    work: Path
    before: list[str]
    after: list[str]
    repeat: int


def checkout_command(root: Path) -> list[str]:
    """The CLI of the checkout at `root`, whatever is installed."""
    code = f"import sys; sys.path.insert(0, {str(root)!r}); from reconciler.cli import main; main()"
    return [sys.executable, "-c", code]


def _load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _cli(command: list[str], work: Path, args: Sequence[str], expected: int = 0) -> CliRun:
    run = run_cli(args, command, cwd=work)
    if run.code != expected:
        raise run.failure(f"expected exit {expected}")
    return run


def _plan_args(env_dir: Path | str, *more: str) -> list[str]:
    return ["plan", str(env_dir), *more, "-o", "json", "--detailed-exitcode", "--no-color"]


def _turns(rep: int, before: list[str], after: list[str]) -> list[tuple[str, list[str]]]:
    """Before first in odd repetitions, after first in even ones: whichever runs second
    meets the brokers' garbage from the first (512 MB heaps)."""
    turns = [("before", before), ("after", after)]
    return turns if rep % 2 else turns[::-1]


def _add(samples: Samples, key: str, value: float) -> None:
    samples.setdefault(key, []).append(value)


def measure_overlap(bench: Bench, size: int) -> Samples:
    """Plan of N topics, no change: before and after, beside the floor and the load."""
    cluster, work, before, after, repeat = (
        bench.cluster,
        bench.work,
        bench.before,
        bench.after,
        bench.repeat,
    )
    progress(f"overlap N={size:,}: creating topics")
    topics = make_topics(size)
    converge_topics(cluster, topics)
    wait_until_describable(cluster.bootstrap_servers, size)
    env_dir = work / str(size) / "bench"
    manage = [f"{MAIN_PREFIX}-*"]
    write_env_dir(
        env_dir,
        env_files("bench", cluster.bootstrap_servers, manage, topics, timeout_seconds=120),
    )
    samples: Samples = {}
    for rep in range(1, repeat + 1):
        _add(samples, "floor", measure_floor(cluster.bootstrap_servers, size))
        validate = _cli(after, work, ["validate", str(env_dir)])
        _add(samples, "validate", validate.seconds)
        for label, command in _turns(rep, before, after):
            run = run_cli(_plan_args(env_dir), command, cwd=work)
            check_plan_output(run, [])
            _add(samples, f"plan {label}", run.seconds)
            _add(samples, f"plan {label} cpu", run.cpu_seconds)
            _add(samples, f"plan {label} rss", float(run.max_rss_bytes))
        progress(
            f"  rep {rep}: floor {samples['floor'][-1]:.2f}s, validate "
            f"{samples['validate'][-1]:.2f}s, plan before {samples['plan before'][-1]:.2f}s, "
            f"after {samples['plan after'][-1]:.2f}s (load {_load_average()})"
        )
    return samples


def measure_environments(bench: Bench, count: int, per_env: int) -> Samples:
    """One `plan DIR...` over `count` environments against each planned alone (after)."""
    result = run_environments(
        bench.cluster, bench.work, bench.after, repeat=bench.repeat, count=count, per_env=per_env
    )
    return {
        "together": list(result.together.samples),
        "together cpu": list(result.together_cpu.samples),
        "slowest alone": list(result.slowest.samples),
        "sum alone": list(result.total.samples),
        "sum alone cpu": list(result.total_cpu.samples),
    }


def measure_apply(bench: Bench, count: int) -> Samples:
    """Apply of `count` creates before and after, beside plan (after) and a bare create."""
    cluster, work, before, after, repeat = (
        bench.cluster,
        bench.work,
        bench.before,
        bench.after,
        bench.repeat,
    )
    topics = make_topics(count, prefix=APPLY_PREFIX)
    names = [t.name for t in topics]
    env_dir = work / "bench-apply"
    files = env_files(
        "bench-apply",
        cluster.bootstrap_servers,
        [f"{APPLY_PREFIX}-*"],
        topics,
        timeout_seconds=TIMEOUT_SECONDS,
    )
    write_env_dir(env_dir, files)
    remove_topics(cluster, names)
    samples: Samples = {}
    apply_args = ["apply", str(env_dir), "--auto-approve", "--no-color"]
    for rep in range(1, repeat + 1):
        plan = _cli(after, work, _plan_args(env_dir), expected=2)
        _add(samples, "plan after", plan.seconds)
        _add(samples, "plan after cpu", plan.cpu_seconds)
        for label, command in _turns(rep, before, after):
            run = _cli(command, work, apply_args)
            if f"Apply complete: {count} changes made" not in run.stdout:
                raise run.failure(f"expected {count} topics created")
            _add(samples, f"apply {label}", run.seconds)
            _add(samples, f"apply {label} cpu", run.cpu_seconds)
            remove_topics(cluster, names)
        _add(samples, "bare CreateTopics", bare_create(cluster.bootstrap_servers, topics))
        wait_for_metadata(cluster, names, present=True)
        remove_topics(cluster, names)
        progress(
            f"  rep {rep}: plan {plan.seconds:.2f}s, apply before "
            f"{samples['apply before'][-1]:.2f}s, after {samples['apply after'][-1]:.2f}s "
            f"(load {_load_average()})"
        )
    return samples


def _cell(values: list[float], scale: float = 1.0, unit: str = "s") -> str:
    median = statistics.median(values) / scale
    low, high = min(values) / scale, max(values) / scale
    digits = 0 if unit == " MB" else 2
    return f"{median:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f})"


def render(results: dict[str, Samples], setup: dict[str, str]) -> str:
    """The markdown table: one row per figure, medians (min-max)."""
    lines = ["| figure | median (min-max) |", "| --- | --- |"]
    for section, samples in results.items():
        for key, values in samples.items():
            rss = key.endswith("rss")
            cell = _cell(values, 1e6, " MB") if rss else _cell(values)
            lines.append(f"| {section}: {key} | {cell} |")
    lines.append("")
    lines.extend(f"- {key}: {value}" for key, value in setup.items())
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m bench.overlap", description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="the checkout to compare")
    parser.add_argument(
        "--after", type=Path, default=None, help="the checkout measured [default: this one]"
    )
    parser.add_argument("--sizes", type=parse_sizes, default=[5000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--environments", type=int, default=20)
    parser.add_argument("--environment-topics", type=int, default=250)
    parser.add_argument("--apply-topics", type=int, default=1000)
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="[default: <cache>/bench-overlap-cluster]"
    )
    parser.add_argument("--keep-cluster", action="store_true")
    parser.add_argument(
        "--only",
        action="append",
        choices=["apply", "environments", "plan"],
        help="measure only these parts (repeatable) [default: all]",
    )
    parser.add_argument("--json", type=Path, help="also write the raw samples here")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, work: Path) -> tuple[dict[str, Samples], dict[str, str]]:
    state_dir = (args.state_dir or cache_dir() / "bench-overlap-cluster").expanduser()
    before = checkout_command(args.before.resolve())
    after = checkout_command((args.after or Path(__file__).parent.parent).resolve())
    load_before = _load_average()
    cluster = start_cluster(state_dir)
    results: dict[str, Samples] = {}
    try:
        clean_slate(cluster)
        bench = Bench(cluster, work, before, after, args.repeat)
        parts = set(args.only or ("apply", "environments", "plan"))
        if args.apply_topics and "apply" in parts:
            title = f"apply {args.apply_topics:,} creates"
            results[title] = measure_apply(bench, args.apply_topics)
        if args.environments and "environments" in parts:
            title = f"{args.environments} environments x {args.environment_topics:,} topics"
            results[title] = measure_environments(bench, args.environments, args.environment_topics)
        for size in args.sizes if "plan" in parts else ():
            results[f"plan N={size:,}"] = measure_overlap(bench, size)
    finally:
        if not args.keep_cluster:
            cluster_down(state_dir)
    setup = {
        "command": "python3 -m bench.overlap " + shlex.join(sys.argv[1:]),
        "before": f"{args.before} ({shlex.join(before[:1])} -c ...)",
        "after": str(args.after or "this checkout"),
        "load average (1/5/15 min)": f"before {load_before}; after {_load_average()}",
        "cores": str(os.cpu_count()),
    }
    return results, setup


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="reconciler-overlap-") as work:
            results, setup = run(args, Path(work))
    except (BenchError, LocalKafkaError) as exc:
        print(f"bench: could not measure: {exc}", file=sys.stderr)
        return 1
    print(render(results, setup), end="")
    if args.json is not None:
        args.json.write_text(json.dumps({"results": results, "setup": setup}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
