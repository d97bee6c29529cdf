"""How long `reconciler import` takes next to `reconciler plan`, on a real local cluster.

    python3 -m bench.adopt [--sizes 1000,10000] [--repeat 3] [--keep-cluster]

For each N it creates N topics out of band (the benchmark's config mix), writes an
Environment that owns them and no topic file, then alternates, as processes: `import` (the
files it wrote are removed before the next one) and `plan` of the imported directory, which
must be empty. It prints a markdown table of medians and min-max; it exits non-zero only
when it could not measure.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.run import (
    BenchError,
    CliRun,
    _load,
    clean_slate,
    converge_topics,
    parse_sizes,
    progress,
    run_cli,
    start_cluster,
    wait_until_describable,
)
from bench.specs import MAIN_PREFIX, environment_document, make_topics
from reconciler.local.kafka.cluster import down as cluster_down
from reconciler.local.kafka.distribution import cache_dir


def _ran(run: CliRun, expected: str, codes: tuple[int, ...] = (0,)) -> float:
    if run.code not in codes:
        raise run.failure(expected)
    return run.seconds


def measure(bootstrap: str, size: int, repeat: int, work: Path) -> tuple[list[float], list[float]]:
    env_dir = work / f"adopt-{size}" / "specs" / "bench"
    env_dir.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(env_dir.parent.parent)], check=True)
    environment = environment_document("bench", bootstrap, [f"{MAIN_PREFIX}-*"])
    (env_dir / "environment.yaml").write_text(environment, encoding="utf-8")
    imports: list[float] = []
    plans: list[float] = []
    for _ in range(repeat):
        for written in env_dir.glob("topics*.yaml"):
            written.unlink()
        imports.append(_ran(run_cli(["import", str(env_dir)]), "import"))
        plan = run_cli(["plan", str(env_dir), "--detailed-exitcode", "-o", "json"])
        plans.append(_ran(plan, "an empty plan after import"))
    return imports, plans


def _cell(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.adopt")
    parser.add_argument("--sizes", type=parse_sizes, default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep-cluster", action="store_true")
    args = parser.parse_args(argv)
    state_dir = cache_dir() / "bench-cluster-adopt"
    cluster = start_cluster(state_dir)
    rows = []
    try:
        clean_slate(cluster)
        with tempfile.TemporaryDirectory() as work:
            for size in args.sizes:
                converge_topics(cluster, make_topics(size))
                wait_until_describable(cluster.bootstrap_servers, size)
                progress(f"{size:,} topics: import and plan, {args.repeat} times each")
                imports, plans = measure(cluster.bootstrap_servers, size, args.repeat, Path(work))
                ratio = statistics.median(imports) / statistics.median(plans)
                rows.append(f"| {size:,} | {_cell(imports)} | {_cell(plans)} | {ratio:.2f}x |")
    except BenchError as exc:
        print(f"bench.adopt: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep_cluster:
            cluster_down(state_dir)
            shutil.rmtree(state_dir, ignore_errors=True)
    print(f"load average at the end: {_load()}")
    print("| topics | import (process) | plan after it (process) | import / plan |")
    print("| ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
