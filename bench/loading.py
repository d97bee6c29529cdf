"""Spec loading at scale (issue 14, part 1): `reconciler validate` as a process. No cluster.

    python3 -m bench.loading [--sizes 1000,10000,20000] [--repeat 5] [--baseline CHECKOUT]

For each N it writes N topic documents as `bench.run` does (1 partition, the same mix of 0-3
overrides) twice: in one file, and in 100 files of N/100. Each repetition, interleaved, runs
`reconciler validate` on both, `reconciler --version` and `validate specs/dev`, and records
the wall time from spawn to exit, the CPU time (user + system) and the peak RSS. Wall time is
what a user waits for; on a shared machine it also holds the time other processes took, so
the CPU time is printed beside it. Then it times the refusal of each hostile input of
`bench.hostile` (a process each, killed after 60 s: a hang is a failure).

The code measured is this checkout's (`PYTHONPATH`); `--baseline CHECKOUT` also runs every
process measurement on another checkout (e.g. `git worktree add /tmp/base main`) and prints
the ratio. It exits 1 only if a command did not do what it must (a valid directory failed, a
hostile input was not refused with a located problem).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import hostile, report
from bench.run import parse_sizes, run_cli
from bench.specs import env_files, make_topics, write_env_dir
from reconciler.specs.collector import collector_paused
from reconciler.specs.yaml_source import parse_documents

ROOT = Path(__file__).resolve().parents[1]
TARGET_SIZE = 10_000
VALIDATE_SECONDS = 1.0
VERSION_SECONDS = 0.15
SMALL_VALIDATE_SECONDS = 0.4
HOSTILE_TIMEOUT = 60.0
_ENVIRONMENT = (
    "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: hostile}\n"
    "spec: {kafka: {bootstrapServers: 'b:9092'}}\n"
)


@dataclass
class Samples:
    """One process measurement, repeated: wall seconds, CPU seconds, peak RSS bytes."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_validate(args: Sequence[str], checkout: Path, samples: Samples) -> None:
    """`reconciler ARGS` on `checkout`'s code; it must exit 0."""
    os.environ["PYTHONPATH"] = str(checkout)
    before = _children_cpu()
    run = run_cli(args)
    samples.cpu.append(_children_cpu() - before)
    if run.code != 0:
        raise run.failure("expected exit 0")
    samples.wall.append(run.seconds)
    samples.rss.append(run.max_rss_bytes)


def write_sizes(work: Path, sizes: Sequence[int]) -> dict[str, Path]:
    """Label -> environment directory: each N in one file and in 100 files."""
    directories = {}
    for size in sizes:
        topics = make_topics(size)
        for label, per_file in (("1 file", size), ("100 files", max(1, size // 100))):
            name = f"load-{size}-{'one' if per_file == size else 'many'}"
            files = env_files(name, "localhost:9092", ["bench-*"], topics, per_file=per_file)
            write_env_dir(work / name, files)
            directories[f"{report.format_count(size)}|validate, {size:,} topics in {label}"] = (
                work / name
            )
    return directories


def time_hostile(work: Path) -> list[report.Row]:
    """Each hostile input in a `validate` process: the time to its refusal."""
    rows = []
    directory = work / "hostile"
    directory.mkdir(exist_ok=True)
    (directory / "env.yaml").write_text(_ENVIRONMENT, encoding="utf-8")
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", "validate"]
    for name, (expected, make) in hostile.INPUTS.items():
        (directory / "hostile.yaml").write_text(make(), encoding="utf-8")
        os.environ["PYTHONPATH"] = str(ROOT)
        started = time.perf_counter()
        result = subprocess.run(
            [*command, str(directory)],
            capture_output=True,
            text=True,
            check=False,
            timeout=HOSTILE_TIMEOUT,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 1 or expected not in result.stderr or "Traceback" in result.stderr:
            raise SystemExit(f"{name}: not refused as expected:\n{result.stderr[-2000:]}")
        stat = report.Stat.of([seconds])
        rows.append(report.Row("hostile", f"refused by `validate`: {name}", *_times(stat)))
        rows.append(report.Row("hostile", f"the YAML reader alone: {name}", *_times(_read(make()))))
    return rows


def _read(text: str, repeat: int = 3) -> report.Stat:
    """The YAML reader alone on `text`, in this process (CPU seconds): the refusal itself,
    without a process start."""
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        with collector_paused():
            parse_documents(text, "hostile.yaml")
        samples.append(time.process_time() - started)
    return report.Stat.of(samples)


def _times(stat: report.Stat) -> tuple[str, str]:
    return report.format_seconds(stat.median), report.format_time_spread(stat)


def _rows(
    label: str, samples: Samples, baseline: Samples | None, target: float | None
) -> list[report.Row]:
    size, measurement = label.split("|", 1)
    wall, cpu = report.Stat.of(samples.wall), report.Stat.of(samples.cpu)
    ratio = cpu_ratio = ""
    if baseline is not None:
        ratio = f"{wall.median / report.Stat.of(baseline.wall).median:.2f}x baseline"
        cpu_ratio = f"{cpu.median / report.Stat.of(baseline.cpu).median:.2f}x baseline"
    verdict = ""
    goal = ""
    if target is not None:
        goal = f"< {report.format_seconds(target)}"
        verdict = report.MET if wall.median < target else report.MISSED
    rows = [
        report.Row(size, f"{measurement} (wall)", *_times(wall), ratio, goal, verdict),
        report.Row(size, f"{measurement} (CPU user+sys)", *_times(cpu), cpu_ratio),
        report.Row(
            size,
            f"{measurement} (peak RSS)",
            report.format_megabytes(report.Stat.of(samples.rss).median),
            report.format_bytes_spread(report.Stat.of(samples.rss)),
        ),
    ]
    if baseline is not None:
        base_wall, base_cpu = report.Stat.of(baseline.wall), report.Stat.of(baseline.cpu)
        rows.append(report.Row(size, f"{measurement} (baseline, wall)", *_times(base_wall)))
        rows.append(report.Row(size, f"{measurement} (baseline, CPU)", *_times(base_cpu)))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.loading", description=__doc__)
    parser.add_argument("--sizes", type=parse_sizes, default=[1000, 10_000, 20_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--no-hostile", action="store_true", help="skip the hostile inputs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-loading-") as tmp:
        work = Path(tmp)
        directories = {
            "any|reconciler --version": None,
            "any|validate specs/dev": ROOT / "specs" / "dev",
            **write_sizes(work, args.sizes),
        }
        checkouts = {"this": ROOT, **({"baseline": args.baseline} if args.baseline else {})}
        measured = {(label, c): Samples() for label in directories for c in checkouts}
        for repetition in range(args.repeat):
            print(f"repetition {repetition + 1}/{args.repeat}", file=sys.stderr, flush=True)
            for label, directory in directories.items():
                command = ["--version"] if directory is None else ["validate", str(directory)]
                for checkout_name, checkout in checkouts.items():
                    run_validate(command, checkout, measured[(label, checkout_name)])
        rows = []
        for label, directory in directories.items():
            target = None
            if directory is None:
                target = VERSION_SECONDS
            elif label.startswith("any"):
                target = SMALL_VALIDATE_SECONDS
            elif label.startswith(report.format_count(TARGET_SIZE)):
                target = VALIDATE_SECONDS
            base = measured.get((label, "baseline"))
            rows.extend(_rows(label, measured[(label, "this")], base, target))
        if not args.no_hostile:
            rows.extend(time_hostile(work))
    load_average = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(report.markdown_table(rows))
    print(f"\nload average at the end: {load_average} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
