"""Durations and sizes: exact parsing, friendly formatting and the round trip between them."""

from __future__ import annotations

import random

import pytest

from reconciler.core.units import (
    DURATION_UNITS_MS,
    SIZE_UNITS_BYTES,
    UnitError,
    format_bytes,
    format_duration_ms,
    parse_duration_ms,
    parse_size_bytes,
)

SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", 500),
        ("30s", 30 * SECOND),
        ("15m", 15 * MINUTE),
        ("12h", 12 * HOUR),
        ("7d", 7 * DAY),
        ("2w", 14 * DAY),
        ("1.5h", 90 * MINUTE),
        ("0.5s", 500),
        ("0.001s", 1),
        ("0ms", 0),
        (" 7d ", 7 * DAY),
        ("7 d", 7 * DAY),
        ("604800000", 604_800_000),
        ("+5", 5),
        ("-1", -1),
        ("-2", -2),
        ("9223372036854775807", 2**63 - 1),
    ],
)
def test_parse_duration(text: str, expected: int) -> None:
    assert parse_duration_ms(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512B", 512),
        ("64KiB", 64 * 1024),
        ("10MiB", 10 * 1024**2),
        ("10GiB", 10 * 1024**3),
        ("1TiB", 1024**4),
        ("1PiB", 1024**5),
        ("1KB", 1000),
        ("1kB", 1000),
        ("1MB", 1_000_000),
        ("1GB", 1_000_000_000),
        ("1TB", 10**12),
        ("1.5GiB", 1_610_612_736),
        ("0.5KiB", 512),
        ("1.5KB", 1500),
        ("1073741824", 1_073_741_824),
        ("-1", -1),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size_bytes(text) == expected


def test_plain_ints_pass_through_unchanged_whatever_their_sign() -> None:
    assert parse_duration_ms(604_800_000) == 604_800_000
    assert parse_size_bytes(-1) == -1


def test_parsing_is_exact_where_float_or_28_digit_decimal_would_round() -> None:
    # 2.0000000000000000000000000000001h is not a whole number of ms; float and the default
    # 28-digit Decimal context would both round it to exactly 2h and accept it.
    with pytest.raises(UnitError, match="not a whole number of milliseconds"):
        parse_duration_ms("2.0000000000000000000000000000001h")
    assert parse_duration_ms("1.50000000000000000000000000000000000h") == 90 * MINUTE
    many_zeros = "8388607." + "0" * 40 + "TiB"
    assert parse_size_bytes(many_zeros) == 8388607 * 1024**4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.0001s", r"'0\.0001s' is 0\.1 milliseconds, not a whole number of milliseconds"),
        ("1.0005s", r"1000\.5 milliseconds"),
        ("7M", r"unknown duration unit 'M' in '7M'; allowed units: ms, s, m, h, d, w"),
        ("7 days", r"unknown duration unit 'days'"),
        ("1e3ms", r"expected an integer number of milliseconds or a non-negative number"),
        ("-1d", r"cannot read '-1d' as a duration"),
        ("", r"cannot read '' as a duration"),
        ("1,5h", r"cannot read"),
        ("1_000ms", r"cannot read"),
        (".5h", r"cannot read"),
        ("d", r"cannot read"),
    ],
)
def test_bad_durations_say_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=message):
        parse_duration_ms(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.5B", r"'1\.5B' is 1\.5 bytes, not a whole number of bytes; use a smaller unit"),
        ("0.3KiB", r"307\.2 bytes"),
        ("10gib", r"unknown size unit 'gib'.*allowed units: B, KiB, MiB, GiB, TiB, PiB, KB"),
        ("10b", r"unknown size unit 'b'"),
        ("10G", r"unknown size unit 'G'"),
        ("ten GiB", r"cannot read 'ten GiB' as a size"),
    ],
)
def test_bad_sizes_say_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=message):
        parse_size_bytes(text)


