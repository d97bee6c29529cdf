"""Errors a user can hit, each carrying what to do about it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.model import Location


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
        return f"{where}{field}{self.message}{hint}"


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
