"""What the plan's digests record of topics: in the specs, and on the cluster. Pure."""

from __future__ import annotations

from reconciler.kinds.topic.model import ObservedTopics, Topics


def spec_fingerprint(desired: Topics) -> object:
    """Everything in the topic specs that can change a plan, and nothing else."""
    return {
        "manage": list(desired.manage),
        "ignore": list(desired.ignore),
        "allowDelete": desired.policy.allow_delete,
        "placement": {
            "rackAware": desired.placement.rack_aware,
            "balance": desired.placement.balance,
            "throttle": desired.placement.throttle,
        },
        "topics": {
            name: {
                "partitions": t.partitions,
                "replicationFactor": t.replication_factor,
                "config": dict(t.config),
            }
            for name, t in sorted(desired.topics.items())
        },
    }


def fingerprint(desired: Topics, observed: ObservedTopics) -> object:
    """The part of the live state a plan depends on: managed topics and their relevant configs.

    Unmanaged topics and inherited values of undeclared configs are left out on purpose, so a
    consumer auto-creating an unrelated topic does not invalidate a reviewed plan; so are the
    partition sizes behind a move's estimate, which grow as producers write.
    """
    state: dict[str, object] = {}
    for name in sorted(desired.owned(observed.topics)):
        topic = observed.topics[name]
        spec = desired.topics.get(name)
        keys = set(spec.config) if spec else set()
        state[name] = {
            "partitions": topic.partitions,
            "replicationFactor": topic.replication_factor,
            "config": {
                key: [entry.value, entry.is_override]
                for key, entry in sorted(topic.configs.items())
                if entry.is_override or key in keys
            },
            "replicas": {str(p): list(r) for p, r in sorted(topic.replicas.items())},
            "moving": {
                str(p): [list(m.original), list(m.target)]
                for p, m in sorted(observed.placement.moving.get(name, {}).items())
            },
        }
    placement = observed.placement
    state["(replication throttle)"] = {
        "brokers": {
            str(b): dict(sorted(r.items())) for b, r in sorted(placement.broker_throttles.items())
        },
        "anythingMoving": bool(placement.moving),
    }
    return state
