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
from dataclasses import replace
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


#: How a key that names where a credential is ends (`secretName`, `secretArn`, `kmsKeyId`,
#: `passwordFile`): its value points at a secret and is none itself.
_REFERENCE_ENDS = ("name", "names", "arn", "arns", "id", "ids", "file", "path", "ref")


def _names_reference(key: str) -> bool:
    return key.lower().endswith(_REFERENCE_ENDS)


@functools.lru_cache(maxsize=4096)
def _names_credential(key: object) -> bool:
    """Whether a mapping key names a credential (keys repeat: each is judged once)."""
    return isinstance(key, str) and any(word in key.lower() for word in _KEY_WORDS)


def _under(key: object, credential: bool) -> bool:
    """Whether what stands under `key` is a credential, `credential` what its parent is."""
    if isinstance(key, str) and _names_reference(key):
        return False
    return credential or _names_credential(key)


def _credentials(value: Any, path: PathKey, credential: bool) -> Iterator[tuple[PathKey, str]]:
    """Where a literal stands under a key named like a credential (at any depth below it),
    and its text: a string that is no reference, or a number (`password: 123456`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _credentials(item, (*path, key), _under(key, credential))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _credentials(item, (*path, index), credential)
    elif not credential or isinstance(value, bool):
        return
    elif isinstance(value, str) and not _harmless(value):
        yield path, value
    elif isinstance(value, int | float):
        yield path, str(value)


def _in_documents(documents: Iterable[Document]) -> Iterator[SpecProblem]:
    for doc in documents:
        for path, _value in _credentials(doc.data, (), False):
            field = ".".join(str(p) for p in path)
            yield SpecProblem(doc.location(path), field, LITERAL, HINT)


#: Shorter credential values are not masked in other messages: masking `ab` would garble
#: every word holding it (the scan still reports them).
MASKED_FROM = 4
#: Credential values a file's messages are masked of; a file with more shows none of its
#: other messages (it is hostile or a dump: its own problems are enough to act on).
MAX_MASKED = 1000
#: A problem's message is cut to this many characters (a schema message quotes the value it
#: refuses, which may be megabytes); masking reads a longer cut first.
MESSAGE_CHARS = 500
_READ_CHARS = 10_000


def masked(problems: Sequence[SpecProblem], documents: Iterable[Document]) -> list[SpecProblem]:
    """`problems` (a file's, already capped) with every literal credential value of
    `documents` shown as `***`, so no other check's message (a schema's "123456 is not of
    type 'string'") echoes one either; each message cut to `MESSAGE_CHARS`."""
    if not problems:
        return []
    values: set[str] = set()
    credentials = (value for doc in documents for _path, value in _credentials(doc.data, (), False))
    long_enough = (value for value in credentials if len(value) >= MASKED_FROM)
    hidden = False
    for count, value in enumerate(long_enough, 1):
        hidden = count > MAX_MASKED
        if hidden:
            break
        values |= {value, repr(value)[1:-1]}
    ordered = sorted(values, key=len, reverse=True)  # a value holding another goes first

    def mask(text: str) -> str:
        text = text[:_READ_CHARS]
        for value in ordered:
            text = text.replace(value, "***")
        return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."

    def message(problem: SpecProblem) -> str:
        if hidden:
            return f"(not shown: the file holds more than {MAX_MASKED:,} literal credentials)"
        return mask(problem.message)

    return [
        p
        if p.message == LITERAL
        else replace(p, message=message(p), hint=None if p.hint is None else mask(p.hint))
        for p in problems
    ]


def _lowered(text: str) -> str:
    """The text in lowercase, each character where it was (a few Unicode letters grow when
    lowered; only ASCII matters to the words searched for)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _credential_lines(lowered: str) -> Iterator[tuple[int, int]]:
    """Start and end of each line of the `_lowered` text that mentions a credential word, in
    order, each once: str.find on a lowercase copy takes milliseconds where a
    case-insensitive regex over the whole text takes seconds."""
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


def _in_text(text: str, lowered: str, file: str) -> Iterator[SpecProblem]:
    for what, pattern in _PATTERNS:
        lines = _Lines(text, file)
        for match in pattern.finditer(text):
            if what.startswith("an AWS secret") and not _aws_secret(text, *match.span()):
                continue
            yield SpecProblem(lines.at(match.start()), "", f"looks like {what}", HINT)
    lines = _Lines(text, file)
    for start, end in _credential_lines(lowered):
        for match in _PAIR.finditer(text, start, end):
            value = match.group("value")
            if value is None or _harmless(value) or _names_reference(match.group("key")):
                continue
            yield SpecProblem(lines.at(match.start("value")), match.group("key"), LITERAL, HINT)


def literal_secrets(text: str, file: str, documents: Sequence[Document] = ()) -> list[SpecProblem]:
    """The literal secrets in a spec file (its parsed `documents` and its text, comments
    too), one per line, located, never echoed. The scan stops after `MAX_REPORTED`: a file
    of a million `password: x` lines costs no more than one of twenty."""

    lowered = _lowered(text)
    if not any(word in lowered for word in _KEY_WORDS):
        documents = ()  # no key of theirs can name a credential: skip the walk

    def every() -> Iterator[SpecProblem]:
        lines: set[int] = set()
        for problem in _in_documents(documents):
            assert problem.location is not None
            lines.add(problem.location.line)
            yield problem
        for problem in _in_text(text, lowered, file):
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
