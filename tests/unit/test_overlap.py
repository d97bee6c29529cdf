"""Reading the cluster while the specs load, `plan DIR...` offline, and verify's read-back
shares: what decides when a plan may contact a cluster early, and how results combine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.core.errors import SpecError
from reconciler.core.model import Action, Change, Orphan, Plan, Risk
from reconciler.engine import observe as engine_observe
from reconciler.engine.load import load_environment
from reconciler.engine.plan import plan_environment
from reconciler.kinds.base import KindPlan
from reconciler.kinds.topic.verify import CHUNK_TOPICS, _Shares, _together
from reconciler.render.plan_json import EnvironmentOutcome, render_environments_json

#: Nothing listens on port 1: a contact fails at once, and says so.
NOWHERE = "127.0.0.1:1"


def environment(directory: Path, extra: str = "", servers: str = NOWHERE) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "environment.yaml").write_text(
        f"apiVersion: reconciler/v1\nkind: Environment\nmetadata: {{name: {directory.name}}}\n"
        f"spec:\n  kafka: {{bootstrapServers: '{servers}', securityProtocol: PLAINTEXT, "
        f"timeoutSeconds: 2}}\n  topics: {{manage: ['t-*']}}\n{extra}",
        encoding="utf-8",
    )
    return directory


def topic(directory: Path, body: str) -> None:
    (directory / "topics.yaml").write_text(
        f"apiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: t-1}}\nspec: {body}\n",
        encoding="utf-8",
    )


def test_the_environment_alone_is_checked_as_load_checks_it(tmp_path: Path) -> None:
    good = environment(tmp_path / "good")
    loading = load_environment(good)
    assert loading is not None and loading.environment is not None
    assert loading.environment.connection.bootstrap_servers == NOWHERE
    assert loading.partial  # the kinds' documents are still to come

    misnamed = environment(tmp_path / "dir")
    text = (misnamed / "environment.yaml").read_text().replace("{name: dir}", "{name: other}")
    (misnamed / "environment.yaml").write_text(text)
    assert load_environment(misnamed) is None
    assert load_environment(environment(tmp_path / "typo", "  polcy: {}\n")) is None
    secret = environment(tmp_path / "secret", servers="b:9092")
    text = (secret / "environment.yaml").read_text()
    (secret / "environment.yaml").write_text(
        text.replace(
            "securityProtocol: PLAINTEXT",
            "securityProtocol: SASL_SSL, "
            "sasl: {mechanism: SCRAM-SHA-512, username: u, password: hunter2}",
        )
    )
    assert load_environment(secret) is None  # a literal secret: nothing is sent with it
    assert load_environment(tmp_path / "missing") is None


def test_invalid_topic_documents_fail_the_plan_with_their_problems_not_the_contact(
    tmp_path: Path,
) -> None:
    """The early reads start (the Environment is fine), but the spec problem is what the
    plan reports: every problem, nothing written, no waiting for the unreachable brokers."""
    directory = environment(tmp_path / "env")
    topic(directory, "{partitions: 0, replicationFactor: 1}")
    with pytest.raises(SpecError) as raised:
        plan_environment(directory)
    assert "topics.yaml:4" in str(raised.value) and "partitions" in str(raised.value)


def test_an_environment_with_a_problem_contacts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(engine_observe, "_Early", lambda *a: started.append(a))
    directory = environment(tmp_path / "env", "  polcy: {}\n")
    with pytest.raises(SpecError):
        plan_environment(directory)
    unset = environment(tmp_path / "unset", servers="${NOT_SET_ANYWHERE}")
    with pytest.raises(SpecError) as raised:
        plan_environment(unset, {})
    assert "NOT_SET_ANYWHERE" in str(raised.value)
    assert started == []


def test_several_environments_each_report_their_own_failure_and_exit_1(tmp_path: Path) -> None:
    first = environment(tmp_path / "first")
    topic(first, "{partitions: 0, replicationFactor: 1}")
    second = environment(tmp_path / "second")  # valid, unreachable

    result = CliRunner().invoke(main, ["plan", str(first), str(second), "-o", "json"])

    assert result.exit_code == 1
    entries = json.loads(result.stdout)["environments"]
    assert [(e["directory"], e["exitCode"]) for e in entries] == [
        (str(first), 1),
        (str(second), 1),
    ]
    assert "partitions" in entries[0]["error"]
    assert "cannot reach Kafka at 127.0.0.1:1" in entries[1]["error"]
    assert result.stderr.index(str(first)) < result.stderr.index(str(second))


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--out", "plan.json"], "put {environment} in it"),
        (["--observed", "snapshot.json"], "--observed takes one ENV_DIR"),
    ],
)
def test_options_of_one_environment_are_refused_with_several(
    tmp_path: Path, option: list[str], message: str
) -> None:
    (tmp_path / "snapshot.json").write_text("{}")
    dirs = [str(environment(tmp_path / name)) for name in ("a", "b")]
    result = CliRunner().invoke(
        main, ["plan", *dirs, *[str(tmp_path / o) if "." in o else o for o in option]]
    )
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "plan.json").exists()


def _plan(environment_name: str, *changes: Change) -> Plan:
    return Plan(environment_name, "sha256:" + "0" * 64, "sha256:" + "1" * 64, changes)


def _change(name: str, action: Action = Action.CREATE) -> Change:
    return Change("Topic", name, action, Risk.SAFE, ())


def test_the_json_of_several_environments_holds_each_plan_whole() -> None:
    dev = _plan("dev", _change("t-1"))
    text = render_environments_json(
        [
            EnvironmentOutcome("specs/dev", 2, dev),
            EnvironmentOutcome("specs/prod", 1, None, "cannot reach Kafka"),
        ],
        tool_version="9.9",
    )
    document = json.loads(text)
    assert document["formatVersion"] == 1
    dev_entry, prod_entry = document["environments"]
    assert dev_entry["exitCode"] == 2 and "error" not in dev_entry
    assert [c["name"] for c in dev_entry["plan"]["changes"]] == ["t-1"]
    assert dev_entry["plan"]["tool"]["version"] == "9.9"
    assert prod_entry == {"directory": "specs/prod", "exitCode": 1, "error": "cannot reach Kafka"}


def _taken(shares: _Shares) -> list[set[str]]:
    chunks = []
    while chunk := shares.take():
        chunks.append(chunk)
    return chunks


def test_read_back_reads_each_changed_topic_once_and_altered_ones_on_every_broker() -> None:
    changed = {f"t-{n:04d}" for n in range(1000)} | {"altered"}
    shares = _Shares(changed, {"altered"}, 3)
    assert shares.altered == {"altered"}  # each broker reads it, beside what it takes
    chunks = _taken(shares)
    assert set().union(*chunks) == changed - {"altered"}
    assert sum(map(len, chunks)) == 1000  # each read on one broker only
    assert len(chunks) >= 2 * 3  # enough that a broker listing the changes sooner reads more
    assert shares.take() == set()
    few = _taken(_Shares({"a", "b"}, set(), 3))
    assert few == [{"a", "b"}]  # a small apply: one broker's read, no chunk under CHUNK_TOPICS
    assert all(len(c) >= CHUNK_TOPICS for c in chunks[:-1])


def test_what_any_broker_still_reports_is_left_once() -> None:
    stale = KindPlan(changes=(_change("b", Action.UPDATE),), orphans=(Orphan("Topic", "o", ""),))
    again = KindPlan(changes=(_change("b", Action.UPDATE), _change("a")))
    together = _together([stale, KindPlan(), again])
    assert [c.name for c in together.changes] == ["a", "b"]
    assert [o.name for o in together.orphans] == ["o"]
    assert _together([KindPlan(), KindPlan()]) == KindPlan()


def test_environments_that_connect_alike_share_one_read_of_their_cluster(
    tmp_path: Path,
) -> None:
    from reconciler.engine.load import load
    from reconciler.engine.observe import Shared, connect

    shared = Shared()
    first, second = (load(environment(tmp_path / n)).environment for n in ("a", "b"))
    other = load(environment(tmp_path / "c", servers="127.0.0.1:2")).environment
    a, b, c = (connect(e, {}, shared) for e in (first, second, other))
    assert a is not b  # clients of their own (kafka-python's are not thread-safe)
    assert a._shared is b._shared and a._shared is not None
    assert c._shared is not a._shared
    alone = connect(first, {})._shared
    assert alone is not a._shared and alone is not connect(first, {})._shared  # its own read


class _Admin:
    """A topic API whose Metadata takes a moment, counting the reads."""

    def __init__(self, reads: list[int], fail: bool = False) -> None:
        self.reads, self.fail = reads, fail

    def topic_metadata(self) -> dict[str, dict[int, tuple[int, ...]]]:
        import time

        from reconciler.core.errors import ReconcilerError

        self.reads.append(1)
        time.sleep(0.05)  # long enough for every other thread to ask meanwhile
        if self.fail:
            raise ReconcilerError("cannot reach Kafka")
        return {"t": {0: (1,)}}

    def cluster(self, topics: object) -> object:
        from reconciler.core.cluster import ClusterView

        return ClusterView("c", (), {})


@pytest.mark.parametrize("fail", [False, True])
def test_a_shared_cluster_is_read_once_however_many_environments_ask(fail: bool) -> None:
    """Twenty environments on one unreachable cluster wait one timeout, not twenty."""
    import threading

    from reconciler.clients.session import Clients, SharedCluster
    from reconciler.core.environment import Connection
    from reconciler.core.errors import ReconcilerError

    reads: list[int] = []
    shared = SharedCluster()
    seen: list[object] = []

    def plan_one() -> None:
        clients = Clients(Connection(NOWHERE), None, shared)
        clients._topics = _Admin(reads, fail)  # type: ignore[assignment]
        try:
            seen.append(clients.cluster())
        except ReconcilerError as exc:
            seen.append(str(exc))

    threads = [threading.Thread(target=plan_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reads == [1] and len(seen) == 8 and all(view == seen[0] for view in seen)
    assert (seen[0] == "cannot reach Kafka") is fail
