"""Literal secrets in spec files: refused at their line, never echoed.

Secrets never live in the repo: the one spec field that carries one (`sasl.password`) must be a
`${VAR}` reference, and so must anything else named like a credential. Two readings:

- the parsed documents: every value under a key named like a credential, however YAML writes
  it (anchored, a block scalar, on the next line, in a flow mapping, an alias's copy);
- the text, comments included, for what is a secret whatever its key (a PEM private key, an
  AWS access key id or secret access key, a JAAS login line) and for `key: value` pairs that
  the documents do not hold (a commented-out `# password: hunter2`, a file YAML refuses).

Spec files are a pull request's text, so every pattern runs in linear time (no pattern may
backtrack over what it has read: possessive runs, a key read once from its first character),
lines are counted in one pass, and the scan of a file stops after `MAX_REPORTED` secrets. An error
names the file, the line and what it looks like, never the value.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from reconciler.core.errors import SpecProblem
from reconciler.core.model import Location
from reconciler.specs.yaml_source import Document, PathKey

HINT = (
    "put it in the runner's environment and write ${VAR} here; it is in the git history now, "
    "so rotate it"
)
LITERAL = "a literal value for a credential; secrets never live in the repo"
#: Secrets one file reports; then one more problem says that the scan stopped there.
MAX_REPORTED = 20
#: What in a key's name makes it a credential (`sasl.jaas.config`, `db_password`, `apiToken`).
_KEY_WORDS = ("password", "passwd", "secret", "token", "credential", "jaas.config")
_WORDS = "|".join(re.escape(word) for word in _KEY_WORDS)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_BASE64 = "[A-Za-z0-9/+=]"
_IN_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=")
#: Whatever its key: what it looks like, and its pattern (each linear, fast on megabytes).
_PATTERNS = (
    ("a PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    # the leading literal lets the regex engine skip ahead; the lookbehind is the \b before it
    (
        "an AWS access key id",
        re.compile(r"A(?<![A-Za-z0-9_]A)(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)[A-Z0-9]{16}\b"),
    ),
    ("an AWS secret access key", re.compile(f"{_BASE64}{{40}}")),  # a whole run: `_aws_secret`
    ("a JAAS login (sasl.jaas.config)", re.compile(r"LoginModule\s++required")),
)
#: `key: value` in a line of text, the key named like a credential. The key starts where a
#: word starts and is read once (the lookahead checks its name, the possessive run takes it).
#: The value, after an optional anchor, runs to the line's end, a comment or the end of a flow
#: item; a collection, block scalar or alias has none here (the documents judge those, and the
#: pairs inside a flow collection are matched on their own).
_PAIR = re.compile(
    rf"""(?ix)(?<![\w.-])["']?
        (?=[\w.-]*?(?:{_WORDS}))(?P<key>[\w.-]++)["']?[ \t]*+:[ \t]*+
        (?:&[^\s,{{}}\[\]]++[ \t]++)?
        (?P<value>(?:"[^"\n]*+"|'[^'\n]*+'|\$\{{[^}}\n]*+\}}|[^\s#,{{}}\[\]&*|>])[^#\n,}}\]]*+)?"""
)
#: Values that carry no secret: a reference, a boolean, a number, null.
_HARMLESS = re.compile(
    r"(?i)\$\{[A-Za-z_][A-Za-z0-9_]*\}|true|false|yes|no|on|off|null|~|[-+]?[0-9.]++|"
)


def _harmless(value: str) -> bool:
    return _HARMLESS.fullmatch(value.strip().strip("\"'").strip()) is not None


def _aws_secret(text: str, start: int, end: int) -> bool:
    """40 characters of base64 are an AWS secret key only as a whole run (not a slice of a
    longer one) and when mixed like one (hex digests, words and identifiers are not)."""
    if (start > 0 and text[start - 1] in _IN_BASE64) or (
        end < len(text) and text[end] in _IN_BASE64
    ):
        return False
    found = text[start:end]
    return ("/" in found or "+" in found) or (
        any(c.isupper() for c in found)
        and any(c.islower() for c in found)
        and any(c.isdigit() for c in found)
    )


class _Lines:
    """Line and column of increasing offsets into one text, counting each newline once."""

    def __init__(self, text: str, file: str) -> None:
        self.text, self.file = text, file
        self.offset, self.line, self.start = 0, 1, 0

    def at(self, offset: int) -> Location:
        if offset < self.offset:  # never from one finditer; start over rather than be wrong
            self.offset, self.line, self.start = 0, 1, 0
        newlines = self.text.count("\n", self.offset, offset)
        if newlines:
            self.line += newlines
            self.start = self.text.rfind("\n", self.offset, offset) + 1
        self.offset = offset
        return Location(self.file, self.line, offset - self.start + 1)


@functools.lru_cache(maxsize=4096)
def _names_credential(key: object) -> bool:
    """Whether a mapping key names a credential (keys repeat: each is judged once)."""
    return isinstance(key, str) and any(word in key.lower() for word in _KEY_WORDS)


def _credential_paths(value: Any, path: PathKey, credential: bool) -> Iterator[PathKey]:
    """Where a literal text stands under a key named like a credential (lists included)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _credential_paths(item, (*path, key), _names_credential(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _credential_paths(item, (*path, index), credential)
    elif credential and isinstance(value, str) and not _harmless(value):
        yield path


def _in_documents(documents: Iterable[Document]) -> Iterator[SpecProblem]:
    for doc in documents:
        for path in _credential_paths(doc.data, (), False):
            field = ".".join(str(p) for p in path)
            yield SpecProblem(doc.location(path), field, LITERAL, HINT)


def _lowered(text: str) -> str:
    """The text in lowercase, each character where it was (a few Unicode letters grow when
    lowered; only ASCII matters to the words searched for)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _credential_lines(text: str) -> Iterator[tuple[int, int]]:
    """Start and end of each line that mentions a credential word, in order, each once:
    str.find on a lowercase copy takes milliseconds where a case-insensitive regex over the
    whole text takes seconds."""
    lowered = _lowered(text)
    hits = {word: at for word in _KEY_WORDS if (at := lowered.find(word)) >= 0}
    while hits:
        found = min(hits.values())
        start = lowered.rfind("\n", 0, found) + 1  # no further back than the last line's end
        end = lowered.find("\n", found)
        end = len(lowered) if end < 0 else end
        yield start, end
        for word, at in list(hits.items()):
            if at < end:
                after = lowered.find(word, end)
                if after < 0:
                    del hits[word]
                else:
                    hits[word] = after


def _in_text(text: str, file: str) -> Iterator[SpecProblem]:
    for what, pattern in _PATTERNS:
        lines = _Lines(text, file)
        for match in pattern.finditer(text):
            if what.startswith("an AWS secret") and not _aws_secret(text, *match.span()):
                continue
            yield SpecProblem(lines.at(match.start()), "", f"looks like {what}", HINT)
    lines = _Lines(text, file)
    for start, end in _credential_lines(text):
        for match in _PAIR.finditer(text, start, end):
            value = match.group("value")
            if value is None or _harmless(value):
                continue
            yield SpecProblem(lines.at(match.start("value")), match.group("key"), LITERAL, HINT)


def literal_secrets(text: str, file: str, documents: Sequence[Document] = ()) -> list[SpecProblem]:
    """The literal secrets in a spec file (its parsed `documents` and its text, comments
    too), one per line, located, never echoed. The scan stops after `MAX_REPORTED`: a file
    of a million `password: x` lines costs no more than one of twenty."""

    def every() -> Iterator[SpecProblem]:
        lines: set[int] = set()
        for problem in _in_documents(documents):
            assert problem.location is not None
            lines.add(problem.location.line)
            yield problem
        for problem in _in_text(text, file):
            assert problem.location is not None
            if problem.location.line not in lines:
                lines.add(problem.location.line)
                yield problem

    found = list(itertools.islice(every(), MAX_REPORTED + 1))
    if len(found) > MAX_REPORTED:
        more = found.pop().location
        found.append(
            SpecProblem(
                more,
                "",
                f"more literal secrets from here on (the scan stops at "
                f"{MAX_REPORTED}): remove these and validate again",
                HINT,
            )
        )
    return found
