"""Literal secrets in spec files: refused at their line, never echoed.

Secrets never live in the repo: the one spec field that carries one (`sasl.password`) must be a
`${VAR}` reference, and so must anything else named like a credential. The text of every spec
file, comments included, is also scanned for what is a secret whatever its key: a PEM private
key, an AWS access key id or secret access key, a JAAS login line. An error names the file,
the line and what it looks like, never the value.
"""

from __future__ import annotations

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
#: A key named like a credential with a literal value: `password: hunter2`, `"token": x`.
_CREDENTIAL = re.compile(
    r"""(?ix)(?P<key>["']?[\w.-]*(?:password|passwd|secret|token|credential|jaas\.config)[\w.-]*["']?)
        \s*:[ \t]*(?P<value>(?:"[^"\n]*"|'[^'\n]*'|\$\{[^}\n]*\}|[^\s#,}\]])[^#\n,}\]]*)"""
)
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


def _at(text: str, offset: int, file: str) -> Location:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Location(file, line, column)


def _credential_lines(text: str) -> Iterator[int]:
    """Offsets of the lines that mention a credential word (a lowercase copy, searched with
    str.find: milliseconds where a case-insensitive regex takes a second)."""
    lowered = text.lower()
    starts: set[int] = set()
    for word in _WORDS:
        found = lowered.find(word)
        while found >= 0:
            starts.add(lowered.rfind("\n", 0, found) + 1)
            found = lowered.find(word, found + len(word))
    yield from sorted(starts)


def literal_secrets(text: str, file: str) -> Iterator[SpecProblem]:
    """Every literal secret in a spec file's text (comments too), located, never echoed."""
    for what, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            found = match.group()
            if what.startswith("an AWS secret") and not (
                len(found) == 40 and _looks_like_aws_secret(found)
            ):
                continue
            yield SpecProblem(_at(text, match.start(), file), "", f"looks like {what}", HINT)
    for start in _credential_lines(text):
        end = text.find("\n", start)
        line = text[start : end if end >= 0 else len(text)]
        for match in _CREDENTIAL.finditer(line):
            value = match.group("value").strip()
            if not value or _HARMLESS.match(value) or _HARMLESS.match(value.strip("\"'")):
                continue
            yield SpecProblem(
                _at(text, start + match.start("value"), file),
                match.group("key").strip("\"'"),
                "a literal value for a credential; secrets never live in the repo",
                HINT,
            )
