"""MSK's REST-JSON wire format, walking botocore's own `kafka` service model.

Routes, member names, locations, timestamps and blobs all come from the model, so what the
local endpoint reads and writes cannot drift from AWS's.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast
from urllib.parse import unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

Json = dict[str, Any]


class ApiError(Exception):
    """An MSK error response: HTTP status from the code, JSON body with message."""

    def __init__(self, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.parameter = parameter


def bad_request(message: str, parameter: str | None = None) -> ApiError:
    return ApiError("BadRequestException", message, parameter)


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("kafka")


@cache
def error_statuses() -> Mapping[str, int]:
    """Each MSK error code's HTTP status, as the service model gives it."""
    status = {
        shape.name: int(shape.metadata["error"]["httpStatusCode"])
        for shape in service_model().error_shapes
        if "error" in shape.metadata
    }
    return {**status, "NotImplemented": 501}


def iso(moment: float | datetime) -> str:
    """MSK's timestamp format: ISO 8601 UTC with milliseconds, e.g. 2019-06-20T21:08:57.735Z."""
    value = moment if isinstance(moment, datetime) else datetime.fromtimestamp(moment, UTC)
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def to_wire(shape: Shape, value: Any) -> Any:
    """Member-name data -> the JSON MSK sends (serialization names). Unknown members raise."""
    kind = shape.type_name
    if kind == "structure":
        members = cast(StructureShape, shape).members
        out: Json = {}
        for key, item in value.items():
            if item is None:
                continue
            if key not in members:
                raise KeyError(f"{shape.name} has no member {key!r}")
            member = members[key]
            out[member.serialization.get("name", key)] = to_wire(member, item)
        return out
    if kind == "list":
        return [to_wire(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {str(k): to_wire(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return iso(value)
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    return value


def from_wire(shape: Shape, value: Any) -> Any:
    """Request JSON -> member-name data (what boto3 callers pass). Unknown members are dropped."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise bad_request(f"{shape.name} must be an object")
        members = cast(StructureShape, shape).members
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in members.items()}
        return {
            by_wire[k][0]: from_wire(by_wire[k][1], v) for k, v in value.items() if k in by_wire
        }
    if kind == "list":
        return [from_wire(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {str(k): from_wire(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "blob":
        return base64.b64decode(value)
    return value


def _scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in {"integer", "long"}:
        try:
            return int(text)
        except ValueError:
            raise bad_request(f"{text!r} is not a number") from None
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


@cache
def routes(operations: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(method, path pattern, operation) for each of `operations`, from the model."""
    found = []
    for name in operations:
        http = service_model().operation_model(name).http
        template = str(http["requestUri"]).split("?")[0]
        pattern = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", template)
        found.append((str(http["method"]), re.compile(f"^{pattern}$"), name))
    return tuple(found)


def parse_request(
    operation: OperationModel, path: Mapping[str, str], query: Mapping[str, list[str]], body: Json
) -> Json:
    """URI, query string and body members -> one member-name dict, like boto3's kwargs."""
    params: Json = {}
    shape = operation.input_shape
    if shape is None:
        return params
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri" and wire in path:
            params[name] = _scalar(member, unquote(path[wire]))
        elif where == "querystring" and wire in query:
            values = query[wire]
            if member.type_name == "list":
                params[name] = values
            else:
                params[name] = _scalar(member, values[0])
        elif where is None and wire in body:
            params[name] = from_wire(member, body[wire])
    return params
