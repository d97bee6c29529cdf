"""Hostile spec files: what a pull request could send to make the reader hang, eat memory or
crash. Each is small to write and refused with a located problem; the unit tests
(`tests/unit/test_yaml_limits.py`) prove the refusal and `bench.loading` times it. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping


def laughs(levels: int = 9) -> str:
    """The billion laughs: each level is nine aliases of the one before."""
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        items = ", ".join(f"*a{level - 1}" for _ in range(9))
        lines.append(f"a{level}: &a{level} [{items}]")
    return "\n".join(lines) + "\n"


def deep_flow(levels: int = 200_000) -> str:
    """`[[[[...]]]]`: libyaml's own composer recurses per level and crashes the process."""
    return "x: " + "[" * levels + "]" * levels + "\n"


def many_anchors(count: int = 20_000) -> str:
    """`count` anchored mappings, one in ten aliased: quadratic if anchors copy positions."""
    lines = [f"k{i}: &a{i} {{x: 1, y: [1, 2]}}" for i in range(count)]
    lines += [f"r{i}: *a{i}" for i in range(0, count, 10)]
    return "\n".join(lines) + "\n"


def many_aliases(count: int) -> str:
    """One scalar aliased `count` times in one document."""
    return "v: &v 1\nlist: [" + ", ".join("*v" for _ in range(count)) + "]\n"


def base_60(parts: int = 1_000_000) -> str:
    """YAML 1.1's sexagesimal integer 1:5:5:...: PyYAML computes it in quadratic time."""
    return "a: 1" + ":5" * parts + "\n"


def long_integer(digits: int = 5000) -> str:
    """Past Python's 4,300-digit limit for int(), which raises ValueError."""
    return "n: " + "9" * digits + "\n"


def alias_nesting(levels_per_anchor: int = 40, anchors: int = 10) -> str:
    """Anchors that each nest `levels_per_anchor` levels around the one before: deep values
    from a shallow text, which later recursion would trip over."""
    lines = ["a0: &a0 " + "[" * levels_per_anchor + "x" + "]" * levels_per_anchor]
    for level in range(1, anchors):
        inner = f"*a{level - 1}"
        lines.append(
            f"a{level}: &a{level} " + "[" * levels_per_anchor + inner + "]" * levels_per_anchor
        )
    return "\n".join(lines) + "\n"


def deep_block(levels: int = 2000) -> str:
    """Block sequences nested by indentation."""
    return "a:\n" + "".join("  " * i + "- \n" for i in range(1, levels))


def credential_words(repeat: int = 200_000) -> str:
    """One 1.6 MB line of `password`: the literal-secret scan backtracked on it in cubic time."""
    return "x: " + "password" * repeat + "\n"


def literal_tokens(count: int = 20_000) -> str:
    """`count` literal credentials: each a problem, located without counting from the top."""
    return "".join(f"token{i}: x{i}\n" for i in range(count))


#: Name -> (what it is, how to make it), in the order the benchmark reports them.
INPUTS: Mapping[str, tuple[str, Callable[[], str]]] = {
    "billion laughs (9 levels of 9 aliases)": ("aliases expand", laughs),
    "200,000 levels of [": ("nested more than", deep_flow),
    "2,000 levels of block nesting": ("nested more than", deep_block),
    "10 anchors of 40 levels, each in the next": ("aliases included", alias_nesting),
    "20,000 anchors, 2,000 aliases (read in full: no limit is hit)": ("apiVersion", many_anchors),
    "10,001 aliases of one scalar": ("aliases in one document", lambda: many_aliases(10_001)),
    "base-60 integer of 1,000,000 parts": ("more than 100 characters", base_60),
    "integer of 5,000 digits": ("more than 100 characters", long_integer),
    "a 1.6 MB line of `password` (read in full)": ("apiVersion", credential_words),
    "20,000 literal tokens": ("a literal value for a credential", literal_tokens),
}
