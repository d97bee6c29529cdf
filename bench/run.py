"""The benchmark of issue 5, on a real local Kafka cluster of its own.

    python3 -m bench.run [--sizes 1000,10000] [--repeat 3] [--keep-cluster]

For each N it creates N managed topics (``bench-00001``...) with a mix of config overrides
and their spec files, then measures, each repetition interleaved with the others so that
background load hits all of them alike:

- the floor: a fresh AdminClient making the calls `plan`'s observe needs (Metadata,
  DescribeCluster, one batched DescribeConfigs for the N topics, one for a broker);
- ``reconciler plan -o json`` as a process (start-up and imports count), with no change and
  with one change among N, next to the in-process ``plan_environment``; the plan process's
  peak RSS;
- rendering a plan where all N topics change, to markdown and JSON;
- ``reconciler validate`` of the N topic documents as a process (wall and CPU time);
- ``reconciler apply --auto-approve`` creating 1,000 topics, next to ``plan`` of the same
  environment and one bare batched CreateTopics for the same topics (deleted again between
  repetitions);
- once, before the sizes: ``plan DIR...`` of 20 environments of 250 topics in one process,
  next to each of them planned alone.

It prints a markdown table with medians, min-max, ratios and the targets of issues 5 and 14,
and exits non-zero only when it could not measure, never because a target was missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import confluent_kafka
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType

from bench import report
from bench.specs import (
    APPLY_PREFIX,
    ENVIRONMENT_PREFIX,
    MAIN_PREFIX,
    BenchTopic,
    env_files,
    make_topics,
    with_changed_retention,
    write_env_dir,
)
from reconciler import __version__ as reconciler_version
from reconciler.clients.kafka import answered_by
from reconciler.core.model import Plan
from reconciler.engine.load import load
from reconciler.engine.model import Desired
from reconciler.engine.plan import Planned, build_plan, plan_environment
from reconciler.local.kafka.cluster import DEFAULT_JVM_OPTS
from reconciler.local.kafka.cluster import down as cluster_down
from reconciler.local.kafka.cluster import up as cluster_up
from reconciler.local.kafka.distribution import cache_dir
from reconciler.local.kafka.errors import ClusterMismatchError, LocalKafkaError
from reconciler.local.kafka.state import LocalCluster
from reconciler.render.markdown import render_markdown
from reconciler.render.plan_json import render_json

T = TypeVar("T")

BROKERS = 3
ENV_TIMEOUT_SECONDS = 120.0
"""The spec's ``kafka.timeoutSeconds``: generous, so a slow answer is measured, not failed."""
ADMIN_TIMEOUT_SECONDS = 180.0
CREATE_CHUNK = 1000
FLOOR_CHUNK = 1000
"""Topics per DescribeConfigs in the chunked variant of the floor."""
DAY_MS = 86_400_000

_START = time.monotonic()
_RDKAFKA_LOG = logging.getLogger("bench.librdkafka")
_RDKAFKA_LOG.addHandler(logging.NullHandler())
_RDKAFKA_LOG.propagate = False


class BenchError(Exception):
    """Something could not be measured: the cluster, a command, or an unexpected plan."""


_PEAK_LOAD = [0.0]
"""The highest 1-minute load average seen at any progress line: how noisy the run was."""


