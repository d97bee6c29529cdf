"""One home for opening an environment: load its specs (checked against the trusted base
branch), make its clients, observe every kind; the cluster is read while the specs load.

`plan`, `snapshot`, `import` and the CLI's own commands open environments only through
here, so the trust check and the resolved connection are made one way.

The overlap: the Environment document is read and checked first, alone, exactly as `load`
checks it (`load_environment`: limits, literal secrets, schema, name, connectable, then the
trust check and every `${VAR}`). Only then does a worker thread start each kind's `prepare`
(its reads that need only the Environment), while this thread loads the other documents;
the round trips wait in the client library's threads, so a plan's wall time approaches
max(load, observe) + diff. A problem anywhere in the specs still fails the plan with every
problem and nothing written (the early reads are only reads, and are dropped). When the
Environment has a problem, nothing is contacted before `load` reports it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.clients.session import Clients, SharedCluster
from reconciler.core.environment import Connection, Environment, MskRef
from reconciler.core.errors import ReconcilerError, Unavailable
from reconciler.engine.load import Parsed, load, load_environment
from reconciler.engine.model import Desired, Observed
from reconciler.kinds.base import Loading, Mode
from reconciler.kinds.registry import KINDS
from reconciler.specs.trust import check_trusted
from reconciler.specs.variables import resolve


class Shared:
    """What environments planned together (`plan DIR...`) share: the files they include,
    checked once (`Parsed`), and, where they connect exactly alike, one cluster, so one read
    of its shape and Metadata (`SharedCluster`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reads: dict[tuple[Connection, MskRef | None], SharedCluster] = {}
        self.parsed = Parsed()

    def clients(self, connection: Connection, msk: MskRef | None) -> Clients:
        with self._lock:
            read = self._reads.setdefault((connection, msk), SharedCluster())
        return Clients(connection, msk, read)


def connect(
    environment: Environment,
    environ: Mapping[str, str] | None = None,
    shared: Shared | None = None,
) -> Clients:
    """The clients of an environment's connection, every `${VAR}` expanded (unset: a
    SpecError before any network call); `shared`: with the cluster read of environments
    planned beside it that connect exactly alike."""
    connection = resolve(environment, environ)
    if shared is not None:
        return shared.clients(connection, environment.msk)
    return Clients(connection, environment.msk)


def load_trusted(
    env_dir: str | Path,
    *,
    trusted_base: Path | None = None,
    allow_outside_repo: bool = False,
    parsed: Parsed | None = None,
) -> Desired:
    """ENV_DIR's specs, loaded and validated; with `trusted_base` (the base branch's
    checkout), refused unless ENV_DIR connects exactly as the base branch says. `parsed`:
    the included files of environments loaded beside it."""
    desired = load(env_dir, allow_outside_repo=allow_outside_repo, parsed=parsed)
    if trusted_base is not None:
        check_trusted(Path(env_dir), trusted_base)
    return desired


def observe(desired: Desired, clients: Clients, mode: Mode) -> Observed:
    """Each kind once, in registry order, then the Kafka cluster's shape (already read by
    any kind that needed it). A kind whose service does not exist yet is left out."""
    return _Early(clients, None, mode).finish(desired)


class _Early:
    """Each kind's `prepare`, run on a worker thread from the Environment alone; `finish`
    observes the rest once the specs are loaded. A daemon thread: a plan that fails on its
    specs exits without waiting for reads it no longer needs."""

    def __init__(self, clients: Clients, loading: Loading | None, mode: Mode) -> None:
        self.clients = clients
        self.mode = mode
        self.environment = loading.environment if loading else None
        self.finishers: dict[str, Callable[[Any], Any]] = {}
        #: What a kind's prepare raised (Unavailable too), raised again at its turn, so the
        #: first kind in registry order that cannot be read is the one reported.
        self.failures: dict[str, BaseException] = {}
        self.thread: threading.Thread | None = None
        if loading is not None:
            self.thread = threading.Thread(
                target=self._prepare, args=(loading,), name="reconciler-observe", daemon=True
            )
            self.thread.start()

    def _prepare(self, loading: Loading) -> None:
        environment = loading.environment
        assert environment is not None
        for kind in KINDS:
            if kind.prepare is None:
                continue
            try:
                claimed, _problems = kind.load([], loading)  # the Environment's part alone
                self.finishers[kind.name] = kind.prepare(
                    self.clients, environment, claimed, self.mode
                )
            except BaseException as exc:  # raised in the planning thread, at the kind's turn
                self.failures[kind.name] = exc

    def finish(self, desired: Desired) -> Observed:
        if self.thread is not None:
            self.thread.join()
        states: dict[str, Any] = {}
        unavailable = None
        for kind in KINDS:
            mine = desired.kinds[kind.name]
            finisher = self.finishers.get(kind.name)
            try:
                if kind.name in self.failures:
                    raise self.failures[kind.name]
                if finisher is not None:
                    states[kind.name] = finisher(mine)
                else:
                    states[kind.name] = kind.observe(
                        self.clients, desired.environment, mine, self.mode
                    )
            except Unavailable as exc:
                unavailable = str(exc)
        try:
            cluster = self.clients.cluster()[0]
        except Unavailable as exc:
            cluster, unavailable = None, str(exc)
        return Observed(cluster, states, unavailable)


def _start(
    env_dir: str | Path,
    environ: Mapping[str, str] | None,
    mode: Mode,
    trusted_base: Path | None,
    *,
    allow_outside_repo: bool,
    shared: Shared | None,
) -> _Early | None:
    """The early reads, once the Environment alone passes every check `load` and the trust
    check make of it; None (nothing contacted) otherwise."""
    loading = load_environment(env_dir, allow_outside_repo=allow_outside_repo)
    if loading is None or loading.environment is None:
        return None
    try:
        if trusted_base is not None:
            check_trusted(Path(env_dir), trusted_base)
        clients = connect(loading.environment, environ, shared)
    except ReconcilerError:  # reported after loading, in the usual order
        return None
    return _Early(clients, loading, mode)


@dataclass(frozen=True)
class Opened:
    """An environment's specs, its clients and what they observed."""

    desired: Desired
    clients: Clients
    observed: Observed


def observe_environment(
    env_dir: str | Path,
    environ: Mapping[str, str] | None = None,
    *,
    mode: Mode = Mode.PLAN,
    trusted_base: Path | None = None,
    allow_outside_repo: bool = False,
    shared: Shared | None = None,
) -> Opened:
    """Load ENV_DIR (trusted as `load_trusted` says) and observe every kind, the cluster
    read while the specs load. Should the loaded Environment differ from the one read first
    (its file edited meanwhile), the early reads are dropped and it observes afresh.
    `shared`: the clients of environments planned beside it (`Shared`)."""
    early = _start(
        env_dir, environ, mode, trusted_base, allow_outside_repo=allow_outside_repo, shared=shared
    )
    desired = load_trusted(
        env_dir,
        trusted_base=trusted_base,
        allow_outside_repo=allow_outside_repo,
        parsed=shared.parsed if shared is not None else None,
    )
    clients = connect(desired.environment, environ, shared)
    if early is None or early.environment != desired.environment:
        return Opened(desired, clients, observe(desired, clients, mode))
    return Opened(desired, early.clients, early.finish(desired))
