"""The literal-secret scan on hostile and ordinary spec text (issue 9), in-process, no cluster.

    python3 -m bench.untrusted [--megabytes 1] [--repeat 3]

For each input it times `specs.secrets.literal_secrets` on the text at `--megabytes` MB and
at twice that: a linear scan takes about twice as long (the ratio column), a backtracking
one far more. The inputs are the shapes that made the scan's former pattern backtrack for
hours (a credential word repeated with no colon: cubic), a file of nothing but
`password: x` lines (the scan stops after its limit), and an ordinary topics file with
its parsed documents. It prints a markdown table.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from reconciler.specs.secrets import literal_secrets
from reconciler.specs.yaml_source import parse_documents

MB = 1_000_000


def _topics(size: int) -> str:
    one = (
        "---\napiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: orders-{i}, labels: "
        "{{team: payments}}}}\nspec:\n  partitions: 6\n  replicationFactor: 2\n"
        "  config: {{retention.ms: 7d, compression.type: snappy}}\n"
    )
    parts, total, index = [], 0, 0
    while total < size:
        parts.append(one.format(i=index))
        total += len(parts[-1])
        index += 1
    return "".join(parts)


#: name -> the text of about `size` characters.
INPUTS: dict[str, Callable[[int], str]] = {
    "`password` repeated, no colon": lambda size: "password" * (size // 8) + "\n",
    "`password.` repeated, a colon at the end": lambda size: "password." * (size // 9) + ": x\n",
    "`secret ` repeated": lambda size: "secret " * (size // 7) + "\n",
    "`-----BEGIN A A A ...`": lambda size: "-----BEGIN " + "A " * (size // 2) + "\n",
    "only `password: x` lines": lambda size: "password: x\n" * (size // 12),
    "ordinary topics (with documents)": _topics,
}


def _seconds(text: str, with_documents: bool, repeat: int) -> tuple[float, int]:
    documents = parse_documents(text, "bench.yaml")[0] if with_documents else []
    best, found = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = len(literal_secrets(text, "bench.yaml", documents))
        best = min(best, time.perf_counter() - start)
    return best, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per input; the best counts")
    args = parser.parse_args()
    size = int(args.megabytes * MB)
    print(f"literal_secrets, best of {args.repeat}, at {args.megabytes:g} MB and twice that\n")
    print("| input | problems | time at 1x | time at 2x | 2x / 1x |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, make in INPUTS.items():
        with_documents = "documents" in name
        once, found = _seconds(make(size), with_documents, args.repeat)
        twice, _ = _seconds(make(2 * size), with_documents, args.repeat)
        ratio = twice / once if once else 0.0
        print(f"| {name} | {found} | {once:.3f} s | {twice:.3f} s | {ratio:.1f} |")


if __name__ == "__main__":
    main()
