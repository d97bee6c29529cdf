"""`import --factor-defaults` edits the Environment in place, or refuses with the lines to
paste, leaving the file as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.errors import ReconcilerError
from reconciler.engine import environment_file
from reconciler.engine.environment_file import add_to_environment, environment_document

HEAD = "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: dev}\n"
SECTION = {"topics": {"defaults": {"config": {"retention.ms": "1d"}}}}


def write(tmp_path: Path, spec: str) -> Path:
    (tmp_path / "environment.yaml").write_text(HEAD + spec, encoding="utf-8")
    return tmp_path / "environment.yaml"


def test_a_block_spec_gets_the_section_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path, "spec:\n  # where the brokers are\n  kafka: {bootstrapServers: b:9092}\n"
    )
    assert add_to_environment(tmp_path, SECTION, force=False)
    assert path.read_text() == (
        HEAD + "spec:\n  # where the brokers are\n  kafka: {bootstrapServers: b:9092}\n"
        "  topics:\n    defaults:\n      config:\n        retention.ms: 1d\n"
    )
    assert environment_document(tmp_path).data["spec"]["topics"] == SECTION["topics"]


def test_a_flow_style_spec_is_refused_with_the_lines_to_paste(tmp_path: Path) -> None:
    """The review's case: the block used to land inside the flow mapping, and the import
    rolled back with "has no Environment document"."""
    text = 'spec: {kafka: {bootstrapServers: "localhost:9092", securityProtocol: PLAINTEXT}}\n'
    path = write(tmp_path, text)
    with pytest.raises(ReconcilerError) as refused:
        add_to_environment(tmp_path, SECTION, force=False)
    message = str(refused.value)
    assert "spec is written in flow style, which this command does not edit" in message
    assert message.endswith("  topics:\n    defaults:\n      config:\n        retention.ms: 1d")
    assert path.read_text() == HEAD + text


def test_an_empty_section_gets_what_goes_under_it(tmp_path: Path) -> None:
    """`topics:` with nothing under it used to get a second `topics:` key."""
    path = write(tmp_path, "spec:\n  kafka: {bootstrapServers: b:9092}\n  topics:\n")
    assert add_to_environment(tmp_path, SECTION, force=False)
    assert path.read_text() == (
        HEAD + "spec:\n  kafka: {bootstrapServers: b:9092}\n  topics:\n"
        "    defaults:\n      config:\n        retention.ms: 1d\n"
    )


def test_an_edit_that_does_not_read_back_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the editor misplace its lines (here: at the top of the file), the edit must
    not pass, nor end as "has no Environment document": the file is put back."""
    text = "spec:\n  kafka: {bootstrapServers: b:9092}\n"
    path = write(tmp_path, text)
    monkeypatch.setattr(environment_file, "_end_of", lambda lines, start, column: 0)
    with pytest.raises(ReconcilerError) as refused:
        add_to_environment(tmp_path, SECTION, force=False)
    assert str(refused.value).startswith(
        f"{path}: could not add spec.topics.defaults in place (the file would not read back "
        "as the same Environment); add it by hand:\n  topics:\n    defaults:"
    )
    assert path.read_text() == HEAD + text
