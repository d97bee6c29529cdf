"""MSK costs in the plan: the bundled price table, price files, before -> after, unknown prices
said not guessed, and the cost line in text, markdown and JSON."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from reconciler.core.errors import ReconcilerError, SpecError
from reconciler.core.model import Cost, CostPart, Plan
from reconciler.engine.load import load
from reconciler.kinds.base import Context
from reconciler.kinds.msk_cluster.cost import (
    BUNDLED,
    HOURS_PER_MONTH,
    PriceTable,
    cluster_cost,
    price_table,
)
from reconciler.kinds.msk_cluster.diff import diff
from reconciler.kinds.msk_cluster.model import MskDesired, MskObserved
from reconciler.render import (
    plan_from_dict,
    plan_schema,
    plan_to_dict,
    render_json,
    render_markdown,
    render_text,
)
from tests.unit.test_msk_diff import NOW, SEED, live, observed
from tests.unit.test_msk_spec import SEED_DOC

REPO = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "c" * 64
SEED_PRICES = json.loads((REPO / "specs/dev/msk-prices.json").read_text(encoding="utf-8"))


def seed_table() -> PriceTable:
    return BUNDLED.merged(price_table(SEED_PRICES, "msk-prices.json"))


def test_the_bundled_table_holds_awss_us_east_1_prices_with_source_and_date() -> None:
    prices = BUNDLED.regions["us-east-1"]
    assert prices.broker_hour["kafka.t3.small"] == 0.0456
    assert prices.broker_hour["kafka.m5.large"] == 0.21
    assert prices.broker_hour["kafka.m7g.large"] == 0.204
    assert (prices.storage_gb_month, prices.throughput_mibps_month) == (0.10, 0.08)
    assert prices.source == "AWS MSK pricing, us-east-1 on-demand, checked 2026-12-01"
    assert list(BUNDLED.regions) == ["us-east-1"]  # no region is guessed


def test_the_seed_cluster_in_us_east_1_costs_its_broker_hours_and_storage() -> None:
    cost = cluster_cost(SEED, SEED, "us-east-1", BUNDLED)
    assert cost.after == (
        CostPart("brokers", 2.0 * HOURS_PER_MONTH, "kafka.t3.small broker-hours", 0.0456),
        CostPart("storage", 200.0, "GB-months", 0.10),
    )
    assert Cost.total(cost.after) == pytest.approx(2 * 0.0456 * 730 + 200 * 0.10)  # $86.58


def test_the_seeds_check_108_dollars_in_eu_central_1_with_its_own_price_file() -> None:
    cost = cluster_cost(SEED, SEED, "eu-central-1", seed_table())
    assert Cost.total(cost.after) == pytest.approx(107.60)  # 2 x 0.06 x 730 + 200 x 0.10
    assert cost.source.startswith("msk-prices.json: the seed document's cost table")
    assert cost.source.endswith("checked 2026-12-01")


def test_a_region_without_prices_is_unknown_and_says_where_to_give_them() -> None:
    cost = cluster_cost(SEED, SEED, "eu-central-1", BUNDLED)
    assert Cost.total(cost.after) is None
    assert [p.unit for p in cost.unpriced] == ["kafka.t3.small broker-hours", "GB-months"]
    assert "no prices for eu-central-1 (the table has us-east-1)" in cost.source
    lines = render_text(Plan("dev", DIGEST, DIGEST, (), costs=(cost,)), color=False)
    assert "MskCluster malawi-pg-kafka-cluster (eu-central-1): unknown -> unknown" in lines
    assert "brokers: 1,460 kafka.t3.small broker-hours x (no price) = unknown" in lines
    assert (
        "prices: no prices for eu-central-1 (the table has us-east-1); give them in a price "
        "file (spec.cost.priceFile)"
    ) in lines
    bigger = dataclasses.replace(SEED, instance_type="kafka.m5.large")
    mixed = cluster_cost(bigger, SEED, "eu-central-1", seed_table())  # no m5.large price there
    text = render_text(Plan("dev", DIGEST, DIGEST, (), costs=(mixed,)), color=False)
    assert "(eu-central-1): $107.60 -> unknown" in text
    assert "unknown: no price for kafka.m5.large broker-hours in eu-central-1; give it" in text


def test_a_price_file_fills_what_the_region_lacks_and_keeps_the_rest() -> None:
    partial = {
        "source": "contract 42",
        "checked": "2026-11-30",
        "regions": {"us-east-1": {"brokerHour": {"kafka.t3.small": 0.04}}},
    }
    table = BUNDLED.merged(price_table(partial, "rates.json"))
    prices = table.regions["us-east-1"]
    assert prices.broker_hour["kafka.t3.small"] == 0.04
    assert prices.broker_hour["kafka.m5.large"] == 0.21
    assert prices.storage_gb_month == 0.10
    assert prices.source.startswith("rates.json: contract 42, checked 2026-11-30, over AWS MSK")


def test_a_change_shows_before_and_after_and_provisioned_throughput() -> None:
    bigger = dataclasses.replace(
        SEED,
        instance_type="kafka.m5.4xlarge",
        broker_count=4,
        storage=dataclasses.replace(SEED.storage, provisioned_throughput_mibps=300),
    )
    cost = cluster_cost(bigger, SEED, "us-east-1", BUNDLED)
    assert cost.after is not None
    assert cost.after[2] == CostPart("provisioned throughput", 1200.0, "MB/s-months", 0.08)
    text = render_text(Plan("dev", DIGEST, DIGEST, (), costs=(cost,)), color=False)
    after = 4 * 1.68 * 730 + 400 * 0.10 + 1200 * 0.08
    assert f"(us-east-1): $86.58 -> ${after:,.2f} (+${after - 86.576:,.2f})" in text
    assert (
        "brokers: 1,460 kafka.t3.small broker-hours x $0.0456 = $66.58 -> "
        "2,920 kafka.m5.4xlarge broker-hours x $1.68 = $4,905.60"
    ) in text
    assert "provisioned throughput: 1,200 MB/s-months x $0.08 = $96.00 (new)" in text


def test_the_kinds_diff_prices_the_cluster_before_and_after() -> None:
    desired = MskDesired(dataclasses.replace(SEED, broker_count=4), "us-east-1")
    part = diff(desired, observed(), Context(NOW))
    [cost] = part.costs
    assert (Cost.total(cost.before), Cost.total(cost.after)) == pytest.approx((86.576, 173.152))
    created = diff(MskDesired(SEED), MskObserved(None), Context(NOW))
    assert created.costs[0].before is None and created.costs[0].region is None
    seen = observed(live())  # the region comes from the live cluster's ARN when not given
    assert diff(MskDesired(SEED), seen, Context(NOW)).costs[0].region == "eu-central-1"


def test_costs_render_in_all_three_formats_and_read_back() -> None:
    cost = cluster_cost(SEED, None, "eu-central-1", seed_table())
    plan = Plan("dev", DIGEST, DIGEST, (), costs=(cost,))
    text = render_text(plan, color=False)
    assert "Monthly cost (USD, estimated from list prices; data transfer is not included):" in text
    assert "MskCluster malawi-pg-kafka-cluster (eu-central-1): $107.60 once created" in text
    markdown = render_markdown(plan)
    assert "### Monthly cost (USD, estimated from list prices" in markdown
    assert "- MskCluster malawi-pg-kafka-cluster (eu-central-1): $107.60 once created" in markdown
    document = json.loads(render_json(plan))
    Draft202012Validator(plan_schema()).validate(document)
    assert document["costs"][0]["after"]["monthly"] == 107.6
    assert document["costs"][0]["before"] is None
    assert plan_from_dict(document) == plan


def test_a_plan_without_costs_has_the_same_json_as_before() -> None:
    assert "costs" not in plan_to_dict(Plan("dev", DIGEST, DIGEST, ()), tool_version="x")


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        ("costs/0/after/parts/0/unitPrice", lambda c: c["after"]["parts"][0].update(unitPrice=-1)),
        ("costs/0/after", lambda c: c["after"].pop("parts")),
        ("costs/0", lambda c: c.update(extra=1)),
        ("costs/0/region", lambda c: c.update(region=5)),
    ],
)
def test_damaged_costs_are_refused_by_reader_and_schema(
    path: str, edit: Callable[[dict[str, Any]], object]
) -> None:
    cost = cluster_cost(SEED, SEED, "us-east-1", BUNDLED)
    document = plan_to_dict(Plan("dev", DIGEST, DIGEST, (), costs=(cost,)), tool_version="x")
    edit(document["costs"][0])
    assert not Draft202012Validator(plan_schema()).is_valid(document)
    with pytest.raises(ReconcilerError, match=f"not valid at {path}:"):
        plan_from_dict(document)


def environment(price_file: str) -> str:
    return (
        "apiVersion: reconciler/v1\nkind: Environment\nmetadata: {name: dev}\nspec:\n"
        '  kafka: {bootstrapServers: "127.0.0.1:9092"}\n'
        "  msk: {region: eu-central-1, clusterName: malawi-pg-kafka-cluster}\n"
        f"  cost: {{priceFile: {price_file}}}\n"
    )


def write_env(root: Path, price_file: str, prices: str | None) -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    env = root / "env"
    env.mkdir(exist_ok=True)
    (env / "environment.yaml").write_text(environment(price_file), encoding="utf-8")
    (env / "cluster.yaml").write_text(yaml.safe_dump(SEED_DOC), encoding="utf-8")
    if prices is not None:
        (env / "prices.json").write_text(prices, encoding="utf-8")
    return env


def test_the_price_file_is_loaded_into_the_desired_cluster(tmp_path: Path) -> None:
    shutil.copy(REPO / "specs/dev/msk-prices.json", tmp_path / "seed.json")
    env = write_env(tmp_path, "prices.json", (tmp_path / "seed.json").read_text())
    desired = load(env).kinds["MskCluster"]
    assert isinstance(desired, MskDesired)
    assert desired.prices.regions["eu-central-1"].broker_hour == {"kafka.t3.small": 0.06}
    assert desired.price_file == "prices.json"


def test_a_bad_price_file_is_a_located_spec_problem(tmp_path: Path) -> None:
    bad = '{\n  "source": "x",\n  "checked": "2026-12-01",\n  "regions": {\n'
    bad += '    "eu-central-1": {"brokerHour": {"kafka.t3.small": "cheap"}}\n  }\n}\n'
    env = write_env(tmp_path, "prices.json", bad)
    with pytest.raises(SpecError) as caught:
        load(env)
    [problem] = caught.value.problems
    assert str(problem).startswith(str(env / "prices.json").removeprefix(f"{Path.cwd()}/"))
    assert ":5:" in str(problem) and "regions.eu-central-1.brokerHour.kafka.t3.small" in str(
        problem
    )


def test_a_missing_or_outside_price_file_is_refused(tmp_path: Path) -> None:
    env = write_env(tmp_path, "nowhere.json", None)
    with pytest.raises(SpecError, match=r"spec.cost.priceFile: 'nowhere.json' does not exist"):
        load(env)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
    outside.write_text(json.dumps(SEED_PRICES), encoding="utf-8")
    env = write_env(tmp_path, f"../../{outside.name}", None)
    with pytest.raises(SpecError, match="is outside the repository"):
        load(env)
    outside.unlink()
