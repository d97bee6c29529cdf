"""How risky a config change is, for a topic's own config and for the brokers' defaults.

One set of rules: a topic config and the broker property it inherits from (`retention.ms`
and `log.retention.hours`, `max.message.bytes` and `message.max.bytes`: the broker catalog's
`topic_synonym`) carry the same risk.
Only the wording differs, because a broker property changes every topic without an override.

safe: nothing is lost. disruptive: clients notice. destructive: data can be lost or kept
differently.
"""

from __future__ import annotations

from enum import Enum

from reconciler.core.configs.broker import BROKER_CONFIGS
from reconciler.core.model import Risk


class Scope(Enum):
    TOPIC = "topic"
    BROKER = "broker"


class Rule(Enum):
    RETENTION_SHRINKS = "retention"
    POLICY_CHANGES = "cleanup.policy"
    UNCLEAN_ELECTION = "unclean.leader.election.enable"
    MORE_REPLICAS_IN_SYNC = "min.insync.replicas"
    SMALLER_MESSAGES = "max.message.bytes"
    NO_ACL_DENIES = "allow.everyone.if.no.acl.found"


RISKS: dict[Rule, Risk] = {
    Rule.RETENTION_SHRINKS: Risk.DESTRUCTIVE,
    Rule.POLICY_CHANGES: Risk.DESTRUCTIVE,
    Rule.UNCLEAN_ELECTION: Risk.DESTRUCTIVE,
    Rule.MORE_REPLICAS_IN_SYNC: Risk.DISRUPTIVE,
    Rule.SMALLER_MESSAGES: Risk.DISRUPTIVE,
    Rule.NO_ACL_DENIES: Risk.DISRUPTIVE,
}

#: Topic configs whose decrease deletes data sooner; -1 means unlimited (-2: "same as retention").
RETENTION = ("retention.ms", "retention.bytes", "local.retention.ms", "local.retention.bytes")
#: Broker properties that bound what the brokers keep, beside the topic retention defaults.
BROKER_RETENTION = ("offsets.retention.minutes",)

_WORDING: dict[Rule, tuple[str, str]] = {
    Rule.RETENTION_SHRINKS: (
        "retention shrinks, so data beyond the new limit is deleted at the next log cleanup",
        "every topic without its own override keeps less data; older data is deleted at the "
        "next cleanup",
    ),
    Rule.POLICY_CHANGES: (
        "compaction keeps only the latest value per key and deletion drops old segments; "
        "changing the policy changes which data survives",
        "changes which data survives in topics that inherit the policy",
    ),
    Rule.UNCLEAN_ELECTION: (
        "an out-of-sync replica may become leader and acknowledged messages can be lost",
        "an out-of-sync replica may become leader and acknowledged messages can be lost",
    ),
    Rule.MORE_REPLICAS_IN_SYNC: (
        "producers with acks=all fail while fewer than {after} replicas are in sync",
        "producers with acks=all need more replicas in sync",
    ),
    Rule.SMALLER_MESSAGES: (
        "producers sending larger batches start getting errors",
        "larger batches are refused",
    ),
    Rule.NO_ACL_DENIES: (
        "clients without a matching Kafka ACL lose access",
        "clients without a matching Kafka ACL lose access",
    ),
}


def _number(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def _limit(value: str | None) -> float | None:
    """A retention limit as a number; negative (unlimited) is infinite."""
    number = _number(value)
    return None if number is None else float("inf") if number < 0 else number


def rule_of(key: str, before: str | None, after: str, scope: Scope) -> Rule | None:
    """The rule a change of `key` from `before` to `after` falls under, if any.

    `key` is a topic config for Scope.TOPIC and a broker property for Scope.BROKER.
    """
    if scope is Scope.BROKER:
        if key == Rule.NO_ACL_DENIES.value:
            return Rule.NO_ACL_DENIES if after == "false" else None
        if key in BROKER_RETENTION:
            key = RETENTION[0]
        else:
            definition = BROKER_CONFIGS.get(key)
            key = (definition.topic_synonym if definition else None) or ""
    if key in RETENTION:
        old, new = _limit(before), _limit(after)
        return Rule.RETENTION_SHRINKS if old is not None and new is not None and new < old else None
    if key == Rule.POLICY_CHANGES.value:
        return Rule.POLICY_CHANGES if before is not None else None
    if key == Rule.UNCLEAN_ELECTION.value:
        return Rule.UNCLEAN_ELECTION if after == "true" and before != "true" else None
    old, new = _number(before), _number(after)
    if old is None or new is None:
        return None
    if key == Rule.MORE_REPLICAS_IN_SYNC.value and new > old:
        return Rule.MORE_REPLICAS_IN_SYNC
    if key == Rule.SMALLER_MESSAGES.value and new < old:
        return Rule.SMALLER_MESSAGES
    return None


def config_risk(
    key: str, before: str | None, after: str, scope: Scope, what: str
) -> tuple[Risk, str | None]:
    """The risk of the change and the sentence a reviewer reads, led by `what` changes."""
    rule = rule_of(key, before, after, scope)
    if rule is None:
        return Risk.SAFE, None
    topic, broker = _WORDING[rule]
    wording = (topic if scope is Scope.TOPIC else broker).format(after=after)
    return RISKS[rule], f"{what}: {wording}"
