"""What an MSK cluster costs a month, priced from a table that names its source and date. Pure.

MSK Provisioned (Standard brokers) bills three meters (https://aws.amazon.com/msk/pricing/):
broker instance hours by size and region, provisioned EBS storage per GB-month, and
provisioned storage throughput per MB/s-month. A month is 730 hours, as AWS's price examples
and calculator count it. Data transfer, tiered storage and MSK Connect are not priced here.

The bundled table holds the prices that could be checked against a source; a region or size
it lacks is priced as unknown and the plan says so, never guessed. A price file (the
Environment's `spec.cost.priceFile`, schemas/msk-prices.schema.json) adds regions and sizes
or replaces prices (negotiated rates), and names its own source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.core.model import Cost, CostPart
from reconciler.kinds.msk_cluster.spec import KIND, MskClusterSpec

HOURS_PER_MONTH = 730
CURRENCY = "USD"


@dataclass(frozen=True)
class RegionPrices:
    """One region's on-demand prices; None (or a missing size) is an unknown price."""

    source: str
    broker_hour: Mapping[str, float] = field(default_factory=dict)
    storage_gb_month: float | None = None
    throughput_mibps_month: float | None = None

    def over(self, base: RegionPrices) -> RegionPrices:
        """These prices where set, `base`'s elsewhere."""
        return RegionPrices(
            f"{self.source}, over {base.source}",
            {**base.broker_hour, **self.broker_hour},
            base.storage_gb_month if self.storage_gb_month is None else self.storage_gb_month,
            base.throughput_mibps_month
            if self.throughput_mibps_month is None
            else self.throughput_mibps_month,
        )


@dataclass(frozen=True)
class PriceTable:
    """Prices per region, in one currency."""

    regions: Mapping[str, RegionPrices]
    currency: str = CURRENCY

    def merged(self, override: PriceTable) -> PriceTable:
        """`override`'s prices where it has them, this table's elsewhere."""
        regions = dict(self.regions)
        for name, prices in override.regions.items():
            regions[name] = prices.over(regions[name]) if name in regions else prices
        return replace(self, regions=dict(sorted(regions.items())))

    def as_json(self) -> dict[str, Any]:
        """The table as plain values (the plan's spec digest covers the prices in use)."""
        return {
            "currency": self.currency,
            "regions": {
                name: {
                    "source": r.source,
                    "brokerHour": dict(sorted(r.broker_hour.items())),
                    "storageGBMonth": r.storage_gb_month,
                    "throughputMiBpsMonth": r.throughput_mibps_month,
                }
                for name, r in self.regions.items()
            },
        }


#: AWS's published on-demand prices for us-east-1 (N. Virginia), checked 2026-12-01:
#: M5/M7g broker-hours, storage ($0.10/GB-month) and provisioned throughput ($0.08/MB/s-month)
#: as aws/agent-toolkit-for-aws quotes https://aws.amazon.com/msk/pricing/ in its MSK sizing
#: script (scripts/msk_sizing.py, 2026-06-23, "ALL PRICING ... us-east-1"); kafka.t3.small at
#: $0.0456/hour, the pricing page's "from $0.0456 per hour" and the AWS Price List's rate
#: (1,460 hours = $66.58 in infracost's MSK golden test). No other region's MSK prices could
#: be checked against a source, so other regions are unknown until a price file gives them.
BUNDLED_SOURCE = "AWS MSK pricing, us-east-1 on-demand, checked 2026-12-01"
BUNDLED = PriceTable(
    {
        "us-east-1": RegionPrices(
            BUNDLED_SOURCE,
            {
                "kafka.t3.small": 0.0456,
                "kafka.m5.large": 0.21,
                "kafka.m5.xlarge": 0.42,
                "kafka.m5.2xlarge": 0.84,
                "kafka.m5.4xlarge": 1.68,
                "kafka.m5.8xlarge": 3.36,
                "kafka.m5.12xlarge": 5.04,
                "kafka.m5.16xlarge": 6.72,
                "kafka.m5.24xlarge": 10.08,
                "kafka.m7g.large": 0.204,
                "kafka.m7g.xlarge": 0.408,
                "kafka.m7g.2xlarge": 0.816,
                "kafka.m7g.4xlarge": 1.632,
                "kafka.m7g.8xlarge": 3.264,
                "kafka.m7g.12xlarge": 4.896,
                "kafka.m7g.16xlarge": 6.528,
            },
            storage_gb_month=0.10,
            throughput_mibps_month=0.08,
        )
    }
)


def price_table(data: Mapping[str, Any], name: str) -> PriceTable:
    """A schema-valid price file (schemas/msk-prices.schema.json) as a table; `name` is how
    its prices are attributed ("msk-prices.json: <its source>, checked <date>")."""
    source = f"{name}: {data['source']}, checked {data['checked']}"
    regions = {
        region: RegionPrices(
            source,
            {str(k): float(v) for k, v in (prices.get("brokerHour") or {}).items()},
            _number(prices.get("storageGBMonth")),
            _number(prices.get("throughputMiBpsMonth")),
        )
        for region, prices in data["regions"].items()
    }
    return PriceTable(regions, str(data.get("currency", CURRENCY)))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _parts(spec: MskClusterSpec, prices: RegionPrices | None) -> tuple[CostPart, ...]:
    count = spec.broker_count
    parts = [
        CostPart(
            "brokers",
            float(count * HOURS_PER_MONTH),
            f"{spec.instance_type} broker-hours",
            prices.broker_hour.get(spec.instance_type) if prices else None,
        ),
        CostPart(
            "storage",
            float(count * spec.storage.volume_size_gib),
            "GB-months",
            prices.storage_gb_month if prices else None,
        ),
    ]
    throughput = spec.storage.provisioned_throughput_mibps
    if throughput:
        parts.append(
            CostPart(
                "provisioned throughput",
                float(count * throughput),
                "MB/s-months",
                prices.throughput_mibps_month if prices else None,
            )
        )
    return tuple(parts)


def cluster_cost(
    after: MskClusterSpec,
    before: MskClusterSpec | None,
    region: str | None,
    table: PriceTable,
) -> Cost:
    """The cluster's monthly cost as it runs (`before`, None: not created yet) and as the spec
    wants it (`after`)."""
    prices = table.regions.get(region) if region else None
    if prices is not None:
        source = prices.source
    else:
        known = ", ".join(table.regions) or "none"
        source = (
            f"no prices for {region or 'an unknown region'} (the table has {known}); "
            "give them in a price file (spec.cost.priceFile)"
        )
    return Cost(
        kind=KIND,
        name=after.name,
        region=region,
        currency=table.currency,
        source=source,
        before=None if before is None else _parts(before, prices),
        after=_parts(after, prices),
    )
