"""The price table (``cost/prices.yaml``): unit prices with their source, and every
resource type the render may declare, priced or free with a reason."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.cost.errors import CostInputError

REPO_ROOT = Path(__file__).resolve().parents[2]
PRICES_FILE = REPO_ROOT / "cost" / "prices.yaml"
PRICES_FORMAT = "switchboard-prices/1"
MAX_PRICE_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class UnitPrice:
    key: str
    description: str
    unit: str
    price: float
    free: float
    source: str
    read_on: str
    confirmed: bool
    free_scope: str = "billing_account"
    """``project``: the allotment is per project and always applies; ``billing_account``:
    shared by every project on the account, applied only with ``--free-tier``."""


@dataclass(frozen=True)
class PriceTable:
    region: str
    currency: str
    units: Mapping[str, UnitPrice]
    priced: Mapping[str, tuple[str, ...]]
    free: Mapping[str, str]

    def unit(self, key: str) -> UnitPrice:
        try:
            return self.units[key]
        except KeyError:
            raise CostInputError(f"cost/prices.yaml: no unit price {key!r}") from None

    def unpriced_types(self, types: Iterable[str]) -> list[str]:
        """The types in ``types`` that are neither priced nor listed as free."""
        return sorted({t for t in types if t not in self.priced and t not in self.free})


def _require(mapping: Mapping[str, Any], key: str, where: str, kind: type | tuple) -> Any:
    value = mapping.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise CostInputError(f"{where}: field {key!r} is missing or not {kind}")
    return value


def parse_prices(data: Any, where: str = "cost/prices.yaml") -> PriceTable:  # noqa: PLR0912
    if not isinstance(data, dict) or data.get("format") != PRICES_FORMAT:
        raise CostInputError(f"{where}: expected a mapping with format: {PRICES_FORMAT}")
    units: dict[str, UnitPrice] = {}
    for key, entry in (_require(data, "units", where, dict)).items():
        at = f"{where}: units.{key}"
        if not isinstance(entry, dict):
            raise CostInputError(f"{at}: not a mapping")
        price = _require(entry, "price", at, (int, float))
        free = _require(entry, "free", at, (int, float))
        if price < 0 or free < 0:
            raise CostInputError(f"{at}: price and free must not be negative")
        source = _require(entry, "source", at, str)
        if not source.startswith("https://"):
            raise CostInputError(f"{at}: source must be a public https URL")
        units[key] = UnitPrice(
            key=key,
            description=_require(entry, "description", at, str),
            unit=_require(entry, "unit", at, str),
            price=float(price),
            free=float(free),
            source=source,
            read_on=str(_require(entry, "read_on", at, str)),
            confirmed=_require(entry, "confirmed", at, bool),
            free_scope=str(entry.get("free_scope", "billing_account")),
        )
        if units[key].free_scope not in ("project", "billing_account"):
            raise CostInputError(f"{at}: free_scope is project or billing_account")
    priced: dict[str, tuple[str, ...]] = {}
    for rtype, keys in (_require(data, "priced", where, dict)).items():
        if not isinstance(keys, list) or not keys:
            raise CostInputError(f"{where}: priced.{rtype} must list unit keys")
        for key in keys:
            if key not in units:
                raise CostInputError(f"{where}: priced.{rtype} names unknown unit {key!r}")
        priced[rtype] = tuple(keys)
    free: dict[str, str] = {}
    for rtype, reason in (_require(data, "free", where, dict)).items():
        if not isinstance(reason, str) or not reason.strip():
            raise CostInputError(f"{where}: free.{rtype} needs a reason")
        if rtype in priced:
            raise CostInputError(f"{where}: {rtype} is both priced and free")
        free[rtype] = reason
    return PriceTable(
        region=_require(data, "region", where, str),
        currency=_require(data, "currency", where, str),
        units=units,
        priced=priced,
        free=free,
    )


def load_prices(path: Path = PRICES_FILE) -> PriceTable:
    try:
        text = path.read_bytes()[: MAX_PRICE_FILE_BYTES + 1]
    except OSError as error:
        raise CostInputError(f"{path}: cannot read the price table ({error.strerror})") from None
    if len(text) > MAX_PRICE_FILE_BYTES:
        raise CostInputError(f"{path}: over {MAX_PRICE_FILE_BYTES} bytes")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CostInputError(f"{path}: not valid YAML ({error})") from None
    return parse_prices(data, str(path))
