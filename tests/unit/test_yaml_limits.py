"""Spec files are untrusted: every limit of the YAML reader is a located error, fast, with
bounded memory, and legitimate anchors, aliases and merge keys still work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.specs import yaml_source
from reconciler.specs.yaml_source import load_documents

#: A hang guard, not a speed target (the refusals take milliseconds; a reader that expanded or
#: recursed would take minutes or crash): generous, so a loaded CI machine never trips it.
HANG = 20.0

ENVIRONMENT = (
    "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: t}\n"
    "spec: {kafka: {bootstrapServers: 'b:9092'}}\n"
)


def laughs(levels: int = 9) -> str:
    """The billion laughs: each level is nine aliases of the one before."""
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        items = ", ".join(f"*a{level - 1}" for _ in range(9))
        lines.append(f"a{level}: &a{level} [{items}]")
    return "\n".join(lines) + "\n"


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "specs.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = load_documents(path, "specs.yaml")
    return [str(p) for p in problems]


def test_the_alias_bomb_is_refused_in_bounded_time(tmp_path: Path) -> None:
    started = time.perf_counter()
    [problem] = problems_of(tmp_path, laughs())
    assert time.perf_counter() - started < HANG
    assert problem.startswith("specs.yaml:")
    assert "aliases expand this document to more than" in problem


def test_the_alias_bomb_is_refused_through_the_cli_with_bounded_memory(tmp_path: Path) -> None:
    """In a child process capped at 1 GiB of address space (expanding would need far more, and
    a MemoryError would be a traceback, not this error)."""
    (tmp_path / "env.yaml").write_text(ENVIRONMENT + "---\n" + laughs(), encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({2**30}, {2**30}))
        from reconciler.cli import main
        sys.argv = ["reconciler", "validate", {str(tmp_path)!r}]
        main()
        """
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert time.perf_counter() - started < HANG  # process start included
    assert result.returncode == 1, result.stderr
    assert "env.yaml:" in result.stderr and "aliases expand" in result.stderr
    assert "Traceback" not in result.stderr


def test_deep_nesting_is_refused_before_libyaml_recurses(tmp_path: Path) -> None:
    """libyaml's composer crashes the process near 100,000 levels; the reader never composes."""
    started = time.perf_counter()
    [problem] = problems_of(tmp_path, "x: " + "[" * 200_000 + "]" * 200_000 + "\n")
    assert time.perf_counter() - started < HANG
    assert "specs.yaml:1:" in problem and "nested more than 64 levels deep" in problem


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "a: &loop\n  b: *loop\n")
    assert "specs.yaml:2:6" in problem and "recursive" in problem


def test_an_alias_without_its_anchor_is_refused(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "a: *nowhere\n")
    assert "specs.yaml:1:4" in problem and "names no anchor" in problem


def test_too_many_documents_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_source, "MAX_DOCUMENTS", 50)
    [problem] = problems_of(tmp_path, "---\n" * 51)  # empty documents count too
    assert "specs.yaml:51:1" in problem and "more than 50 documents" in problem


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(yaml_source.MAX_FILE_BYTES + 1)  # sparse: nothing is written
    started = time.perf_counter()
    documents, [problem] = load_documents(path, "huge.yaml")
    assert time.perf_counter() - started < HANG
    assert documents == []
    assert str(problem).startswith("huge.yaml:1:1: is 16.0 MiB; a spec file may be at most 16")


def test_tags_on_collections_are_refused(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "a: !!set {x, y}\n")
    assert "tag:yaml.org,2002:set is not supported" in problem


def test_anchors_aliases_and_merge_keys_work_within_bounds(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        shared: &defaults {partitions: 3, replicationFactor: 2}
        topics:
          - name: a
            <<: *defaults
          - name: b
            <<: *defaults
            partitions: 6
          - *defaults
        """
    )
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    [document], problems = load_documents(path, "ok.yaml")
    assert problems == []
    first, second, third = document.data["topics"]
    assert first == {"name": "a", "partitions": 3, "replicationFactor": 2}
    assert second == {"name": "b", "partitions": 6, "replicationFactor": 2}  # own key wins
    assert third == {"partitions": 3, "replicationFactor": 2}
    assert str(document.location(("topics", 1, "partitions"))) == "ok.yaml:7:17"
    assert str(document.location(("topics", 0, "partitions"))) == "ok.yaml:4:9"  # at the <<
    assert str(document.location(("topics", 2, "replicationFactor"))) == "ok.yaml:1:54"


def test_scalars_resolve_as_safe_load_does(tmp_path: Path) -> None:
    text = "a: 6\nb: '6'\nc: true\nd: 7d\ne: null\nf: 0.5\ng: 0x10\nh: 2025-01-02\n"
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    [document], _ = load_documents(path)
    import yaml

    assert document.data == yaml.safe_load(text)


def test_duplicate_keys_and_syntax_errors_stay_located(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "a: 1\na: 2\n") == [
        "specs.yaml:2:1: a: duplicate key (first defined at line 1)"
    ]
    [problem] = problems_of(tmp_path, "a: [1, 2\n")
    assert problem.startswith("specs.yaml:2:1: invalid YAML")


def test_validate_refuses_a_hostile_file_with_exit_1(tmp_path: Path) -> None:
    (tmp_path / "env.yaml").write_text(ENVIRONMENT, encoding="utf-8")
    (tmp_path / "deep.yaml").write_text("[" * 100_000, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "deep.yaml:1:" in result.output and "nested more than 64" in result.output
