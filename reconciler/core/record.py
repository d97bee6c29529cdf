"""Observed state <-> JSON for snapshots: a strict reader, and a codec for frozen dataclasses.

A snapshot is read on another runner, maybe by another version, so reading refuses anything
it cannot be sure of and names the place (`/kinds/Topic/topics/orders/partitions`). Kinds
whose observed state is plain frozen dataclasses (`encode` / `decode`) need no code of
their own for it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union

from reconciler.core.errors import ReconcilerError

T = TypeVar("T")


class RecordError(ReconcilerError):
    """The file is not a snapshot this version can read."""


class Reader:
    def fail(self, path: str, problem: str) -> RecordError:
        return RecordError(
            f"the snapshot is not valid at {path or '(top level)'}: {problem}; take a new one "
            "with `reconciler snapshot`"
        )

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, "expected an object")
        return value

    def field(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        kind: type | tuple[type, ...],
        *,
        null: bool = False,
    ) -> Any:
        if key not in data:
            raise self.fail(path, f"missing {key}")
        value = data[key]
        if value is None and null:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise self.fail(f"{path}/{key}", f"expected {getattr(kind, '__name__', kind)}")
        return value


def encode(value: Any) -> Any:
    """Frozen dataclasses, tuples, mappings, enums, dates and scalars -> JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [encode(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(hint: Any, value: Any, path: str = "") -> Any:
    """The inverse of `encode`, led by the type hints; raises RecordError naming the place."""
    read = Reader()
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in arguments:
            return None
        (inner,) = [a for a in arguments if a is not type(None)]
        return decode(inner, value, path)
    if origin is typing.Literal:
        if value not in arguments:
            raise read.fail(path, f"expected one of {', '.join(map(str, arguments))}")
        return value
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        data = read.obj(value, path)
        hints = _hints(hint)
        fields = {}
        for f in dataclasses.fields(hint):
            if f.name not in data:
                raise read.fail(path, f"missing {f.name}")
            fields[f.name] = decode(hints[f.name], data[f.name], f"{path}/{f.name}")
        return hint(**fields)
    if origin is tuple:
        if not isinstance(value, list):
            raise read.fail(path, "expected an array")
        item = arguments[0]
        return tuple(decode(item, v, f"{path}/{i}") for i, v in enumerate(value))
    if origin in (Mapping, dict, typing.Mapping):
        data = read.obj(value, path)
        key_type, item = arguments
        return {
            (int(k) if key_type is int else k): decode(item, v, f"{path}/{k}")
            for k, v in data.items()
        }
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            raise read.fail(path, f"unknown value {value!r}") from None
    if hint is datetime or hint is date:
        if not isinstance(value, str):
            raise read.fail(path, "expected an ISO 8601 time")
        try:
            return hint.fromisoformat(value)
        except ValueError:
            raise read.fail(path, "expected an ISO 8601 time") from None
    if hint is Any or hint is object:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (isinstance(value, bool) and hint is int):
        raise read.fail(path, f"expected {getattr(hint, '__name__', hint)}")
    return value
