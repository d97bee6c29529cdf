"""Detached broker processes: start them so they outlive us, recognise them, stop them.

A pid alone is not ours (pids get reused): a broker is recognised by the
``-Dreconciler.node=<node dir>`` flag on its command line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from reconciler.core.polling import attempts
from reconciler.local.kafka.errors import LocalClusterError

STOP_GRACE_SECONDS = 10.0
LAST_NODE_GRACE_SECONDS = 1.0
LOG_TAIL_LINES = 40
_HAVE_PROC = Path("/proc/self/stat").exists()  # Linux; macOS falls back to `ps`

log = logging.getLogger(__name__)


def node_marker(node_dir: Path) -> str:
    """The JVM flag that marks the process of the node in ``node_dir`` as ours."""
    return f"-Dreconciler.node={node_dir}"


def run_captured(
    cmd: Sequence[str], cwd: Path, *, timeout: float | None = None, detach: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with no terminal input and its output captured as text; the caller reads
    the exit code. ``detach``: in a session of its own, so the terminal's Ctrl-C misses it."""
    return subprocess.run(
        cmd,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=detach,
        check=False,
    )


def spawn_detached(cmd: Sequence[str], log_file: Path, cwd: Path) -> int:
    """Start ``cmd`` in its own session, re-parented away from us, and return its pid.

    A tiny shell backgrounds the JVM and exits, so the broker survives the CLI exiting,
    ignores the terminal's Ctrl-C, and never becomes our zombie child.
    """
    script = 'log=$1; shift; "$@" </dev/null >>"$log" 2>&1 & echo $!'
    result = run_captured(["/bin/sh", "-c", script, "sh", str(log_file), *cmd], cwd, detach=True)
    try:
        return int(result.stdout.strip())
    except ValueError as exc:
        raise LocalClusterError(f"Could not start {cmd[0]}: {result.stderr.strip()}") from exc


def stop(nodes: Sequence[tuple[int, Path]], timeout: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM every (pid, node dir) of ours at once (controlled shutdown), SIGKILL
    stragglers."""
    ours = [pid for pid, directory in nodes if pid > 0 and pid_alive(pid, directory)]
    for pid in ours:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    remaining, waited = _wait_gone(ours, timeout, 0.1, leave=1 if len(ours) > 1 else 0)
    if len(ours) > 1 and len(remaining) == 1:
        # The last node is the Raft leader waiting (5s, hard-coded) to hand leadership
        # to voters that are gone; the data is deleted next, so don't wait it out.
        grace = min(LAST_NODE_GRACE_SECONDS, max(0.0, timeout - waited))
        remaining, _ = _wait_gone(remaining, grace, 0.1)
    for pid in remaining:
        log.info("Kafka process %d still running after SIGTERM; killing it", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    remaining, _ = _wait_gone(remaining, 10.0, 0.05)
    if remaining:
        raise LocalClusterError(f"Kafka processes {remaining} survived SIGKILL; check `ps`.")


def _wait_gone(
    pids: list[int], timeout: float, interval: float, *, leave: int = 0
) -> tuple[list[int], float]:
    """The pids still running once no more than `leave` of them are, or when `timeout` has
    passed; and the seconds that took."""
    remaining, elapsed = pids, 0.0
    for attempt in attempts(timeout, interval):
        remaining, elapsed = [pid for pid in remaining if pid_running(pid)], attempt.elapsed
        if len(remaining) <= leave:
            break
    return remaining, elapsed


def pid_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (orphans may wait for a lazy init)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _HAVE_PROC:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[-1].split()[:1] not in (["Z"], ["X"])
    result = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return bool(result.stdout.strip()) and not result.stdout.strip().startswith("Z")


def pid_alive(pid: int, node_dir: Path) -> bool:
    """Whether ``pid`` is running *and* is our broker for ``node_dir`` (pids get reused)."""
    if pid <= 0 or not pid_running(pid):
        return False
    marker = node_marker(node_dir)
    if _HAVE_PROC:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        return marker in args.split("\0")
    result = subprocess.run(
        ["ps", "-ww", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return f" {marker} " in f" {result.stdout.strip()} "


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path} not found)"
    return "\n".join(content[-lines:])
