"""Spec files are untrusted: every limit of the YAML reader is a located error, fast, with
bounded memory, and legitimate anchors, aliases and merge keys still work."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench import hostile
from reconciler.cli import main
from reconciler.specs import yaml_source
from reconciler.specs.yaml_source import load_documents

#: A hang guard, not a speed target (`python3 -m bench.loading` prints how long each refusal
#: takes; a reader that expanded, recursed or computed quadratically would take minutes or
#: crash): generous, so a loaded CI machine never trips it.
HANG = 20.0

ENVIRONMENT = (
    "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: t}\n"
    "spec: {kafka: {bootstrapServers: 'b:9092'}}\n"
)


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "specs.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = load_documents(path, "specs.yaml")
    return [str(p) for p in problems]


# -- hostile inputs, each in a child process: bounded time (a timeout) and memory (an rlimit) --

ROOT = Path(__file__).resolve().parents[2]
#: Address space of the child: expanding or copying what these inputs describe needs far more.
MEMORY = 2**30


def validate_guarded(directory: Path) -> subprocess.CompletedProcess[str]:
    """`reconciler validate DIRECTORY` in a child capped at MEMORY and killed after HANG
    seconds (a TimeoutExpired fails the test: the reader hung)."""
    code = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY}))
        from reconciler.cli import main
        sys.argv = ["reconciler", "validate", {str(directory)!r}]
        main()
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=HANG,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's reconciler
    )


def refused(tmp_path: Path, text: str) -> str:
    """The first problem `validate` reports for a spec file holding `text`: exit 1, no
    traceback."""
    (tmp_path / "env.yaml").write_text(ENVIRONMENT, encoding="utf-8")
    (tmp_path / "hostile.yaml").write_text(text, encoding="utf-8")
    result = validate_guarded(tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    first = next(line for line in result.stderr.splitlines() if "hostile.yaml:" in line)
    return "hostile.yaml:" + first.split("hostile.yaml:", 1)[1]


def test_the_alias_bomb_is_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """Expanding it would need far more than the child's 1 GiB (and a MemoryError would be
    a traceback, not this error)."""
    problem = refused(tmp_path, hostile.laughs())
    assert problem.startswith("hostile.yaml:")
    assert "aliases expand this document to more than" in problem


def test_deep_nesting_is_refused_before_libyaml_recurses(tmp_path: Path) -> None:
    """libyaml's composer crashes the process near 100,000 levels; the reader never composes."""
    problem = refused(tmp_path, hostile.deep_flow())
    assert problem.startswith("hostile.yaml:1:") and "nested more than 64 levels deep" in problem


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
    documents, [problem] = load_documents(path, "huge.yaml")
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


def test_many_anchors_cost_linear_time(tmp_path: Path) -> None:
    """Each anchor's marks are shared, not copied: 20,000 anchored mappings, one in ten
    aliased, are read in one pass (copying the marks took a minute: quadratic)."""
    problem = refused(tmp_path, hostile.many_anchors(20_000))
    assert "apiVersion" in problem  # read through to the end, then the envelope is checked


def test_the_aliases_of_one_document_are_bounded(tmp_path: Path) -> None:
    problem = refused(tmp_path, hostile.many_aliases(yaml_source.MAX_ALIASES + 1))
    assert problem.startswith("hostile.yaml:2:")
    assert "more than 10,000 aliases in one document" in problem


def test_a_long_base_60_number_is_refused_before_it_is_computed(tmp_path: Path) -> None:
    """YAML 1.1 reads 1:2:3 as 3723; PyYAML computes a long one in quadratic time."""
    problem = refused(tmp_path, hostile.base_60(1_000_000))
    assert problem.startswith("hostile.yaml:1:4:")
    assert "a number written with more than 100 characters" in problem


def test_short_base_60_numbers_still_read_as_safe_load_reads_them(tmp_path: Path) -> None:
    [document], problems = load_documents(write(tmp_path, "a: 1:30\nb: 190:20:30\n"), "s")
    assert problems == []
    assert document.data == {"a": 90, "b": 685230}


def test_an_integer_past_pythons_digit_limit_is_a_located_problem(tmp_path: Path) -> None:
    problem = refused(tmp_path, hostile.long_integer(5000))
    assert problem.startswith("hostile.yaml:1:4:")
    assert "more than 100 characters" in problem


def test_a_value_that_looks_like_a_date_but_is_none_is_a_located_problem(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "a: 1\nwhen: 2025-13-01\n")
    assert problem.startswith("specs.yaml:2:7: cannot be read as timestamp (month must be in")
    assert "quote it" in problem


def test_nesting_through_aliases_is_bounded(tmp_path: Path) -> None:
    """Each anchor nests 40 levels and holds the one before: 400 levels with 40 open at a
    time. Unbounded, the values' own depth makes Python's recursion fail later."""
    problem = refused(tmp_path, hostile.alias_nesting(40, 10))
    assert problem.startswith("hostile.yaml:2:")
    assert "nested more than 64 levels deep (aliases included)" in problem


def test_deep_plain_nesting_is_refused_in_a_bounded_child(tmp_path: Path) -> None:
    problem = refused(tmp_path, hostile.deep_block(2000))
    assert "nested more than 64 levels deep" in problem


def test_a_list_or_mapping_alias_as_a_mapping_key_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "a: &x [1]\n? *x\n: 2\n") == [
        "specs.yaml:2:3: " + yaml_source._NO_KEY
    ]
    assert problems_of(tmp_path, "a: &m {b: 1}\n*m : 2\n") == [
        "specs.yaml:2:1: " + yaml_source._NO_KEY
    ]
    [problem] = problems_of(tmp_path, "a: {[1]: 2}\n")
    assert problem == "specs.yaml:1:5: " + yaml_source._NO_KEY


def test_merge_key_tricks_are_located_problems(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "s: &s 1\nm:\n  <<: *s\n")
    assert problem.startswith("specs.yaml:3:7: a merge key (<<) takes a mapping")
    [problem] = problems_of(tmp_path, "m: &m {a: 1}\nn:\n  <<: [*m, [1]]\n")
    assert problem.startswith("specs.yaml:3:7: a merge key (<<) takes a mapping")


def test_anchored_keys_and_scalar_aliases_as_keys_work(tmp_path: Path) -> None:
    [document], problems = load_documents(write(tmp_path, "&k a: 1\nb: *k\n*k : 2\n"), "s")
    assert [str(p) for p in problems] == ["s:3:1: a: duplicate key (first defined at line 1)"]
    assert document.data == {"a": 2, "b": "a"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "specs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_long_line_of_credential_words_is_scanned_in_linear_time(tmp_path: Path) -> None:
    """The literal-secret scan backtracked in cubic time on such a line (4 s for 1.6 KB)."""
    problem = refused(tmp_path, hostile.credential_words(200_000))
    assert "apiVersion" in problem


def test_many_literal_secrets_are_refused_in_bounded_time(tmp_path: Path) -> None:
    """20,000 literal credentials: located without counting lines from the top of the file
    for each, and the scan stops after the first 20 of the file."""
    (tmp_path / "env.yaml").write_text(ENVIRONMENT, encoding="utf-8")
    (tmp_path / "hostile.yaml").write_text(hostile.literal_tokens(20_000), encoding="utf-8")
    result = validate_guarded(tmp_path)
    assert result.returncode == 1
    located = [line for line in result.stderr.splitlines() if "a literal value" in line]
    assert 1 <= len(located) <= 20
    assert "hostile.yaml:1:9: token0: a literal value for a credential" in located[0]
