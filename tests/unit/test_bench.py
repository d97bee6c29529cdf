"""The benchmark's pure parts: generated specs load as the topics they were made from, and the
statistics and table say what was measured. No cluster."""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # `pytest` (unlike `python3 -m pytest`) leaves the root out
    sys.path.insert(0, str(_ROOT))

from bench import report  # noqa: E402
from bench.run import parse_sizes  # noqa: E402
from bench.specs import (  # noqa: E402
    APPLY_PREFIX,
    MAIN_PREFIX,
    env_files,
    make_topics,
    topic_name,
    with_changed_retention,
    write_env_dir,
)
from reconciler.engine.load import load  # noqa: E402
from reconciler.kinds.topic.model import Topics  # noqa: E402


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """The environment's directory, named as its Environment (`bench`) says."""
    return tmp_path / "bench"


def _write(directory: Path, count: int, replication_factor: int = 2) -> None:
    topics = make_topics(count, replication_factor=replication_factor)
    write_env_dir(
        directory,
        env_files("bench", "127.0.0.1:9092", [f"{MAIN_PREFIX}-*"], topics, per_file=100),
    )


def test_generated_env_dir_loads_with_the_same_values_kafka_gets(tmp_path: Path) -> None:
    topics = make_topics(250, replication_factor=2)
    write_env_dir(tmp_path, env_files("bench", "127.0.0.1:9092", ["bench-*"], topics, per_file=100))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "environment.yaml",
        "topics-001.yaml",
        "topics-002.yaml",
        "topics-003.yaml",
    ]
    desired = load(tmp_path)
    assert desired.environment.connection.bootstrap_servers == "127.0.0.1:9092"
    assert desired.environment.connection.security_protocol == "PLAINTEXT"
    assert list(desired.kinds["Topic"].topics) == [t.name for t in topics]
    for topic in topics:
        spec = desired.kinds["Topic"].topics[topic.name]
        assert (spec.partitions, spec.replication_factor) == (1, 2)
        # What the spec declares normalises to exactly what CreateTopics sends: no-change plan.
        assert dict(spec.config) == topic.kafka_config()


def test_config_mix_is_realistic() -> None:
    topics = make_topics(840)
    counts = {
        key: sum(1 for t in topics if key in t.config)
        for key in (
            "retention.ms",
            "cleanup.policy",
            "compression.type",
            "min.insync.replicas",
            "retention.bytes",
        )
    }
    assert counts == {
        "retention.ms": 280,
        "cleanup.policy": 168,
        "compression.type": 210,
        "min.insync.replicas": 120,
        "retention.bytes": 105,
    }
    assert any(not t.config for t in topics)
    assert {t.config["cleanup.policy"].kafka for t in topics if "cleanup.policy" in t.config} == {
        "compact",
        "compact,delete",
    }


def test_names_and_ownership() -> None:
    assert topic_name(MAIN_PREFIX, 7) == "bench-00007"
    assert topic_name(MAIN_PREFIX, 10_000) == "bench-10000"
    env = _environment()
    # The apply benchmark's topics are never orphans of the size-N environment.
    assert env.owns(topic_name(MAIN_PREFIX, 1))
    assert not env.owns(topic_name(APPLY_PREFIX, 1))


def _environment() -> Topics:
    """The benchmark environment's topic ownership, with no topics declared."""
    with tempfile.TemporaryDirectory() as directory:
        _write(Path(directory) / "bench", 1)
        owner: Topics = load(Path(directory) / "bench").kinds["Topic"]
        return owner.only(set())


def test_one_change_rewrites_one_file_with_one_different_value(tmp_path: Path) -> None:
    topics = make_topics(300)
    files = env_files("bench", "b:1", ["bench-*"], topics, per_file=100)
    write_env_dir(tmp_path, files)
    before = load(tmp_path)
    changed = list(topics)
    changed[150] = with_changed_retention(topics[150])
    rewritten = write_env_dir(
        tmp_path, env_files("bench", "b:1", ["bench-*"], changed, per_file=100)
    )
    assert [p.name for p in rewritten] == ["topics-002.yaml"]
    after = load(tmp_path)
    old, new = before.kinds["Topic"].topics, after.kinds["Topic"].topics
    different = [n for n in old if old[n].config != new[n].config]
    # (locations below the edit move down a line)
    assert different == [topics[150].name]
    assert new[topics[150].name].config["retention.ms"] == str(9 * 86_400_000)
    assert before.digest != after.digest
    assert write_env_dir(tmp_path, files) == [tmp_path / "topics-002.yaml"]
    assert load(tmp_path).digest == before.digest


