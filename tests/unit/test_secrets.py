"""The literal-secret scan reads a pull request's text: it finds a credential however YAML
writes it, never echoes it, and takes linear time and bounded output on hostile files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconciler.core.errors import SpecError, SpecProblem
from reconciler.core.model import Location
from reconciler.engine.load import MAX_PROBLEMS_PER_FILE, load
from reconciler.specs.secrets import (
    LITERAL,
    MAX_MASKED,
    MAX_REPORTED,
    MESSAGE_CHARS,
    literal_secrets,
    masked,
)
from reconciler.specs.yaml_source import parse_documents

SECRET = "hunter2-Xq9"


def scan(text: str) -> list[str]:
    """The problems of one file's text, read as the loader reads it (documents and text)."""
    documents, _problems = parse_documents(text, "f.yaml")
    found = [str(p) for p in literal_secrets(text, "f.yaml", documents)]
    assert not any(SECRET in p for p in found)  # never echoed, whatever else is asserted
    return found


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (f"password: {SECRET}\n", 1, "password"),
        (f"a: 1\npassword: &pw {SECRET}\nb: *pw\n", 2, "password"),
        (f"password: |\n  {SECRET}\n", 1, "password"),
        (f"password: >-\n  {SECRET}\n", 1, "password"),
        (f"password:\n  {SECRET}\n", 2, "password"),
        (f"sasl: {{mechanism: x, password: {SECRET}}}\n", 1, "sasl.password"),
        (f"sasl: {{\n  mechanism: x,\n  password:\n    {SECRET}\n}}\n", 4, "sasl.password"),
        (f"tokens:\n  - {SECRET}\n", 2, "tokens.0"),
        (f'"apiToken": "{SECRET}"\n', 1, "apiToken"),
        (f"x: &creds {{token: {SECRET}}}\ny: *creds\n", 1, "x.token"),
        (f"secret: {{value: {SECRET}}}\n", 1, "secret.value"),
        ("password: 12345678\n", 1, "password"),
    ],
    ids=[
        "plain",
        "anchored",
        "literal block",
        "folded block",
        "next line",
        "flow mapping",
        "multi-line flow",
        "list",
        "quoted key",
        "alias copy",
        "below the key",
        "a number",
    ],
)
def test_a_credential_is_found_however_yaml_writes_it(text: str, line: int, field: str) -> None:
    found = scan(text)
    assert found, "not found"
    assert found[0].startswith(f"f.yaml:{line}:")
    assert f"{field}: {LITERAL}" in found[0]


@pytest.mark.parametrize(
    "text",
    [
        "password: ${KAFKA_PASSWORD}\n",
        "password: '${KAFKA_PASSWORD}'\n",
        "password:\n  ${KAFKA_PASSWORD}\n",
        "password: |\n  ${KAFKA_PASSWORD}\n",
        "password: &pw ${KAFKA_PASSWORD}\nother: *pw\n",
        "sasl: {password: '${KAFKA_PASSWORD}', username: app}\n",
        "# password: ${KAFKA_PASSWORD}\n",
        "secret: 'false'\ncredentials: {username: '${U}'}\npassword: ~\nmy-token: yes\n",
        "# sha: 3f786850e387550fdab836ed7e6dc881de23001b\nname: password-resets\n",
        # where a secret is, not the secret: an MSK SCRAM secret's name, an ARN, a file
        "awsSecretsManager: {name: AmazonMSK_app}\nsecretArn: arn:aws:x\ntokenFile: /t\n",
        "awsSecretsManager:\n  name: AmazonMSK_app\n  kmsKeyId: alias/msk\n",
    ],
)
def test_references_and_harmless_values_are_not_secrets(text: str) -> None:
    assert scan(text) == []


def test_a_comment_and_a_file_yaml_refuses_are_still_read_as_text() -> None:
    found = scan(f"ok: 1\n# secrets: {{token: {SECRET}}}\n[unclosed\npassword: &a {SECRET}\n")
    assert [p.split(":")[1] for p in found] == ["2", "4"]


def test_one_problem_per_line() -> None:
    """A key named like a credential with a JAAS line as its value is one problem."""
    text = f'jaas.config: "ScramLoginModule required password={SECRET};"\n'
    assert len(scan(text)) == 1


def test_lines_are_counted_right_far_into_a_file() -> None:
    text = "a: 1\n" * 5000 + f"b:\n  password: {SECRET}\n" + "c: 2\n" * 5000
    assert [p.split(":", 2)[1] for p in scan(text)] == ["5002"]


def test_the_scan_stops_after_its_limit() -> None:
    text = "".join(f"password{i}: {SECRET}\n" for i in range(1000))
    found = scan(text)
    assert len(found) == MAX_REPORTED + 1
    assert f"the scan stops at {MAX_REPORTED}" in found[-1]
    assert found[-1].startswith(f"f.yaml:{MAX_REPORTED + 1}:")