def progress(message: str) -> None:
    _PEAK_LOAD[0] = max(_PEAK_LOAD[0], os.getloadavg()[0])
    print(f"[bench {time.monotonic() - _START:7.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- admin helpers


def admin_for(bootstrap_servers: str) -> AdminClient:
    """A plain AdminClient, librdkafka's logs kept off the terminal."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap_servers, "logger": _RDKAFKA_LOG}
    return AdminClient(config)


def _wait_all(futures: Mapping[Any, Future[Any]], what: str, tolerated: Collection[str]) -> None:
    """Wait for every future; raise with the errors that are not ``tolerated``."""
    errors = []
    for key, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            error = exc.args[0]
            if error.name() not in tolerated:
                errors.append(f"{getattr(key, 'name', key)}: {error.name()} {error.str()}")
    if errors:
        raise BenchError(f"{what} failed for {len(errors)} topic(s), e.g. {errors[:3]}")


def _new_topic(topic: BenchTopic) -> NewTopic:
    return NewTopic(
        topic.name,
        num_partitions=topic.partitions,
        replication_factor=topic.replication_factor,
        config=topic.kafka_config(),
    )


def create_topics(bootstrap_servers: str, topics: Sequence[BenchTopic]) -> None:
    """Set-up (not measured): create ``topics`` in batches, existing ones tolerated."""
    admin = admin_for(bootstrap_servers)
    for start in range(0, len(topics), CREATE_CHUNK):
        chunk = [_new_topic(t) for t in topics[start : start + CREATE_CHUNK]]
        futures = admin.create_topics(
            chunk, operation_timeout=ADMIN_TIMEOUT_SECONDS, request_timeout=ADMIN_TIMEOUT_SECONDS
        )
        _wait_all(futures, "CreateTopics", tolerated={"TOPIC_ALREADY_EXISTS"})


def delete_topics(bootstrap_servers: str, names: Sequence[str]) -> None:
    """Batched DeleteTopics, topics already gone tolerated."""
    admin = admin_for(bootstrap_servers)
    for start in range(0, len(names), CREATE_CHUNK):
        futures = admin.delete_topics(
            list(names[start : start + CREATE_CHUNK]),
            operation_timeout=ADMIN_TIMEOUT_SECONDS,
            request_timeout=ADMIN_TIMEOUT_SECONDS,
        )
        _wait_all(futures, "DeleteTopics", tolerated={"UNKNOWN_TOPIC_OR_PART"})


def topic_names(bootstrap_servers: str) -> set[str]:
    metadata = admin_for(bootstrap_servers).list_topics(timeout=ADMIN_TIMEOUT_SECONDS)
    return set(metadata.topics)


def names_on(address: str, node_id: int, tries: int = 20) -> set[str]:
    """The topics broker `node_id` lists. librdkafka sends a Metadata request to any broker
    it has learned of, whatever the bootstrap server, so ask fresh clients until that
    broker itself answered (a lagging broker is what this wait is for)."""
    for _ in range(tries):
        metadata = admin_for(address).list_topics(timeout=ADMIN_TIMEOUT_SECONDS)
        if answered_by(metadata, node_id, address):
            return set(metadata.topics)
    raise BenchError(f"broker {node_id} never answered a Metadata request itself")


def wait_for_metadata(
    cluster: LocalCluster,
    names: Collection[str],
    *,
    present: bool,
    timeout: float = ADMIN_TIMEOUT_SECONDS,
) -> None:
    """Until every broker's metadata has all of ``names`` (or none of them): a plan may ask
    any broker, and a lagging one would show phantom creates or orphans."""
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while True:
        lagging = {}
        for broker in cluster.brokers:
            seen = names_on(broker.address, broker.node_id)
            wrong = wanted - seen if present else wanted & seen
            if wrong:
                lagging[broker.node_id] = len(wrong)
        if not lagging:
            return
        if time.monotonic() > deadline:
            state = "missing" if present else "still present"
            raise BenchError(f"topics {state} after {timeout:.0f}s, per broker: {lagging}")
        time.sleep(0.5)


def remove_topics(cluster: LocalCluster, names: Collection[str]) -> None:
    if names:
        delete_topics(cluster.bootstrap_servers, sorted(names))
        wait_for_metadata(cluster, names, present=False)


def converge_topics(cluster: LocalCluster, topics: Sequence[BenchTopic]) -> None:
    """Make the ``bench-*`` topics exactly ``topics`` (extra ones deleted, missing created)."""
    existing = {
        n for n in topic_names(cluster.bootstrap_servers) if n.startswith(f"{MAIN_PREFIX}-")
    }
    wanted = {t.name for t in topics}
    remove_topics(cluster, existing - wanted)
    missing = [t for t in topics if t.name not in existing]
    if missing:
        started = time.monotonic()
        create_topics(cluster.bootstrap_servers, missing)
        wait_for_metadata(cluster, wanted, present=True)
        progress(f"created {len(missing):,} topics in {time.monotonic() - started:.1f}s")


# --------------------------------------------------------------------------- measurements


def timed(function: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def measure_floor(
    bootstrap_servers: str,
    expected: int,
    chunk: int | None = None,
    starting: str = f"{MAIN_PREFIX}-",
) -> float:
    """The bare calls of observe, as a fresh CLI process would make them: Metadata,
    DescribeCluster, DescribeConfigs of the N topics named ``starting...`` (one batch, or
    ``chunk`` topics per request one after the other) and of one broker."""
    start = time.perf_counter()
    admin = admin_for(bootstrap_servers)
    metadata = admin.list_topics(timeout=ENV_TIMEOUT_SECONDS)
    cluster = admin.describe_cluster(request_timeout=ENV_TIMEOUT_SECONDS).result()
    names = [n for n in metadata.topics if n.startswith(starting)]
    step = chunk or max(len(names), 1)
    broker = ConfigResource(ResourceType.BROKER, str(min(n.id for n in cluster.nodes)))
    [broker_future] = admin.describe_configs([broker], request_timeout=ENV_TIMEOUT_SECONDS).values()
    described = 0
    for first in range(0, len(names), step):
        futures = admin.describe_configs(
            [ConfigResource(ResourceType.TOPIC, n) for n in names[first : first + step]],
            request_timeout=ENV_TIMEOUT_SECONDS,
        )
        described += sum(1 for f in futures.values() if f.result() is not None)
        del futures  # a chunked reader keeps what it needs and drops the rest
    broker_future.result()
    elapsed = time.perf_counter() - start
    if described != expected:
        raise BenchError(f"floor: described {described} topics, expected {expected}")
    return elapsed


def wait_until_describable(
    bootstrap_servers: str,
    expected: int,
    timeout: float = 120.0,
    starting: str = f"{MAIN_PREFIX}-",
) -> None:
    """Right after CreateTopics a broker may still answer UNKNOWN_TOPIC_OR_PART to
    DescribeConfigs (and `plan` would then show creates): wait until all N are described."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            measure_floor(bootstrap_servers, expected, starting=starting)
        except (KafkaException, BenchError) as exc:
            if time.monotonic() > deadline:
                raise BenchError(f"the {expected} topics are not all describable: {exc}") from exc
            time.sleep(1.0)
        else:
            return


@dataclasses.dataclass(frozen=True)
class CliRun:
    args: tuple[str, ...]
    seconds: float
    max_rss_bytes: int
    code: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0

    def failure(self, expected: str) -> BenchError:
        tail = "\n".join((self.stderr or self.stdout).strip().splitlines()[-15:])
        return BenchError(
            f"`reconciler {shlex.join(self.args)}` exited {self.code} ({expected}):\n{tail}"
        )


def reconciler_command() -> list[str]:
    """The installed console script (what users run), else the same entry point via -c."""
    script = Path(sys.executable).with_name("reconciler")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("reconciler")
    if found:
        return [found]
    return [sys.executable, "-c", "from reconciler.cli import main; main()"]


_RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux


#: GNU time reports the peak RSS of the command alone. A child's own ru_maxrss is not enough:
#: Linux folds the parent's high-water mark into it across fork and exec, so a child of this
#: (large) benchmark process would report the benchmark's memory, not its own.
GNU_TIME = "/usr/bin/time"


def run_cli(
    args: Sequence[str], command: Sequence[str] | None = None, cwd: Path | None = None
) -> CliRun:
    """Run the reconciler CLI (`command`, default the installed one); wall time from spawn
    to exit, the command's peak RSS and its CPU time (user + system, children included)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        wrapper = [GNU_TIME, "-f", "%M", "-o", rss.name] if os.access(GNU_TIME, os.X_OK) else []
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*wrapper, *(command or reconciler_command()), *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        reported = rss.read().strip().splitlines()
        peak_kib = (
            int(reported[-1]) if wrapper and reported else usage.ru_maxrss * _RSS_UNIT // 1024
        )
        return CliRun(
            tuple(args),
            seconds,
            peak_kib * 1024,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            usage.ru_utime + usage.ru_stime,
        )


def check_plan_output(run: CliRun, changed: Sequence[str]) -> None:
    """The plan JSON shows exactly the ``changed`` topics as updates and no orphans."""
    expected_code = 2 if changed else 0
    what = f"expected exit {expected_code} and {len(changed)} change(s)"
    if run.code != expected_code:
        raise run.failure(what)
    try:
        document = json.loads(run.stdout)
    except ValueError as exc:
        raise run.failure(f"{what}; output is not JSON: {exc}") from exc
    names = [c["name"] for c in document["changes"]]
    actions = {c["action"] for c in document["changes"]}
    if names != list(changed) or document["orphans"] or (changed and actions != {"update"}):
        raise run.failure(
            f"{what}; got changes {names[:5]} ({len(names)}), {len(document['orphans'])} orphan(s)"
        )


def check_plan(plan: Plan, changed: Sequence[str]) -> None:
    names = [c.name for c in plan.changes]
    if names != list(changed) or plan.orphans:
        raise BenchError(
            f"in-process plan: expected changes {list(changed)}, got {names[:5]} "
            f"({len(names)}) and {len(plan.orphans)} orphan(s)"
        )


def plan_inprocess(env_dir: Path, changed: Sequence[str]) -> tuple[float, Planned]:
    seconds, planned = timed(lambda: plan_environment(env_dir))
    check_plan(planned.plan, changed)
    return seconds, planned


def all_changing(desired: Desired) -> Desired:
    """Every topic's retention.ms changes: odd ones shrink an hour (destructive), even ones
    grow a day (safe), so the plan has a mix of risks and reasons."""
    declared = desired.kinds["Topic"]
    topics = {}
    for index, (name, spec) in enumerate(declared.topics.items()):
        current = int(spec.config.get("retention.ms", str(7 * DAY_MS)))
        wanted = current - 3_600_000 if index % 2 else current + DAY_MS
        topics[name] = dataclasses.replace(
            spec, config={**spec.config, "retention.ms": str(wanted)}
        )
    changed = dataclasses.replace(declared, topics=topics)
    return dataclasses.replace(desired, kinds={**desired.kinds, "Topic": changed})


def measure_render(planned: Planned, size: int, repeat: int) -> tuple[report.Stat, report.Stat]:
    plan = build_plan(all_changing(planned.desired), planned.observed)
    if len(plan.changes) != size:
        raise BenchError(f"render: expected {size} changes, the plan has {len(plan.changes)}")
    markdown, as_json = [], []
    for _ in range(repeat):
        seconds, text = timed(lambda: render_markdown(plan))
        markdown.append(seconds)
        seconds, text = timed(lambda: render_json(plan))
        as_json.append(seconds)
    if len(json.loads(text)["changes"]) != size:
        raise BenchError("render: the JSON plan does not hold every change")
    return report.Stat.of(markdown), report.Stat.of(as_json)


def bare_create(bootstrap_servers: str, topics: Sequence[BenchTopic]) -> float:
    """One batched CreateTopics with a fresh client, waiting for every future."""
    start = time.perf_counter()
    admin = admin_for(bootstrap_servers)
    futures = admin.create_topics(
        [_new_topic(t) for t in topics],
        operation_timeout=ENV_TIMEOUT_SECONDS,
        request_timeout=ENV_TIMEOUT_SECONDS,
    )
    _wait_all(futures, "bare CreateTopics", tolerated=())
    return time.perf_counter() - start


@dataclasses.dataclass
class Context:
    cluster: LocalCluster
    work: Path
    repeat: int
    partitions: int
    replication_factor: int
    apply_topics: int


def measure_apply(ctx: Context) -> tuple[report.Stat, report.Stat, report.Stat]:
    """``reconciler apply`` creating the topics vs ``plan`` of the same environment and one
    bare CreateTopics, the topics deleted between."""
    topics = make_topics(
        ctx.apply_topics,
        prefix=APPLY_PREFIX,
        partitions=ctx.partitions,
        replication_factor=ctx.replication_factor,
    )
    names = [t.name for t in topics]
    env_dir = ctx.work / "bench-apply"  # an environment is named after its directory
    write_env_dir(
        env_dir,
        env_files(
            "bench-apply",
            ctx.cluster.bootstrap_servers,
            [f"{APPLY_PREFIX}-*"],
            topics,
            timeout_seconds=ENV_TIMEOUT_SECONDS,
        ),
    )
    existing = topic_names(ctx.cluster.bootstrap_servers)
    remove_topics(ctx.cluster, [n for n in names if n in existing])
    applied, bare, planned = [], [], []
    for rep in range(1, ctx.repeat + 1):
        plan = run_cli(_plan_args(env_dir))
        if plan.code != 2:
            raise plan.failure(f"expected exit 2 and {len(topics)} creates")
        planned.append(plan.seconds)
        run = run_cli(["apply", str(env_dir), "--auto-approve", "--no-color"])
        if run.code != 0 or f"Apply complete: {len(topics)} changes made" not in run.stdout:
            raise run.failure(f"expected exit 0 and {len(topics)} topics created")
        wait_for_metadata(ctx.cluster, names, present=True)
        applied.append(run.seconds)
        remove_topics(ctx.cluster, names)
        bare.append(bare_create(ctx.cluster.bootstrap_servers, topics))
        wait_for_metadata(ctx.cluster, names, present=True)
        remove_topics(ctx.cluster, names)
        progress(
            f"  apply rep {rep}: plan {planned[-1]:.2f}s, apply {applied[-1]:.2f}s, "
            f"bare CreateTopics {bare[-1]:.2f}s"
        )
    return report.Stat.of(applied), report.Stat.of(bare), report.Stat.of(planned)


def _plan_args(env_dir: Path | str) -> list[str]:
    return ["plan", str(env_dir), "-o", "json", "--detailed-exitcode", "--no-color"]


def measure_size(ctx: Context, size: int) -> report.SizeResult:
    progress(f"N={size:,}: creating topics")
    topics = make_topics(size, partitions=ctx.partitions, replication_factor=ctx.replication_factor)
    converge_topics(ctx.cluster, topics)
    wait_until_describable(ctx.cluster.bootstrap_servers, size)
    env_dir = ctx.work / str(size) / "bench"  # named after its directory
    files = env_files(
        "bench",
        ctx.cluster.bootstrap_servers,
        [f"{MAIN_PREFIX}-*"],
        topics,
        timeout_seconds=ENV_TIMEOUT_SECONDS,
    )
    write_env_dir(env_dir, files)
    if len(load(env_dir).kinds["Topic"].topics) != size:
        raise BenchError(f"the generated specs in {env_dir} do not declare {size} topics")
    bootstrap = ctx.cluster.bootstrap_servers

    floor, chunked, cli, rss, inproc, checked, checked_cpu = [], [], [], [], [], [], []
    planned: Planned | None = None
    for rep in range(1, ctx.repeat + 1):
        floor.append(measure_floor(bootstrap, size))
        chunked.append(measure_floor(bootstrap, size, chunk=FLOOR_CHUNK))
        validate = run_cli(["validate", str(env_dir)])
        if validate.code != 0:
            raise validate.failure("expected exit 0")
        checked.append(validate.seconds)
        checked_cpu.append(validate.cpu_seconds)
        run = run_cli(_plan_args(env_dir))
        check_plan_output(run, [])
        cli.append(run.seconds)
        rss.append(float(run.max_rss_bytes))
        del planned  # free the previous plan (and its client) before measuring again
        seconds, planned = plan_inprocess(env_dir, [])
        inproc.append(seconds)
        progress(
            f"  no-change rep {rep}: floor {floor[-1]:.2f}s (chunked {chunked[-1]:.2f}s), "
            f"validate {checked[-1]:.2f}s, CLI {cli[-1]:.2f}s "
            f"({rss[-1] / 1e6:.0f} MB), in-process {inproc[-1]:.2f}s"
        )
    assert planned is not None

    one = (size + 1) // 2 - 1
    changed = [*topics[:one], with_changed_retention(topics[one]), *topics[one + 1 :]]
    rewritten = write_env_dir(
        env_dir,
        env_files(
            "bench",
            bootstrap,
            [f"{MAIN_PREFIX}-*"],
            changed,
            timeout_seconds=ENV_TIMEOUT_SECONDS,
        ),
    )
    if len(rewritten) != 1:
        raise BenchError(f"one change rewrote {len(rewritten)} files, expected 1")
    one_cli, one_inproc = [], []
    for rep in range(1, ctx.repeat + 1):
        run = run_cli(_plan_args(env_dir))
        check_plan_output(run, [topics[one].name])
        one_cli.append(run.seconds)
        seconds, _ = plan_inprocess(env_dir, [topics[one].name])
        one_inproc.append(seconds)
        progress(f"  one-change rep {rep}: CLI {one_cli[-1]:.2f}s, in-process {seconds:.2f}s")
    write_env_dir(env_dir, files)  # back to no change; nothing was applied

    markdown, as_json = measure_render(planned, size, ctx.repeat)
    progress(f"  render: markdown {markdown.median:.3f}s, JSON {as_json.median:.3f}s")
    del planned
    applied = bare = apply_plan = None
    if ctx.apply_topics > 0:
        applied, bare, apply_plan = measure_apply(ctx)
    return report.SizeResult(
        size=size,
        floor=report.Stat.of(floor),
        floor_chunked=report.Stat.of(chunked),
        floor_chunk=FLOOR_CHUNK,
        plan_cli=report.Stat.of(cli),
        plan_inproc=report.Stat.of(inproc),
        plan_one_cli=report.Stat.of(one_cli),
        plan_one_inproc=report.Stat.of(one_inproc),
        plan_rss=report.Stat.of(rss),
        render_markdown=markdown,
        render_json=as_json,
        apply_cli=applied,
        bare_create=bare,
        apply_topics=ctx.apply_topics,
        validate=report.Stat.of(checked),
        validate_cpu=report.Stat.of(checked_cpu),
        apply_plan=apply_plan,
    )


def _environment_dirs(
    cluster: LocalCluster, work: Path, count: int, per_env: int
) -> tuple[list[Path], list[BenchTopic]]:
    """``count`` environments ``benchenvNN`` of ``per_env`` topics each, written under
    ``work/envs`` (paths relative to ``work``), and all their topics."""
    dirs: list[Path] = []
    everything: list[BenchTopic] = []
    for number in range(1, count + 1):
        name = f"{ENVIRONMENT_PREFIX}{number:02d}"
        topics = make_topics(per_env, prefix=name)
        everything.extend(topics)
        files = env_files(
            name,
            cluster.bootstrap_servers,
            [f"{name}-*"],
            topics,
            timeout_seconds=ENV_TIMEOUT_SECONDS,
        )
        write_env_dir(work / "envs" / name, files)
        dirs.append(Path("envs") / name)
    return dirs, everything


def measure_environments(
    cluster: LocalCluster,
    work: Path,
    command: Sequence[str] | None,
    *,
    repeat: int,
    count: int,
    per_env: int,
) -> report.EnvironmentsResult:
    """One ``plan DIR...`` process over ``count`` environments against each of them planned
    alone by its own process (the slowest, and the sum); no change in any of them."""
    progress(f"{count} environments of {per_env:,} topics: creating topics")
    dirs, everything = _environment_dirs(cluster, work, count, per_env)
    existing = topic_names(cluster.bootstrap_servers)
    missing = [t for t in everything if t.name not in existing]
    if missing:
        create_topics(cluster.bootstrap_servers, missing)
    wait_for_metadata(cluster, [t.name for t in everything], present=True)
    wait_until_describable(cluster.bootstrap_servers, len(everything), starting=ENVIRONMENT_PREFIX)
    together, together_cpu, slowest, total, total_cpu, floor = [], [], [], [], [], []
    for rep in range(1, repeat + 1):
        floor.append(
            measure_floor(cluster.bootstrap_servers, len(everything), starting=ENVIRONMENT_PREFIX)
        )
        args = ["plan", *map(str, dirs), "-o", "json", "--detailed-exitcode", "--no-color"]
        run = run_cli(args, command, cwd=work)
        document = json.loads(run.stdout) if run.code == 0 else None
        if document is None or any(e["plan"]["changes"] for e in document["environments"]):
            raise run.failure("expected exit 0 and no change in any environment")
        together.append(run.seconds)
        together_cpu.append(run.cpu_seconds)
        alone = []
        for directory in dirs:
            single = run_cli(_plan_args(directory), command, cwd=work)
            check_plan_output(single, [])
            alone.append(single)
        slowest.append(max(r.seconds for r in alone))
        total.append(sum(r.seconds for r in alone))
        total_cpu.append(sum(r.cpu_seconds for r in alone))
        progress(
            f"  environments rep {rep}: together {together[-1]:.2f}s, slowest alone "
            f"{slowest[-1]:.2f}s, sum {total[-1]:.2f}s, floor {floor[-1]:.2f}s"
        )
    return report.EnvironmentsResult(
        count=count,
        per_env=per_env,
        together=report.Stat.of(together),
        together_cpu=report.Stat.of(together_cpu),
        slowest=report.Stat.of(slowest),
        total=report.Stat.of(total),
        total_cpu=report.Stat.of(total_cpu),
        floor=report.Stat.of(floor),
    )


def measure_startup(repeat: int) -> report.Stat:
    samples = []
    for _ in range(repeat):
        run = run_cli(["--version"])
        if run.code != 0:
            raise run.failure("expected exit 0")
        samples.append(run.seconds)
    return report.Stat.of(samples)


# --------------------------------------------------------------------------- machine


def _first_line_with(path: str, prefix: str) -> str | None:
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(prefix):
            return line.split(":", 1)[1].strip()
    return None


def machine_info(cluster: LocalCluster | None) -> dict[str, str]:
    memory = _first_line_with("/proc/meminfo", "MemTotal")
    ram = f"{int(memory.split()[0]) / 1024**2:.1f} GiB" if memory else "unknown"
    version: object = confluent_kafka.version()  # a str in 2.x, a (str, int) tuple before
    client_version = version[0] if isinstance(version, tuple) else str(version)
    librdkafka = confluent_kafka.libversion()[0]
    return {
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "CPU": _first_line_with("/proc/cpuinfo", "model name") or platform.processor() or "?",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "confluent-kafka / librdkafka": f"{client_version} / {librdkafka}",
        "Kafka": f"{cluster.kafka_version} (KRaft, {len(cluster.brokers)} combined "
        "broker+controller nodes on loopback)"
        if cluster
        else "?",
    }


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# --------------------------------------------------------------------------- command line


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from exc
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive numbers, e.g. 1000,10000")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.run",
        description="Benchmark reconciler plan/apply/render against bare Kafka admin calls "
        "on a local cluster (issue 5).",
    )
    parser.add_argument(
        "--sizes", type=parse_sizes, default=[1000, 10000], help="numbers of topics N"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each measurement")
    parser.add_argument("--partitions", type=int, default=1, help="partitions per topic")
    parser.add_argument(
        "--replication-factor", type=int, default=1, help="replication factor of every topic"
    )
    parser.add_argument(
        "--apply-topics", type=int, default=1000, help="topics `apply` creates (0: skip)"
    )
    parser.add_argument(
        "--environments",
        type=int,
        default=20,
        help="environments planned at once by one `plan DIR...` (0: skip)",
    )
    parser.add_argument(
        "--environment-topics", type=int, default=250, help="topics of each environment"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the benchmark cluster's state dir [default: <cache>/bench-cluster]",
    )
    parser.add_argument(
        "--keep-cluster",
        action="store_true",
        help="leave the cluster (and its topics) running; the next run reuses it",
    )
    parser.add_argument("--json", type=Path, help="also write the raw samples here")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not 1 <= args.replication_factor <= BROKERS:
        parser.error(f"--replication-factor must be between 1 and {BROKERS}")
    return args


def start_cluster(state_dir: Path) -> LocalCluster:
    progress(f"starting a {BROKERS}-broker local Kafka cluster in {state_dir}")
    try:
        try:
            return cluster_up(state_dir, brokers=BROKERS, timeout=180.0)
        except ClusterMismatchError:
            cluster_down(state_dir)
            return cluster_up(state_dir, brokers=BROKERS, timeout=180.0)
    except LocalKafkaError as exc:
        raise BenchError(f"could not start the local Kafka cluster: {exc}") from exc


def clean_slate(cluster: LocalCluster) -> None:
    """A reused (--keep-cluster) cluster may hold topics of an earlier run: drop them."""
    prefixes = (f"{MAIN_PREFIX}-", f"{APPLY_PREFIX}-", ENVIRONMENT_PREFIX)
    stale = [n for n in topic_names(cluster.bootstrap_servers) if n.startswith(prefixes)]
    if stale:
        progress(f"deleting {len(stale):,} topics left by an earlier run")
        remove_topics(cluster, stale)


def code_version() -> str:
    """The reconciler version and the commit measured (uncommitted changes count too)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return reconciler_version
    changed = [line for line in git("status", "--porcelain", "reconciler").splitlines() if line]
    dirty = f" + uncommitted changes in {len(changed)} file(s) of reconciler/" if changed else ""
    return f"{reconciler_version}, commit {commit}{dirty}"


def setup_info(args: argparse.Namespace, cluster: LocalCluster) -> dict[str, str]:
    jvm = os.environ.get("RECONCILER_KAFKA_JVM_OPTS") or " ".join(DEFAULT_JVM_OPTS)
    return {
        "command": "python3 -m bench.run " + shlex.join(sys.argv[1:]),
        "reconciler": code_version(),
        "repetitions": str(args.repeat),
        "topics": f"{args.partitions} partition(s), replication factor "
        f"{args.replication_factor}; overrides: 1/3 retention.ms, 1/5 cleanup.policy, "
        "1/4 compression.type, 1/7 min.insync.replicas, 1/8 retention.bytes",
        "spec files": "500 topics per multi-document YAML file, one Environment "
        f"(topics.manage bench-*, timeoutSeconds {ENV_TIMEOUT_SECONDS:g})",
        "brokers": f"{len(cluster.brokers)}, JVM options {jvm}",
        "CLI": shlex.join(reconciler_command()),
    }


def run_benchmark(args: argparse.Namespace, work: Path) -> report.Report:
    state_dir = (args.state_dir or cache_dir() / "bench-cluster").expanduser()
    load_before = _load()
    cluster = start_cluster(state_dir)
    try:
        clean_slate(cluster)
        ctx = Context(
            cluster=cluster,
            work=work,
            repeat=args.repeat,
            partitions=args.partitions,
            replication_factor=args.replication_factor,
            apply_topics=args.apply_topics,
        )
        startup = measure_startup(args.repeat)
        environments = None
        if args.environments > 0:
            environments = measure_environments(
                cluster,
                work,
                None,
                repeat=args.repeat,
                count=args.environments,
                per_env=args.environment_topics,
            )
            clean_slate(cluster)  # the sizes' plans see only their own topics
        results = [measure_size(ctx, size) for size in args.sizes]
        machine = machine_info(cluster)
        setup = setup_info(args, cluster)
    finally:
        if args.keep_cluster:
            progress(f"keeping the cluster: {cluster.bootstrap_servers} ({state_dir})")
        else:
            progress("stopping the cluster")
            cluster_down(state_dir)
    notes = [
        f"load average (1/5/15 min) before: {load_before}; after: {_load()}; highest 1-min "
        f"value seen during the run: {_PEAK_LOAD[0]:.2f}. Above {os.cpu_count()} (the cores) "
        "means other work competed for the CPUs and the numbers are noisy.",
        "floor and bare CreateTopics include creating the AdminClient; CLI times are wall "
        "times from spawn to exit of the process.",
    ]
    return report.Report(machine, setup, results, startup, notes, environments)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as work:
            result = run_benchmark(args, Path(work))
    except (BenchError, LocalKafkaError, KafkaException) as exc:
        print(f"bench: could not measure: {exc}", file=sys.stderr)
        return 1
    wall = time.monotonic() - started
    result = dataclasses.replace(
        result, notes=[*result.notes, f"wall time of the whole run: {wall / 60:.1f} min"]
    )
    print(report.render_report(result), end="")
    if args.json is not None:
        args.json.write_text(json.dumps(report.report_to_dict(result), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
