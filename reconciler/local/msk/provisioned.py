"""Cluster settings as MSK stores and describes them: every member present, defaults filled
in; and the checks MSK makes on them (via `reconciler.kinds.msk_cluster.rules`).
"""

from __future__ import annotations

from reconciler.kinds.msk_cluster import rules
from reconciler.local.msk.wire import Json


def full_auth(auth: Json | None) -> Json:
    """ClientAuthentication as MSK describes it: every method present, enabled or not."""
    auth = auth or {"Unauthenticated": {"Enabled": True}}
    sasl = auth.get("Sasl") or {}
    tls = auth.get("Tls") or {}
    cas = list(tls.get("CertificateAuthorityArnList") or [])
    return {
        "Sasl": {
            "Scram": {"Enabled": bool((sasl.get("Scram") or {}).get("Enabled", False))},
            "Iam": {"Enabled": bool((sasl.get("Iam") or {}).get("Enabled", False))},
        },
        "Tls": {"CertificateAuthorityArnList": cas, "Enabled": bool(tls.get("Enabled", bool(cas)))},
        "Unauthenticated": {
            "Enabled": bool((auth.get("Unauthenticated") or {}).get("Enabled", False))
        },
    }


def full_logging(logging_info: Json | None) -> Json:
    logs = (logging_info or {}).get("BrokerLogs") or {}
    result: Json = {}
    for key in ("CloudWatchLogs", "Firehose", "S3"):
        entry = dict(logs.get(key) or {"Enabled": False})
        entry["Enabled"] = bool(entry.get("Enabled", False))
        result[key] = entry
    return {"BrokerLogs": result}


def logging_problem(logging_info: Json) -> str | None:
    logs = logging_info.get("BrokerLogs") or {}
    for key, target in (
        ("CloudWatchLogs", "LogGroup"),
        ("S3", "Bucket"),
        ("Firehose", "DeliveryStream"),
    ):
        entry = logs.get(key) or {}
        if entry.get("Enabled") and not entry.get(target):
            return f"{key} broker logs need {target} when enabled"
    return None


def open_monitoring(info: Json | None) -> Json:
    prometheus = (info or {}).get("Prometheus") or {}
    return {
        "Prometheus": {
            "JmxExporter": {
                "EnabledInBroker": bool(
                    (prometheus.get("JmxExporter") or {}).get("EnabledInBroker")
                )
            },
            "NodeExporter": {
                "EnabledInBroker": bool(
                    (prometheus.get("NodeExporter") or {}).get("EnabledInBroker")
                )
            },
        }
    }


def security(p: Json) -> tuple[str, bool, bool, bool, bool, bool]:
    auth = p["ClientAuthentication"]
    transit = p["EncryptionInfo"]["EncryptionInTransit"]
    return (
        str(transit["ClientBroker"]),
        bool(transit["InCluster"]),
        bool(auth["Unauthenticated"]["Enabled"]),
        bool(auth["Tls"]["Enabled"]),
        bool(auth["Sasl"]["Scram"]["Enabled"]),
        bool(auth["Sasl"]["Iam"]["Enabled"]),
    )


def security_problems(p: Json) -> list[str]:
    client_broker, in_cluster, unauth, tls, scram, iam = security(p)
    return rules.security_problems(
        client_broker=client_broker,
        in_cluster=in_cluster,
        unauthenticated=unauth,
        tls=tls,
        scram=scram,
        iam=iam,
    )
