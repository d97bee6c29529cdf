"""Literal secrets in spec files: refused at their line, never echoed.

Secrets never live in the repo: the one spec field that carries one (`sasl.password`) must be a
`${VAR}` reference, and so must anything else named like a credential. The text of every spec
file, comments included, is also scanned for what is a secret whatever its key: a PEM private
key, an AWS access key id or secret access key, a JAAS login line. An error names the file,
the line and what it looks like, never the value.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location

HINT = (
    "put it in the runner's environment and write ${VAR} here; it is in the git history now, "
    "so rotate it"
)
#: Whatever its key: what it looks like, and its pattern (each fast on megabytes of specs).
_PATTERNS = (
    ("a PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\bA(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)[A-Z0-9]{16}\b")),
    ("an AWS secret access key", re.compile(r"[A-Za-z0-9/+=]{40,}")),
    ("a JAAS login (sasl.jaas.config)", re.compile(r"LoginModule\s+required")),
)
#: Words that name a credential; a line holding one is read closely (`_CREDENTIAL`).
_WORDS = ("password", "passwd", "secret", "token", "credential", "jaas")
#: A key with a literal value: `password: hunter2`, `"token": x` (`_CREDENTIAL_NAME` says
#: whether the key names a credential). The key is one whole token, matched possessively from
#: its start: a pattern that searched for the word inside `[\w.-]*` on both sides backtracked
#: in cubic time (a 1.6 KB line of `password` took 4 s, a 16 MiB file forever).
_CREDENTIAL = re.compile(
    r"""(?x)(?<![\w.-])(?P<key>["']?(?P<name>[\w.-]++)["']?)
        \s*:[ \t]*(?P<value>(?:"[^"\n]*"|'[^'\n]*'|\$\{[^}\n]*\}|[^\s#,}\]])[^#\n,}\]]*)"""
)
_CREDENTIAL_NAME = re.compile(r"(?i)password|passwd|secret|token|credential|jaas\.config")
#: Values that carry no secret: a reference, a boolean, a number, null, or a nested block.
_HARMLESS = re.compile(
    r"""(?ix)^(?:["']?\$\{[A-Za-z_][A-Za-z0-9_]*\}["']?|true|false|yes|no|on|off|null|~|
        [-+]?[0-9.]+|[\[{|>&*].*)$"""
)


def _looks_like_aws_secret(text: str) -> bool:
    """40 characters of base64 are an AWS secret key only when mixed like one (hex digests,
    words and identifiers are not)."""
    return ("/" in text or "+" in text) or (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    )


class _Lines:
    """Offsets -> locations in one file's text: line starts found once (when the first
    problem needs them), then a binary search per problem, not a count from the top."""

    def __init__(self, text: str, file: str) -> None:
        self.text, self.file = text, file
        self.starts: list[int] | None = None

    def at(self, offset: int) -> Location:
        if self.starts is None:
            self.starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        line = bisect.bisect_right(self.starts, offset)
        return Location(self.file, line, offset - self.starts[line - 1] + 1)


def _credential_lines(text: str) -> Iterator[int]:
    """Offsets of the lines that mention a credential word (a lowercase copy, searched with
    str.find: milliseconds where a case-insensitive regex takes a second). Each search goes
    on from the end of the line it found, so a long line is scanned once per word."""
    lowered = text.lower()
    starts: set[int] = set()
    for word in _WORDS:
        found = lowered.find(word)
        while found >= 0:
            starts.add(lowered.rfind("\n", 0, found) + 1)
            end = lowered.find("\n", found)
            if end < 0:
                break
            found = lowered.find(word, end)
    yield from sorted(starts)


def literal_secrets(text: str, file: str) -> Iterator[SpecProblem]:
    """Every literal secret in a spec file's text (comments too), located, never echoed."""
    lines = _Lines(text, file)
    for what, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            found = match.group()
            if what.startswith("an AWS secret") and not (
                len(found) == 40 and _looks_like_aws_secret(found)
            ):
                continue
            yield SpecProblem(lines.at(match.start()), "", f"looks like {what}", HINT)
    for start in _credential_lines(text):
        end = text.find("\n", start)
        line = text[start : end if end >= 0 else len(text)]
        for match in _CREDENTIAL.finditer(line):
            if not _CREDENTIAL_NAME.search(match.group("name")):
                continue
            value = match.group("value").strip()
            if not value or _HARMLESS.match(value) or _HARMLESS.match(value.strip("\"'")):
                continue
            yield SpecProblem(
                lines.at(start + match.start("value")),
                match.group("key").strip("\"'"),
                "a literal value for a credential; secrets never live in the repo",
                HINT,
            )