def test_write_env_dir_removes_stale_yaml(tmp_path: Path) -> None:
    _write(tmp_path, 250)
    _write(tmp_path, 50)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["environment.yaml", "topics-001.yaml"]
    assert len(load(tmp_path).kinds["Topic"].topics) == 50


def test_stat_median_and_spread() -> None:
    stat = report.Stat.of([3.0, 1.0, 2.0, 10.0])
    assert (stat.median, stat.minimum, stat.maximum) == (2.5, 1.0, 10.0)
    assert report.Stat.of([0.2]).median == 0.2
    with pytest.raises(ValueError, match="at least one sample"):
        report.Stat.of([])


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0021, "2.10 ms"),
        (0.0456, "45.6 ms"),
        (0.512, "512 ms"),
        (1.234, "1.23 s"),
        (61.5, "61.5 s"),
    ],
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert report.format_seconds(seconds) == text


def test_spread_uses_the_medians_unit() -> None:
    assert report.format_time_spread(report.Stat.of([0.95, 1.2, 1.31])) == "0.95-1.31 s"
    assert report.format_bytes_spread(report.Stat.of([81e6, 90e6])) == "81-90 MB"


def _result(size: int, plan: float, floor: float = 1.0, rss: float = 100e6) -> report.SizeResult:
    def s(value: float) -> report.Stat:
        return report.Stat.of([value * 0.9, value, value * 1.2])

    return report.SizeResult(
        size=size,
        floor=s(floor),
        plan_cli=s(plan),
        plan_inproc=s(plan / 2),
        plan_one_cli=s(plan),
        plan_one_inproc=s(plan / 2),
        plan_rss=s(rss),
        render_markdown=s(0.05),
        render_json=s(2.0),
        apply_cli=s(3.0),
        bare_create=s(1.0),
        apply_topics=1000,
        validate=s(0.8),
        validate_cpu=s(0.7),
        apply_plan=s(2.6),
    )


def test_rows_show_ratios_and_judge_targets_only_where_they_apply() -> None:
    small = {r.measurement: r for r in report.size_rows(_result(1000, plan=4.0))}
    plan = small["plan, no change (CLI process)"]
    assert (plan.median, plan.spread, plan.ratio) == ("4.00 s", "3.60-4.80 s", "4.00x floor")
    assert plan.target == "<= 1.1x floor at 10,000"
    assert plan.status == ""  # the plan targets are for 10,000 topics
    apply = small["apply --auto-approve, 1,000 new topics (CLI process)"]
    # Judged against the plan of the same creates (2.6 s): 0.4 s over it.
    assert (apply.ratio, apply.target) == ("3.00x bare create, plan +0.40 s", "<= plan + 0.5 s")
    assert apply.status == report.MET
    assert small["plan of the 1,000 creates (CLI process)"].median == "2.60 s"
    slow = dataclasses.replace(_result(1000, plan=4.0), apply_plan=report.Stat.of([2.4]))
    [slow_apply] = [r for r in report.size_rows(slow) if r.measurement.startswith("apply")]
    assert slow_apply.status == report.MISSED  # 0.6 s over the plan
    validate = small["validate, 1,000 topic documents (CLI process)"]
    assert (validate.median, validate.target, validate.status) == ("800 ms", "< 1 s at 10,000", "")

    large = {r.measurement: r for r in report.size_rows(_result(10_000, plan=1.4))}
    assert large["plan, no change (CLI process)"].status == report.MISSED  # 1.4x > 1.1x
    assert {r.measurement: r for r in report.size_rows(_result(10_000, plan=1.05))}[
        "plan, no change (CLI process)"
    ].status == report.MET
    assert large["validate, 10,000 topic documents (CLI process)"].status == report.MET
    assert large["validate, CPU time (user + system)"].median == "700 ms"
    assert large["plan peak RSS (CLI process, no change)"].median == "100 MB"
    assert large["plan peak RSS (CLI process, no change)"].status == report.MET
    assert large["render markdown, all 10,000 topics changing"].status == report.MET
    assert large["render JSON, all 10,000 topics changing"].status == report.MISSED
    larger = {r.measurement: r for r in report.size_rows(_result(20_000, plan=1.4))}
    assert larger["plan, no change (CLI process)"].status == ""  # the targets name 10,000
    assert larger["validate, 20,000 topic documents (CLI process)"].status == ""