@pytest.mark.parametrize("value", [True, 1.5, None, ["7d"]])
def test_non_text_non_int_values_are_rejected(value: object) -> None:
    with pytest.raises(UnitError, match="expected a duration"):
        parse_duration_ms(value)  # type: ignore[arg-type]
    with pytest.raises(UnitError, match="expected a size"):
        parse_size_bytes(value)  # type: ignore[arg-type]


def test_unit_error_is_a_value_error() -> None:
    assert issubclass(UnitError, ValueError)


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (604_800_000, "7d"),
        (14 * DAY, "14d"),
        (DAY, "1d"),
        (36 * HOUR, "36h"),
        (90 * MINUTE, "90m"),
        (60_000, "1m"),
        (30 * SECOND, "30s"),
        (1500, "1500ms"),
        (1, "1ms"),
        (0, "0ms"),
        (2**63 - 1, "9223372036854775807ms"),
    ],
)
def test_format_duration(ms: int, expected: str) -> None:
    assert format_duration_ms(ms) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (10_737_418_240, "10GiB"),
        (1_073_741_824, "1GiB"),
        (1_048_576, "1MiB"),
        (10_485_760, "10MiB"),
        (4096, "4KiB"),
        (1024**4, "1TiB"),
        (1024**5, "1PiB"),
        (1_000_000, "1MB"),
        (1000, "1KB"),
        (2000, "2KB"),
        (1_024_000, "1000KiB"),  # smallest number wins: 1000KiB beats 1024KB
        (1_048_588, "1048588B"),
        (512, "512B"),
        (0, "0B"),
        (2**63 - 1, "9223372036854775807B"),
    ],
)
def test_format_bytes(n: int, expected: str) -> None:
    assert format_bytes(n) == expected


def test_formatting_rejects_negative_sentinels_and_non_ints() -> None:
    with pytest.raises(ValueError, match="rendered by the caller"):
        format_duration_ms(-1)
    with pytest.raises(ValueError, match="rendered by the caller"):
        format_bytes(-2)
    with pytest.raises(TypeError):
        format_duration_ms(True)
    with pytest.raises(TypeError):
        format_bytes(1.0)  # type: ignore[arg-type]


def _interesting_numbers() -> list[int]:
    rng = random.Random(20240925)
    factors = sorted(set(DURATION_UNITS_MS.values()) | set(SIZE_UNITS_BYTES.values()))
    numbers = {0, 1, 2**31 - 1, 2**63 - 1}
    for factor in factors:
        for multiple in (1, 2, 7, 1000, 1023, 1024):
            numbers.add(factor * multiple)
    numbers.update(rng.randrange(0, 2**63) for _ in range(500))
    numbers.update(rng.randrange(0, 10**7) * rng.choice(factors) for _ in range(500))
    return sorted(n for n in numbers if n < 2**63)


def test_format_then_parse_round_trips_exactly() -> None:
    for n in _interesting_numbers():
        assert parse_duration_ms(format_duration_ms(n)) == n
        assert parse_size_bytes(format_bytes(n)) == n


def test_parse_then_format_gives_the_friendly_form() -> None:
    assert format_duration_ms(parse_duration_ms("168h")) == "7d"
    assert format_duration_ms(parse_duration_ms("1.5h")) == "90m"
    assert format_bytes(parse_size_bytes("1024MiB")) == "1GiB"
    assert format_bytes(parse_size_bytes("0.5GiB")) == "512MiB"


def test_absurdly_long_text_is_an_error_not_a_crash() -> None:
    with pytest.raises(UnitError, match=r"'9{20}'\.\.\. is too long to be a duration"):
        parse_duration_ms("9" * 5000)
    with pytest.raises(UnitError, match="too long to be a size"):
        parse_size_bytes("1." + "0" * 5000 + "GiB")


def test_integer_reads_only_what_kafka_writes_as_an_integer() -> None:
    from reconciler.core.units import integer

    assert [integer(v) for v in ("-1", "604800000", " 7 ", 3)] == [-1, 604800000, 7, 3]
    assert [integer(v) for v in ("0.5", "compact", "", "-", True, None, "\u0663")] == [None] * 7
    assert integer("1" * 5000) is None  # beyond int()'s digit limit: not a crash
