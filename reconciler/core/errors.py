"""Errors a user can hit, each carrying what to do about it.

The clients layer turns every client-library exception into one of these, so no layer
above it (kinds, engine, CLI) ever sees a library type.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reconciler.core.model import Location
from reconciler.core.text import one_line


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong with the specs, located at file:line:column and a field path."""

    location: Location | None
    field: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field = f"{self.field}: " if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        return one_line(f"{where}{field}{self.message}{hint}")  # a spec's names: escaped


def at_most(
    problems: Iterable[SpecProblem], limit: int, what: str, hint: str | None = None
) -> Iterator[SpecProblem]:
    """The first `limit` problems of one file, then one that counts the rest: a hostile file
    cannot flood a log or a comment. The count sits at the furthest location seen, so it
    sorts after what is listed; the rest are only counted, never kept."""
    rest = 0
    last: Location | None = None
    for index, problem in enumerate(problems):
        here = problem.location
        if here is not None and (
            last is None or (here.line, here.column) > (last.line, last.column)
        ):
            last = here
        if index < limit:
            yield problem
        else:
            rest += 1
    if rest:
        yield SpecProblem(last, "", f"and {rest:,} more {what} in this file, not listed", hint)


class ReconcilerError(Exception):
    """A failure the user can act on; the CLI prints it and exits 1."""


class SpecError(ReconcilerError):
    """The specs are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[SpecProblem]) -> None:
        self.problems = sorted(
            problems,
            key=lambda p: (
                (p.location.file, p.location.line, p.location.column) if p.location else ("", 0, 0)
            ),
        )
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the specs:\n{lines}")


class ConnectionFailure(ReconcilerError):
    """Kafka or MSK could not be reached within the bounded timeout."""


class Unavailable(ReconcilerError):
    """A service a kind needs does not exist yet (the MSK cluster this plan creates); the
    kind is planned once it does, and the plan says so instead of failing."""


class ApiError(ReconcilerError):
    """A service refused one call: its error code and message, as the service sent them."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        self.operation = operation
        self.code = code
        self.message = message
        super().__init__(f"{operation}: {code}: {message}" if code else f"{operation}: {message}")


AWS_WHAT_TO_DO = (
    "check AWS credentials and region (AWS_PROFILE / AWS_REGION, or the role the job "
    "assumes), and that the role may call kafka:Describe*/List*/Get*; for the local endpoint "
    'run `eval "$(reconciler local up)"`'
)


def aws_failure(what: str, exc: Exception) -> ConnectionFailure:
    """An AWS call that failed while doing `what`, with what to do about it."""
    return ConnectionFailure(f"MSK: {what} failed: {exc}\n  what to do: {AWS_WHAT_TO_DO}")
