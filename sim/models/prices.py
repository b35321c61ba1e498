"""The price table: US dollars per million input and output tokens, per model.

The bundled table (``sim/models/prices.toml``) is versioned and meant to be
edited; a user's table is merged over it. Lookup order: ``provider:model``,
then the bare model name, then the longest matching ``*`` prefix, then the
provider alone; a provider registered as free (``local``, ``scripted``) costs nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sim.models.base import ProviderError
from sim.models.registry import provider_info
from sim.text import excerpt

# A sanity bound on a price (USD per million tokens): far above any model's, and it keeps
# every cost finite (a table may hold inf or nan, which TOML allows).
MAX_USD_PER_MTOK = 10_000


@dataclass(slots=True, frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


FREE = Price(0.0, 0.0)


class PriceTable:
    def __init__(self, prices: dict[str, Price], version: str) -> None:
        self.prices = prices
        self.version = version

    @classmethod
    def bundled(cls) -> PriceTable:
        text = resources.files("sim.models").joinpath("prices.toml").read_text(encoding="utf-8")
        return cls.parse(text, "sim/models/prices.toml")

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceTable:
        """The bundled table, with ``path`` (if given) merged over it."""
        table = cls.bundled()
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ProviderError(f"{path}: cannot read price table: {exc.strerror}") from None
            except UnicodeDecodeError as exc:
                raise ProviderError(
                    f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                    f"{exc.start:,}); save the price table as UTF-8"
                ) from None
            own = cls.parse(text, str(path))
            table = cls({**table.prices, **own.prices}, f"{table.version}+{own.version}")
        return table

    @classmethod
    def parse(cls, text: str, where: str) -> PriceTable:
        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProviderError(f"{where}: not valid TOML: {exc}") from None
        models = data.get("models") or {}
        if not isinstance(models, dict):
            raise ProviderError(f"{where}: 'models' must be a table of [models.\"name\"] entries")
        version = data.get("version", "unversioned")
        if not isinstance(version, str | int | float) or len(str(version)) > 100:
            raise ProviderError(f"{where}: 'version' must be a short string")
        prices: dict[str, Price] = {}
        for key, entry in models.items():
            try:
                price = Price(float(entry["input"]), float(entry["output"]))
            except (KeyError, TypeError, ValueError, OverflowError):
                raise ProviderError(
                    f"{where}: models.{excerpt(key)} needs numbers 'input' and 'output' "
                    "(USD per million tokens)"
                ) from None
            if not all(
                0 <= p <= MAX_USD_PER_MTOK for p in (price.input_per_mtok, price.output_per_mtok)
            ):
                raise ProviderError(
                    f"{where}: models.{excerpt(key)}: prices must be from 0 to "
                    f"{MAX_USD_PER_MTOK:,} USD per million tokens"
                )
            prices[key] = price
        return cls(prices, str(version))

    def lookup(self, provider: str, model: str) -> Price | None:
        for key in (f"{provider}:{model}", model):
            if key in self.prices:
                return self.prices[key]
        best: tuple[int, Price] | None = None
        for key, price in self.prices.items():
            if key.endswith("*"):
                stem = key[:-1]
                for name in (f"{provider}:{model}", model):
                    if name.startswith(stem) and (best is None or len(stem) > best[0]):
                        best = (len(stem), price)
        if best:
            return best[1]
        price = self.prices.get(provider)
        if price is None:
            info = provider_info(provider)
            if info is not None and info.free:
                return FREE
        return price

    def cost(
        self, provider: str, model: str, input_tokens: int, output_tokens: int
    ) -> float | None:
        """USD for one call, or None if the model has no price."""
        price = self.lookup(provider, model)
        return None if price is None else price.cost(input_tokens, output_tokens)
