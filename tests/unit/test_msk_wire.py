"""A validator of raw MSK responses against botocore's own `kafka` output shapes, and its tests.

The local MSK endpoint must send what AWS sends. boto3's parser is lenient (it drops unknown
members, accepts missing required ones), so the integration tests record every raw response
body with `WireLog` and check it here: required members, JSON types, enums, integer ranges,
string lengths, ISO 8601 timestamps, base64 blobs, nested lists and maps, and no member the
shape does not define. Error bodies are checked against the error shapes the same way.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import botocore.session
import pytest
from botocore.model import OperationModel, ServiceModel, Shape

if TYPE_CHECKING:
    from mypy_boto3_kafka import KafkaClient

ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@cache
def kafka_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("kafka")


def _structure(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: {shape.name} must be an object, got {type(value).__name__}")
        return
    members = {
        m.serialization.get("name", name): m
        for name, m in shape.members.items()
        if m.serialization.get("location") is None
    }
    for name in shape.required_members:
        member = shape.members[name]
        wire = member.serialization.get("name", name)
        if member.serialization.get("location") is None and wire not in value:
            problems.append(f"{path}: required member {wire} of {shape.name} is missing")
    for key, item in value.items():
        if key not in members:
            problems.append(f"{path}.{key}: not a member of {shape.name}")
        else:
            _check(members[key], item, f"{path}.{key}", problems)


def _list(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, list):
        problems.append(f"{path}: must be a list")
        return
    for index, item in enumerate(value):
        _check(shape.member, item, f"{path}[{index}]", problems)


def _map(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: must be a map")
        return
    for key, item in value.items():
        _check(shape.key, key, f"{path}<key>", problems)
        _check(shape.value, item, f"{path}[{key}]", problems)


def _string(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, str):
        problems.append(f"{path}: must be a string, got {value!r}")
        return
    meta = shape.metadata
    if meta.get("enum") and value not in meta["enum"]:
        problems.append(f"{path}: {value!r} is not one of {meta['enum']}")
    if "min" in meta and len(value) < meta["min"]:
        problems.append(f"{path}: shorter than {meta['min']}")
    if "max" in meta and len(value) > meta["max"]:
        problems.append(f"{path}: longer than {meta['max']}")


def _integer(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{path}: must be an integer, got {value!r}")
        return
    meta = shape.metadata
    if "min" in meta and value < meta["min"]:
        problems.append(f"{path}: {value} is below {meta['min']}")
    if "max" in meta and value > meta["max"]:
        problems.append(f"{path}: {value} is above {meta['max']}")


def _number(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{path}: must be a number, got {value!r}")


def _boolean(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, bool):
        problems.append(f"{path}: must be a boolean, got {value!r}")


def _timestamp(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, str) or not ISO_8601.match(value):
        problems.append(f"{path}: must be an ISO 8601 timestamp string, got {value!r}")
        return
    datetime.fromisoformat(value.replace("Z", "+00:00"))


def _blob(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        problems.append(f"{path}: must be base64, got {value!r}")


CHECKS: dict[str, Callable[[Any, Any, str, list[str]], None]] = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "double": _number,
    "float": _number,
    "boolean": _boolean,
    "timestamp": _timestamp,
    "blob": _blob,
}


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    check = CHECKS.get(shape.type_name)
    if check is None:
        problems.append(f"{path}: unchecked shape type {shape.type_name}")
    else:
        check(shape, value, path, problems)


def validate_output(operation: str, body: Any) -> list[str]:
    """Every way `body` (the parsed JSON of a 2xx response) differs from the output shape."""
    shape = kafka_model().operation_model(operation).output_shape
    problems: list[str] = []
    if shape is None:
        if body not in (None, {}, b""):
            problems.append(f"{operation}: expected no body")
        return problems
    _check(shape, body, operation, problems)
    return problems


def validate_error(operation: str, code: str, body: Any) -> list[str]:
    """An error response: a declared error of the operation, with its error shape."""
    model: OperationModel = kafka_model().operation_model(operation)
    shapes = {s.name: s for s in model.error_shapes}
    if code not in shapes:
        return [f"{operation}: {code} is not an error MSK declares for it"]
    problems: list[str] = []
    _check(shapes[code], body, f"{operation}!{code}", problems)
    return problems


class WireLog:
    """Records every raw kafka response a boto3 client receives, for shape validation."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, int, str | None, bytes]] = []

    def attach(self, client: KafkaClient) -> KafkaClient:
        client.meta.events.register("before-parse.kafka.*", self._record)
        return client

    def _record(
        self, operation_model: OperationModel, response_dict: dict[str, Any], **_: Any
    ) -> None:
        headers = {k.lower(): v for k, v in response_dict.get("headers", {}).items()}
        self.responses.append(
            (
                operation_model.name,
                int(response_dict["status_code"]),
                headers.get("x-amzn-errortype"),
                bytes(response_dict.get("body") or b""),
            )
        )

    def problems(self) -> list[str]:
        found: list[str] = []
        for operation, status, error, raw in self.responses:
            if status == 429:
                continue  # injected throttling: retried by the client before parsing matters
            body = json.loads(raw) if raw.strip() else {}
            if status >= 300:
                found.extend(validate_error(operation, str(error), body))
            else:
                found.extend(validate_output(operation, body))
        return found

    @property
    def operations(self) -> set[str]:
        return {operation for operation, status, _, _ in self.responses if status < 300}


