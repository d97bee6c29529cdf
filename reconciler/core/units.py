"""Exact parsing and formatting of human-friendly durations and sizes.

Specs may say ``retention.ms: 7d`` or ``segment.bytes: 512MiB``; Kafka only understands
integer milliseconds and bytes. Parsing uses :class:`~fractions.Fraction` arithmetic, never
``float``, so ``"1.5h"`` is exactly ``5400000`` and a value that is not a whole number of
milliseconds or bytes is rejected instead of being silently rounded (rounding would make
the desired value drift from what the user wrote and show up as a permanent diff).
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext
from fractions import Fraction

__all__ = [
    "DURATION_UNITS_MS",
    "SIZE_UNITS_BYTES",
    "UnitError",
    "format_bytes",
    "format_duration_ms",
    "integer",
    "parse_duration_ms",
    "parse_size_bytes",
]

#: Duration suffixes and their length in milliseconds. Case-sensitive on purpose: "M" could
#: mean minutes or months, so only lower-case suffixes are accepted.
DURATION_UNITS_MS: dict[str, int] = {
    "ms": 1,
    "s": 1000,
    "m": 60 * 1000,
    "h": 60 * 60 * 1000,
    "d": 24 * 60 * 60 * 1000,
    "w": 7 * 24 * 60 * 60 * 1000,
}

#: Size suffixes and their length in bytes: IEC binary units (KiB = 1024) and SI decimal
#: units (KB = 1000). Lower-case "b" is rejected because it conventionally means bits.
SIZE_UNITS_BYTES: dict[str, int] = {
    "B": 1,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
    "PiB": 1024**5,
    "KB": 1000,
    "kB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "PB": 1000**5,
}

# Units used when turning a number back into text, largest first. Weeks are parsed but not
# produced: "7d" reads better than "1w" next to Kafka's own documentation, which talks days.
_FORMAT_DURATION_UNITS: tuple[tuple[str, int], ...] = (
    ("d", DURATION_UNITS_MS["d"]),
    ("h", DURATION_UNITS_MS["h"]),
    ("m", DURATION_UNITS_MS["m"]),
    ("s", DURATION_UNITS_MS["s"]),
)
_FORMAT_SIZE_UNITS: tuple[tuple[str, int], ...] = tuple(
    (unit, SIZE_UNITS_BYTES[unit])
    for unit in ("PiB", "TiB", "GiB", "MiB", "KiB", "PB", "TB", "GB", "MB", "KB")
)

_MAX_LENGTH = 100
_PLAIN_INT = re.compile(r"[+-]?[0-9]+")
_WITH_UNIT = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)")


class UnitError(ValueError):
    """A duration or size that cannot be turned into an exact integer."""


def integer(value: object) -> int | None:
    """The int a value holds as Kafka writes integers (`-1`, `604800000`; an int itself), else
    None (booleans, `0.5`, `compact`, digits beyond any int Python will parse)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than int() accepts
        return None


def parse_duration_ms(value: int | str) -> int:
    """Return ``value`` in whole milliseconds.

    Accepts a plain integer (already milliseconds, any sign so that Kafka sentinels such as
    ``-1`` pass through) or a non-negative number with one of the suffixes ``ms``, ``s``,
    ``m``, ``h``, ``d``, ``w``, e.g. ``"1.5h"``.
    """
    return _parse(value, DURATION_UNITS_MS, "duration", "milliseconds")


def parse_size_bytes(value: int | str) -> int:
    """Return ``value`` in whole bytes.

    Accepts a plain integer (already bytes, any sign) or a non-negative number with a
    binary (``KiB``, ``MiB``, ``GiB``, ``TiB``, ``PiB``) or decimal (``KB``, ``MB``,
    ``GB``, ``TB``, ``PB``) suffix or ``B``, e.g. ``"10GiB"`` or ``"1.5MB"``.
    """
    return _parse(value, SIZE_UNITS_BYTES, "size", "bytes")


def format_duration_ms(ms: int) -> str:
    """Return the shortest exact text for ``ms`` milliseconds, e.g. ``604800000 -> "7d"``.

    The result always parses back to ``ms`` with :func:`parse_duration_ms`. Negative
    numbers are Kafka sentinels (``-1`` = unlimited) whose meaning depends on the config,
    so the caller has to render them.
    """
    _check_formattable(ms)
    for unit, factor in _FORMAT_DURATION_UNITS:
        if ms and ms % factor == 0:
            return f"{ms // factor}{unit}"
    return f"{ms}ms"


def format_bytes(n: int) -> str:
    """Return the shortest exact text for ``n`` bytes, e.g. ``10737418240 -> "10GiB"``.

    Picks the unit giving the smallest whole number, preferring binary units on a tie
    (``1048576 -> "1MiB"``, ``1000000 -> "1MB"``). Negative numbers are rejected like in
    :func:`format_duration_ms`.
    """
    _check_formattable(n)
    best = f"{n}B"
    best_quantity = n
    for unit, factor in _FORMAT_SIZE_UNITS:
        if n and n % factor == 0 and n // factor < best_quantity:
            best, best_quantity = f"{n // factor}{unit}", n // factor
    return best


def _check_formattable(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(
            f"{value} is negative; Kafka sentinel values must be rendered by the caller"
        )


def _parse(value: int | str, units: dict[str, int], what: str, base: str) -> int:
    allowed = ", ".join(units)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UnitError(
            f"expected a {what} as an integer number of {base} or a string such as "
            f"'{_example(units)}', got {type(value).__name__} {value!r}"
        )
    if isinstance(value, int):
        return value
    text = value.strip()
    if len(text) > _MAX_LENGTH:  # also keeps int() under its 4300-digit limit
        raise UnitError(f"{text[:20]!r}... is too long to be a {what}")
    if _PLAIN_INT.fullmatch(text):
        return int(text)
    match = _WITH_UNIT.fullmatch(text)
    if match is None:
        raise UnitError(
            f"cannot read {value!r} as a {what}: expected an integer number of {base} or a "
            f"non-negative number followed by one of {allowed} (e.g. '{_example(units)}')"
        )
    number, unit = match.groups()
    factor = units.get(unit)
    if factor is None:
        raise UnitError(f"unknown {what} unit {unit!r} in {value!r}; allowed units: {allowed}")
    exact = Fraction(number) * factor
    if exact.denominator != 1:
        with localcontext() as ctx:
            ctx.prec = len(number) + 30  # enough digits to show the value exactly
            shown = f"{(Decimal(number) * factor).normalize():f}"
        raise UnitError(
            f"{value!r} is {shown} {base}, not a whole number of {base}; use a smaller unit"
        )
    return exact.numerator


def _example(units: dict[str, int]) -> str:
    return "7d" if "d" in units else "10GiB"
