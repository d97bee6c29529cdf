"""Apply on a real terminal (a pty): it asks first, and "no" writes nothing."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from reconciler.core.polling import attempts

pytestmark = pytest.mark.integration


def run_on_terminal(args: list[str], answer: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI attached to a pseudo-terminal, answer its prompt, return (code, screen)."""
    leader, follower = pty.openpty()
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", *args]
    process = subprocess.Popen(
        command, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    screen, answered = b"", False
    for _ in attempts(60, 0):  # select() below is the pause between tries
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        if not answered and b"Apply these changes?" in screen:
            os.write(leader, answer.encode() + b"\n")
            answered = True
        if process.poll() is not None and not ready:
            break
    code = process.wait(timeout=30)
    os.close(leader)
    return code, screen.decode(errors="replace")


def test_apply_asks_on_a_terminal_and_no_means_nothing_is_written(
    tmp_path: Path, bootstrap_servers: str, topic_prefix: str, admin: AdminClient
) -> None:
    name = f"{topic_prefix}asked"
    env_dir = tmp_path / "tty"  # an environment is named after its directory
    env_dir.mkdir()
    (env_dir / "env.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: tty}\nspec:\n"
        "  kafka: {bootstrapServers: '${KAFKA_BOOTSTRAP_SERVERS}', securityProtocol: PLAINTEXT}\n"
        f"---\napiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {name}}}\n"
        "spec: {partitions: 1, replicationFactor: 1}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers}
    code, screen = run_on_terminal(["apply", str(env_dir)], "n", env)
    assert code == 1, screen
    assert "Apply these changes?" in screen and "cancelled; nothing was applied" in screen
    assert "\x1b[" in screen  # colour on a terminal
    assert name not in admin.list_topics(timeout=10).topics

    code, screen = run_on_terminal(["apply", str(env_dir)], "y", env)
    assert code == 0, screen
    assert "Apply complete" in screen