# --- the validator's own tests: each kind of drift is caught ---------------------------------

GOOD_CLUSTER = {
    "clusterInfo": {
        "clusterArn": "arn:aws:kafka:us-east-1:123456789012:cluster/c/1",
        "clusterName": "c",
        "clusterType": "PROVISIONED",
        "creationTime": "2024-05-01T10:00:00.123Z",
        "currentVersion": "K3AEGXETSR30VB",
        "state": "ACTIVE",
        "tags": {"team": "payments"},
        "provisioned": {
            "brokerNodeGroupInfo": {
                "clientSubnets": ["subnet-a", "subnet-b"],
                "instanceType": "kafka.t3.small",
                "storageInfo": {"ebsStorageInfo": {"volumeSize": 100}},
            },
            "numberOfBrokerNodes": 2,
            "currentBrokerSoftwareInfo": {"kafkaVersion": "3.5.1", "configurationRevision": 1},
        },
    }
}


def _variant(path: list[str], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(GOOD_CLUSTER))
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


def test_a_faithful_response_has_no_problems() -> None:
    assert validate_output("DescribeClusterV2", GOOD_CLUSTER) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["clusterInfo", "state"], "RUNNING", "is not one of"),
        (["clusterInfo", "creationTime"], 1714557600, "ISO 8601"),
        (["clusterInfo", "creationTime"], "01/05/2024", "ISO 8601"),
        (["clusterInfo", "clusterName"], 7, "must be a string"),
        (["clusterInfo", "ClusterName"], "c", "not a member"),
        (["clusterInfo", "provisioned", "numberOfBrokerNodes"], KeyError, "required member"),
        (["clusterInfo", "provisioned", "numberOfBrokerNodes"], 16, "above 15"),
        (["clusterInfo", "provisioned", "numberOfBrokerNodes"], True, "must be an integer"),
        (["clusterInfo", "provisioned", "brokerNodeGroupInfo", "clientSubnets"], "a", "list"),
        (["clusterInfo", "tags"], ["team"], "must be a map"),
        (["clusterInfo", "tags", "team"], 1, "must be a string"),
    ],
)
def test_each_kind_of_drift_is_reported(path: list[str], value: Any, expected: str) -> None:
    problems = validate_output("DescribeClusterV2", _variant(path, value))
    assert any(expected in p for p in problems), problems


def test_blobs_must_be_base64_and_errors_must_be_declared() -> None:
    revision = {"arn": "a", "revision": 1, "serverProperties": "not base64!"}
    assert validate_output("DescribeConfigurationRevision", revision)
    good = dict(revision, serverProperties=base64.b64encode(b"a=b").decode())
    assert validate_output("DescribeConfigurationRevision", good) == []
    assert validate_error("UpdateBrokerCount", "BadRequestException", {"message": "x"}) == []
    assert validate_error("TagResource", "ConflictException", {"message": "x"})