#: Inputs that made the old pattern backtrack for hours: a credential word repeated with no
#: colon (cubic), long runs of key characters, nested PEM-like prefixes, base64 runs.
HOSTILE = """
import sys
from reconciler.specs.secrets import literal_secrets
cases = {
    "word run": "password" * 40_000 + "\\n",
    "word run with a late colon": ("password." * 20_000) + ": x\\n",
    "many words, no colon": ("secret " * 50_000) + "\\n",
    "pem prefixes": "-----BEGIN " + "A " * 200_000 + "\\n",
    "long base64": "Ab1/" * 100_000 + "\\n",
    "quotes": "password: '" + "a'" * 100_000 + "\\n",
}
for name, text in cases.items():
    print(name, len(literal_secrets(text, "f.yaml")))
"""


def test_hostile_lines_are_scanned_in_linear_time() -> None:
    """Each hostile line is hundreds of kilobytes; the guard is far above what a linear scan
    needs even on a loaded machine, and far below what the old pattern took."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(HOSTILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    counts = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines())
    assert counts == {
        "word run": "0",
        "word run with a late colon": "1",
        "many words, no colon": "0",
        "pem prefixes": "0",
        "long base64": "0",
        "quotes": "1",
    }


# -- through the loader ------------------------------------------------------------------------

ENV = (
    "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: env}\n"
    "spec:\n  kafka: {bootstrapServers: 'localhost:9092', securityProtocol: PLAINTEXT}\n"
)


def test_validate_refuses_an_anchored_secret_in_a_label(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "env.yaml").write_text(ENV, encoding="utf-8")
    topic = (
        "apiVersion: reconciler/v1\nkind: Topic\n"
        f"metadata:\n  name: orders\n  labels:\n    secret: &s {SECRET}\n    copy: *s\n"
        "spec: {partitions: 1, replicationFactor: 1}\n"
    )
    (env_dir / "t.yaml").write_text(topic, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load(env_dir)
    [problem] = [str(p) for p in caught.value.problems]
    assert "t.yaml:6:" in problem and "metadata.labels.secret: " + LITERAL in problem
    assert SECRET not in str(caught.value)


def test_a_file_reports_a_bounded_number_of_problems(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "env.yaml").write_text(ENV, encoding="utf-8")
    bad = "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: t}\nspec: {partitionz: 1}\n"
    (env_dir / "t.yaml").write_text("---\n".join([bad] * 80), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load(env_dir)
    found = [str(p) for p in caught.value.problems if "t.yaml" in str(p)]
    assert len(found) == MAX_PROBLEMS_PER_FILE + 1
    more = 80 - MAX_PROBLEMS_PER_FILE  # each document: its unknown field
    assert f"and {more} more problems in this file, not listed" in found[-1]


def test_a_long_message_is_cut(tmp_path: Path) -> None:
    """A schema message quotes the value it refuses, here a list of 5,000 numbers."""
    (tmp_path / ".git").mkdir()
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "env.yaml").write_text(ENV, encoding="utf-8")
    numbers = ", ".join(str(i) for i in range(5000))
    topic = (
        "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: t}\n"
        f"spec: {{partitions: [{numbers}], replicationFactor: 1}}\n"
    )
    (env_dir / "t.yaml").write_text(topic, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load(env_dir)
    [problem] = caught.value.problems
    assert problem.message.startswith("[0, 1, 2") and problem.message.endswith("...")
    assert len(problem.message) == MESSAGE_CHARS


def test_a_file_of_more_credentials_than_can_be_masked_shows_no_other_message() -> None:
    lines = [f"password{i}: {SECRET}-{i:04}\n" for i in range(MAX_MASKED + 1)]
    echo = SpecProblem(Location("f.yaml", 1, 1), "x", f"{SECRET}-0001 is not of type 'integer'")
    [shown] = masked([echo], parse_documents("".join(lines), "f.yaml")[0])
    assert shown.message.startswith("(not shown: the file holds more than 1,000")
    [few] = masked([echo], parse_documents("".join(lines[:5]), "f.yaml")[0])
    assert few.message == "*** is not of type 'integer'"


def test_reading_stops_once_the_specs_have_enough_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.engine import load as load_module

    monkeypatch.setattr(load_module, "MAX_PROBLEMS", 10)
    (tmp_path / ".git").mkdir()
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "a.yaml").write_text(ENV, encoding="utf-8")
    bad = "apiVersion: reconciler/v1\nkind: Topic\nmetadata: {name: t}\nspec: {partitionz: 1}\n"
    for index in range(30):
        (env_dir / f"t{index:02}.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load(env_dir)
    found = [str(p) for p in caught.value.problems]
    assert sum("unknown field" in p for p in found) == 10
    [stop] = [p for p in found if "not read" in p]
    assert "t10.yaml:1:1: not read: the specs have 10 problems already" in stop
