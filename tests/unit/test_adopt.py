"""Import's adoption of live topics, as pure round trips: adopt -> to_documents -> load with
the Environment as it will be -> diff against the live topics. The plan must be empty."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.core.model import Action
from reconciler.kinds.base import KindPlan, Loading, Selection, SpecDocument
from reconciler.kinds.topic.adopt import Adoption, Sections, adopt
from reconciler.kinds.topic.diff import diff_topics
from reconciler.kinds.topic.documents import to_documents
from reconciler.kinds.topic.model import (
    TOPIC_OVERRIDE,
    ObservedConfig,
    ObservedTopic,
    ObservedTopics,
)
from reconciler.kinds.topic.spec import load_topics
from reconciler.specs.environment import parse_environment
from reconciler.specs.yaml_source import Document, parse_documents

#: What the brokers give a topic that does not override it.
BROKER = {
    "retention.ms": "604800000",
    "cleanup.policy": "delete",
    "compression.type": "producer",
    "min.insync.replicas": "1",
    "retention.bytes": "-1",
    "max.message.bytes": "1048588",
}
DAY = "86400000"


def live(
    name: str, partitions: int = 3, rf: int = 2, inherited: dict[str, str] | None = None, **own: str
) -> ObservedTopic:
    """A live topic read with every config (import reads them all): its own overrides, and
    what it inherits for the rest."""
    base = BROKER if inherited is None else inherited
    configs = {key: ObservedConfig(value, "DEFAULT_CONFIG") for key, value in base.items()}
    for written, value in own.items():
        key = written.replace("_", ".")
        configs[key] = ObservedConfig(value, TOPIC_OVERRIDE, inherited=base.get(key))
    replicas = {p: tuple(range(1, rf + 1)) for p in range(partitions)}
    return ObservedTopic(name, partitions, rf, replicas, configs)


def cluster(*topics: ObservedTopic) -> ObservedTopics:
    return ObservedTopics({t.name: t for t in topics})


def environment(spec: str) -> str:
    return (
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: dev}\nspec:\n"
        "  kafka: {bootstrapServers: 'localhost:9092', securityProtocol: PLAINTEXT}\n" + spec
    )


def _doc(text: str, file: str) -> list[Document]:
    documents, problems = parse_documents(text, file)
    assert problems == []
    return documents


def adopted(
    env: str, observed: ObservedTopics, selection: Selection | None = None, own: str = ""
) -> tuple[Adoption, Document, list[Document]]:
    """What import makes of the live topics, before it writes anything."""
    [env_doc] = _doc(env, "environment.yaml")
    mine = _doc(own, "own.yaml") if own else []
    declared, problems = load_topics(
        mine, Loading(parse_environment(env_doc), env_doc, partial=True)
    )
    assert problems == []
    sections = Sections.of(env_doc.data["spec"])
    return adopt(observed, declared, sections, selection or Selection()), env_doc, mine


def round_trip(
    env: str, observed: ObservedTopics, selection: Selection | None = None, own: str = ""
) -> tuple[Adoption, KindPlan, list[SpecDocument]]:
    """Adopt, write the documents (and the Environment's new defaults), load them back with
    the user's own documents, and plan against the same live topics."""
    adoption, env_doc, mine = adopted(env, observed, selection, own)
    assert adoption.refusals == ()  # else nothing is written
    if adoption.defaults is not None:
        data: dict[str, Any] = dict(env_doc.data)
        data["spec"] = {**data["spec"], "topics": {**data["spec"]["topics"]}}
        data["spec"]["topics"]["defaults"] = adoption.defaults
        [env_doc] = _doc(yaml.safe_dump(data, sort_keys=False), "environment.yaml")
    documents = to_documents(adoption.topics, True)
    text = yaml.safe_dump_all(documents, sort_keys=False)
    written = _doc(text, "topics.yaml") if documents else []
    loading = Loading(parse_environment(env_doc), env_doc)
    loaded, problems = load_topics([*mine, *written], loading)
    assert [str(p) for p in problems] == []  # what import writes passes validate
    return adoption, diff_topics(loaded, observed, None), documents


def configs(documents: list[SpecDocument]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d["spec"]["config"] for d in documents}


def test_defaults_and_overrides_of_the_environment_leave_the_first_plan_empty() -> None:
    """The review's case: the Environment's defaults and overrides are applied on load, so
    the documents declare what a default would change and drop what they already give."""
    env = environment(
        "  topics:\n"
        "    defaults: {partitions: 12, config: {retention.ms: 7d, cleanup.policy: delete}}\n"
        "    overrides:\n"
        "      'orders.*': {config: {compression.type: zstd}}\n"
    )
    observed = cluster(
        live("orders.eu", 6, inherited={**BROKER, "retention.ms": DAY}, compression_type="zstd"),
        live("payments", retention_ms="604800000"),
        live("compacted", cleanup_policy="compact"),
        live("plain"),
    )
    adoption, plan, documents = round_trip(env, observed)
    assert plan == KindPlan()
    assert configs(documents) == {
        "compacted": {"cleanup.policy": ["compact"]},  # the default would flip it
        "orders.eu": {"retention.ms": "1d"},  # inherited 1d, the default says 7d
        "payments": {},  # its own 7d is what the default gives
        "plain": {},
    }
    assert {d["metadata"]["name"]: d["spec"]["partitions"] for d in documents}["orders.eu"] == 6
    assert adoption.warnings == () and adoption.refusals == ()


def test_without_compensation_the_same_documents_would_plan_changes() -> None:
    """The check above can fail: the live overrides alone plan the default's value."""
    env = environment("  topics:\n    defaults: {config: {retention.ms: 7d}}\n")
    observed = cluster(live("orders", inherited={**BROKER, "retention.ms": DAY}))
    _, plan, documents = round_trip(env, observed)
    assert plan.changes == () and configs(documents)["orders"] == {"retention.ms": "1d"}
    naive = {**documents[0], "spec": {**documents[0]["spec"], "config": {}}}
    [env_doc] = _doc(env, "environment.yaml")
    loaded, _ = load_topics(
        _doc(yaml.safe_dump(naive), "t.yaml"), Loading(parse_environment(env_doc), env_doc)
    )
    [change] = diff_topics(loaded, observed, None).changes
    assert [d.field for d in change.diff] == ["config.retention.ms"]


def test_an_override_written_for_a_topic_that_would_change_it_refuses_the_import() -> None:
    """An override wins over any document: no spec can keep the topic as it is."""
    env = environment("  topics:\n    overrides:\n      orders: {partitions: 12}\n")
    adoption, _, _ = adopted(env, cluster(live("orders", 6), live("payments")))
    [refusal] = adoption.refusals  # the override names it: the user asked for it
    assert refusal.startswith(
        "orders: topics.overrides.orders sets partitions 12, but the topic has 6; an override "
        "wins over any spec"
    )


def test_a_glob_override_that_would_change_a_topic_skips_it() -> None:
    env = environment("  topics:\n    overrides:\n      'logs.*': {config: {retention.ms: 1d}}\n")
    observed = cluster(live("logs.app"), live("logs.web", retention_ms=DAY))
    adoption, plan, documents = round_trip(env, observed)
    assert [d["metadata"]["name"] for d in documents] == ["logs.web"]
    assert configs(documents) == {"logs.web": {}}  # the override gives its 1d
    assert plan.changes == ()
    [warning] = adoption.warnings
    assert warning.startswith(
        "logs.app: not imported: topics.overrides.logs.* sets retention.ms 1d, but the topic has 7d"
    )


def test_only_topics_the_environment_may_own_are_adopted() -> None:
    env = environment("  topics:\n    manage: ['app.*', 'connect-*']\n    ignore: ['connect-*']\n")
    observed = cluster(
        live("app.orders"), live("connect-offsets"), live("other"), live("__consumer_offsets")
    )
    adoption, plan, documents = round_trip(env, observed)
    assert [d["metadata"]["name"] for d in documents] == ["app.orders"]
    assert adoption.refusals == () and plan.changes == ()
    named = Selection(("connect-offsets", "__consumer_offsets", "missing", "app.orders"))
    adoption, _, _ = adopted(env, observed, named)
    assert list(adoption.topics.topics) == ["app.orders"]
    assert [r.split(":")[0] for r in adoption.refusals] == [
        "connect-offsets",
        "__consumer_offsets",
        "missing",
    ]
    assert "not owned by this environment" in adoption.refusals[0]
    assert "internal topic" in adoption.refusals[1]
    assert "no such topic in the cluster" in adoption.refusals[2]


def test_a_topic_the_policy_refuses_is_skipped_with_the_way_out_and_refused_by_name() -> None:
    env = environment(
        "  policy: {minReplicationFactor: 2, maxPartitions: 50}\n  topics: {manage: ['*']}\n"
    )
    observed = cluster(
        live("orders-rf1", rf=1),
        live("wide", 64),
        live("strict", rf=2, min_insync_replicas="3"),
        live("fine"),
    )
    adoption, plan, documents = round_trip(env, observed)
    assert [d["metadata"]["name"] for d in documents] == ["fine"]
    assert plan.changes == () and adoption.refusals == ()
    rf1, strict, wide = adoption.warnings
    assert rf1.startswith(
        "orders-rf1: not imported: replicationFactor 1 is below the environment's "
        "policy.minReplicationFactor 2: raise it first"
    )
    assert "topics.ignore" in rf1
    assert strict.startswith("strict: not imported: config.min.insync.replicas 3 is greater")
    assert wide.startswith("wide: not imported: partitions 64 exceeds the environment's")
    adoption, _, _ = adopted(env, observed, Selection(("orders-rf1", "fine")))
    [refusal] = adoption.refusals
    assert refusal.startswith("orders-rf1: replicationFactor 1 is below")
    adoption, _, _ = round_trip(env, observed, Selection(("orders-*", "fine")))
    assert adoption.refusals == () and adoption.warnings[0].startswith("orders-rf1: not")


def test_a_default_that_would_break_the_policy_blocks_the_topic() -> None:
    """min.insync.replicas from the defaults applies to the topic as loaded."""
    env = environment("  topics:\n    defaults: {config: {min.insync.replicas: 2}}\n")
    inherits_two = {**BROKER, "min.insync.replicas": "2"}
    observed = cluster(
        live("single", rf=1, inherited=inherits_two), live("pair", inherited=inherits_two)
    )
    adoption, plan, documents = round_trip(env, observed)
    assert [d["metadata"]["name"] for d in documents] == ["pair"]
    assert adoption.warnings[0].startswith("single: not imported: config.min.insync.replicas 2")
    assert plan.changes == ()


def test_an_override_the_brokers_hide_is_not_dropped_by_a_spec() -> None:
    topic = live("vault")
    hidden = {**topic.configs, "ssl.secret": ObservedConfig(None, TOPIC_OVERRIDE, sensitive=True)}
    observed = cluster(ObservedTopic("vault", 3, 2, topic.replicas, hidden), live("open"))
    adoption, plan, documents = round_trip(environment(""), observed)
    assert [d["metadata"]["name"] for d in documents] == ["open"]
    assert "do not reveal its override of ssl.secret" in adoption.warnings[0]
    assert plan.changes == ()


def test_topics_the_user_declares_are_left_as_written() -> None:
    own = (
        "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: orders}\n"
        "spec: {partitions: 3, replicationFactor: 2, config: {retention.ms: 7d}}\n"
    )
    observed = cluster(live("orders"), live("payments"))
    adoption, plan, documents = round_trip(environment(""), observed, own=own)
    assert [d["metadata"]["name"] for d in documents] == ["payments"]
    assert "orders" in adoption.warnings[0] and "left as written" in adoption.warnings[0]
    assert plan.changes == ()


def test_factored_defaults_replace_the_config_keep_the_rest_and_stay_exact() -> None:
    env = environment(
        "  topics:\n"
        "    defaults: {replicationFactor: 2, config: {cleanup.policy: delete}}\n"
        "    overrides:\n      audit: {config: {retention.ms: 30d}}\n"
    )
    observed = cluster(
        live("a", retention_ms=DAY, compression_type="zstd"),
        live("b", retention_ms=DAY, compression_type="zstd"),
        live("c", retention_ms=DAY, compression_type="lz4"),
        live("audit", retention_ms="2592000000"),
        live("d"),
    )
    adoption, plan, documents = round_trip(env, observed, Selection(factor_defaults=True))
    assert adoption.defaults == {"replicationFactor": 2, "config": {"retention.ms": "1d"}}
    assert plan == KindPlan()
    assert configs(documents) == {
        "a": {"compression.type": "zstd"},
        "audit": {},  # the override gives its 30d
        "b": {"compression.type": "zstd"},
        "c": {"compression.type": "lz4"},
        "d": {"retention.ms": "7d"},  # inherited 7d, declared against the shared 1d
    }


def test_nothing_shared_leaves_the_defaults_as_they_are() -> None:
    env = environment("  topics:\n    defaults: {config: {retention.ms: 7d}}\n")
    observed = cluster(live("a", compression_type="zstd"), live("b", compression_type="lz4"))
    adoption, plan, _ = round_trip(env, observed, Selection(factor_defaults=True))
    assert adoption.defaults is None and plan.changes == ()


def test_a_selection_narrows_adoption_and_exclude_wins() -> None:
    observed = cluster(live("x.a"), live("x.b"), live("y.a"))
    selection = Selection(("x.*", "y.a"), ("x.b", "y.a"))
    adoption, plan, documents = round_trip(environment(""), observed, selection)
    assert [d["metadata"]["name"] for d in documents] == ["x.a"]
    assert adoption.refusals == ()
    assert not any(c.action is Action.DELETE for c in plan.changes)
