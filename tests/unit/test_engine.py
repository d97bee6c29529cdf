"""The engine's shape: kinds in apply order, pure layers free of client libraries, and no
change that no kind applies ever reaching a write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Action, Change, FieldDiff, Plan, Risk
from reconciler.engine.apply import apply_and_verify
from reconciler.engine.plan import Planned
from reconciler.kinds.base import ApplyOptions
from reconciler.kinds.registry import BY_NAME, KINDS
from reconciler.specs.schema import SCHEMA_DIR
from tests.planning import desired_of, observed_of

ROOT = Path(__file__).resolve().parents[2]
#: What must stay importable without a client library: the pure layers and the CLI's face.
PURE = [
    "reconciler.core.model",
    "reconciler.core.changes",
    "reconciler.core.configs.risk",
    "reconciler.core.configs.broker",
    "reconciler.core.record",
    "reconciler.core.polling",
    "reconciler.specs.yaml_source",
    "reconciler.specs.schema",
    "reconciler.specs.variables",
    "reconciler.kinds.registry",
    "reconciler.kinds.topic.spec",
    "reconciler.kinds.topic.diff",
    "reconciler.kinds.msk_cluster.spec",
    "reconciler.kinds.msk_cluster.diff",
    "reconciler.kinds.msk_cluster.fields",
    "reconciler.engine.load",
    "reconciler.render.text",
    "reconciler.render.markdown",
    "reconciler.render.plan_json",
    "reconciler.cli",
]
LIBRARIES = ("boto3", "botocore", "confluent_kafka", "kafka", "deepdiff")


def test_the_registry_lists_every_kind_once_in_apply_order() -> None:
    # the cluster first; SCRAM users before the ACLs that name them
    assert [kind.name for kind in KINDS] == [
        "MskCluster",
        "Topic",
        "ScramUser",
        "Acl",
        "ClientQuota",
    ]
    assert set(BY_NAME) == {kind.name for kind in KINDS}
    for kind in KINDS:
        assert (SCHEMA_DIR / kind.schema).is_file(), kind.schema


def test_pure_layers_and_offline_commands_load_no_client_library() -> None:
    """In a fresh interpreter, so nothing imported by other tests can hide an import."""
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in PURE)
        + "from click.testing import CliRunner\n"
        + "from reconciler.cli import main\n"
        + f"for args in (['--version'], ['validate', {str(ROOT / 'specs' / 'dev')!r}],"
        + f" ['show', {str(ROOT / 'specs' / 'prod')!r}]):\n"
        + "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        + f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {set(LIBRARIES)!r})\n"
        + "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


class _NoWrites:
    """Clients that fail the test on first use: nothing may be called, let alone written."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the engine used the clients ({name}) before refusing the plan")


def _planned(*changes: Change) -> Planned:
    plan = Plan("test", "sha256:" + "0" * 64, "sha256:" + "1" * 64, changes)
    return Planned(desired_of(), _NoWrites(), observed_of(), plan)  # type: ignore[arg-type]


def test_a_change_of_a_kind_nothing_applies_fails_before_any_write() -> None:
    create = Change(
        "Topic", "orders", Action.CREATE, Risk.SAFE, (FieldDiff("partitions", None, 3),)
    )
    binding = Change("Connector", "sink", Action.CREATE, Risk.SAFE, ())
    with pytest.raises(ReconcilerError, match="of kind 'Connector', which this version does not"):
        apply_and_verify(_planned(create, binding), ApplyOptions(lambda _: None))


def test_an_impossible_change_of_any_kind_fails_before_any_write() -> None:
    refused = Change("MskCluster", "c", Action.UPDATE, Risk.IMPOSSIBLE, (), ("no",))
    create = Change("Topic", "orders", Action.CREATE, Risk.SAFE, ())
    with pytest.raises(ReconcilerError, match="impossible changes; nothing was applied"):
        apply_and_verify(_planned(refused, create), ApplyOptions(lambda _: None))