def test_the_chunked_floor_is_shown_beside_the_floor_without_a_target() -> None:
    result = dataclasses.replace(
        _result(1000, plan=2.0), floor_chunked=report.Stat.of([0.8]), floor_chunk=1000
    )
    rows = report.size_rows(result)
    assert rows[1].measurement == "floor variant: DescribeConfigs 1,000 topics per request"
    assert (rows[1].ratio, rows[1].target, rows[1].status) == ("0.80x floor", "", "")
    [raw] = report.report_to_dict(report.Report(machine={}, setup={}, results=[result]))["results"]
    assert (raw["floor_chunked_seconds"], raw["floor_chunk"]) == ([0.8], 1000)


def test_growth_is_judged_against_the_growth_in_topics() -> None:
    rows = report.growth_rows([_result(10_000, plan=13.0), _result(1000, plan=1.0)])
    cli, inproc = rows
    assert cli.size == "1,000 to 10,000"
    assert (cli.median, cli.target, cli.status) == ("13.00x", "<= 12x", report.MISSED)
    assert (inproc.median, inproc.status) == ("13.00x", "")
    assert report.growth_rows([_result(1000, plan=1.0), _result(10_000, plan=11.0)])[0].status == (
        report.MET
    )


def test_markdown_table_and_report() -> None:
    result = report.Report(
        machine={"cores": "2"},
        setup={"repetitions": "3"},
        results=[_result(1000, plan=1.0), _result(10_000, plan=10.0)],
        startup=report.Stat.of([0.3, 0.31, 0.35]),
        notes=["noisy"],
        environments=report.EnvironmentsResult(
            count=20,
            per_env=250,
            together=report.Stat.of([5.0]),
            together_cpu=report.Stat.of([4.0]),
            slowest=report.Stat.of([4.0]),
            total=report.Stat.of([60.0]),
            total_cpu=report.Stat.of([30.0]),
            floor=report.Stat.of([2.5]),
        ),
    )
    text = report.render_report(result)
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert [cell.strip() for cell in table[0].split("|")[1:-1]] == [
        "N",
        "measurement",
        "median",
        "min-max",
        "ratio",
        "target",
        "target met",
    ]
    assert set(table[1]) <= {"|", "-", ":", " "}
    assert len({len(line) for line in table}) == 1  # padded: columns line up
    # header, start-up, 13 rows per N, growth, 6 rows of the environments
    assert len(table) == 2 + 1 + 2 * 13 + 2 + 6
    assert "- cores: 2" in text
    # plan ratio and JSON at 10,000; 20 environments 1.25x the slowest
    assert "Targets missed: 3" in text
    [together] = [line for line in table if "plan of 20 environments in one process" in line]
    assert together.startswith("| 20 x 250 ") and "1.25x slowest" in together
    [floor] = [line for line in table if "floor: bare admin calls for all 5,000" in line]
    assert "2.00x together" in floor
    assert text.endswith("- noisy\n")
    data = report.report_to_dict(result)
    assert data["startup_seconds"] == [0.3, 0.31, 0.35]
    assert data["environments"]["sum_alone_seconds"] == [60.0]
    assert data["environments"]["floor_seconds"] == [2.5]
    assert data["results"][0]["validate_cli_seconds"] == pytest.approx([0.72, 0.8, 0.96])


def test_parse_sizes() -> None:
    assert parse_sizes("10000,1_000, 1000") == [1000, 10000]
    for bad in ("", "0", "ten"):
        with pytest.raises(Exception, match=r"sizes|numbers"):
            parse_sizes(bad)
