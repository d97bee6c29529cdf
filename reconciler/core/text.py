"""Text from specs and clusters made safe to print: one line, no control characters.

A pull request writes file names, keys and values; printed raw, a newline could start a line
that the Actions runner reads as a workflow command (`::set-output ...`), and an escape code
could rewrite the terminal. Plans, comments and spec errors print through `one_line`.
"""

from __future__ import annotations

_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, 0x85)}
_CONTROL |= {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
_CONTROL |= {0x2028: "\\u2028", 0x2029: "\\u2029"}


def one_line(text: str) -> str:
    """Escape control characters so no value can inject ANSI codes or break a line layout."""
    return text if text.isprintable() else text.translate(_CONTROL)
