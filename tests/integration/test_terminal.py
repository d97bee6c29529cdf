"""Apply on a real terminal (a pty): it asks first, "no" writes nothing, and a saved plan is
checked again after "yes"."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from reconciler.core.polling import attempts
from tests.integration.conftest import WaitUntil

pytestmark = pytest.mark.integration


def run_on_terminal(
    args: list[str],
    answer: str,
    env: dict[str, str],
    meanwhile: Callable[[], None] = lambda: None,
) -> tuple[int, str]:
    """Run the CLI attached to a pseudo-terminal, answer its prompt (after `meanwhile`, what
    happens while the person reads the plan), return (code, screen)."""
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
            meanwhile()
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


def test_a_saved_plan_is_checked_again_after_the_prompt(
    tmp_path: Path,
    bootstrap_servers: str,
    topic_prefix: str,
    admin: AdminClient,
    wait_until: WaitUntil,
) -> None:
    """The digests matched when the prompt came up; someone changed the cluster while the
    person read the plan: "yes" then applies nothing."""
    mine, theirs = f"{topic_prefix}mine", f"{topic_prefix}theirs"
    env_dir = tmp_path / "tty"
    env_dir.mkdir()
    (env_dir / "env.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: tty}\nspec:\n"
        "  kafka: {bootstrapServers: '${KAFKA_BOOTSTRAP_SERVERS}', securityProtocol: PLAINTEXT}\n"
        f"  topics: {{manage: ['{topic_prefix}*']}}\n"
        f"---\napiVersion: reconciler/v1\nkind: Topic\nmetadata: {{name: {mine}}}\n"
        "spec: {partitions: 1, replicationFactor: 1}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers}
    saved = tmp_path / "plan.json"
    planned = subprocess.run(
        [sys.executable, "-c", "from reconciler.cli import main; main()", "plan", str(env_dir),
         "--out", str(saved)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert planned.returncode == 0, planned.stdout + planned.stderr

    def someone_creates_a_topic() -> None:
        for future in admin.create_topics([NewTopic(theirs, 1, 1)]).values():
            future.result()
        # Before "yes": every broker lists it, whichever one the re-check asks.
        wait_until(lambda client: theirs in client.list_topics(timeout=10).topics, 30)

    code, screen = run_on_terminal(
        ["apply", str(env_dir), "--plan", str(saved)], "y", env, someone_creates_a_topic
    )
    assert code == 1, screen
    assert "Apply these changes?" in screen
    assert "the cluster changed since the plan was made" in screen
    assert mine not in admin.list_topics(timeout=10).topics
