"""`${VAR}` references in the Environment's connection fields, expanded at connect time.

Offline commands (validate, show) need no variables set; plan and apply expand them here,
before any network call, and report every unset variable at its spec line. The expanded
values are recorded on the Connection so that errors show the reference, not the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace

from reconciler.core.environment import Connection, Environment
from reconciler.core.errors import SpecError, SpecProblem

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
#: Connection fields that may hold references: spec field -> Connection attribute.
EXPANDED = {
    "bootstrapServers": "bootstrap_servers",
    "caFile": "ca_file",
    "sasl.username": "sasl_username",
    "sasl.password": "sasl_password",
}


def expand(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand ${VAR} and ${VAR:-default}; returns the text and the names that were unset."""
    missing: list[str] = []

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = environ.get(name)
        if value:
            return value
        if default is not None:
            return default
        missing.append(name)
        return ""

    return _VAR.sub(one, text), missing


def resolve(environment: Environment, environ: Mapping[str, str] | None = None) -> Connection:
    """The environment's connection with every ${VAR} expanded; unset variables are errors."""
    env = os.environ if environ is None else environ
    conn = environment.connection
    problems: list[SpecProblem] = []
    values: dict[str, str] = {}
    masks: set[tuple[str, str]] = set()
    for spec_field, attr in EXPANDED.items():
        raw = getattr(conn, attr)
        if raw is None:
            continue
        value, missing = expand(raw, env)
        names = {match.group(1) for match in _VAR.finditer(raw)}
        masks |= {(env[name], f"${{{name}}}") for name in names if env.get(name)}
        for name in missing:
            hint = (
                'for the local cluster run: eval "$(reconciler local up)"'
                if name == "KAFKA_BOOTSTRAP_SERVERS"
                else f"export {name}=... before running"
            )
            problems.append(
                SpecProblem(
                    environment.locations.get(spec_field),
                    f"spec.kafka.{spec_field}",
                    f"environment variable {name} is not set",
                    hint,
                )
            )
        values[attr] = value
    if problems:
        raise SpecError(problems)
    return replace(conn, **values, masks=tuple(sorted(masks)))  # type: ignore[arg-type]
