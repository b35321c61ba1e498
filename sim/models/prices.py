"""The price table: US dollars per million input and output tokens, per model.

The bundled table (``sim/models/prices.toml``) is versioned and meant to be
edited; a user's table is merged over it. Lookup order: ``provider:model``,
then the bare model name, then the longest matching ``*`` prefix, then the
provider alone (``local`` and ``scripted`` cost nothing).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sim.models.base import ProviderError


@dataclass(slots=True, frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


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
            own = cls.parse(text, str(path))
            table = cls({**table.prices, **own.prices}, f"{table.version}+{own.version}")
        return table

    @classmethod
    def parse(cls, text: str, where: str) -> PriceTable:
        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProviderError(f"{where}: not valid TOML: {exc}") from None
        prices: dict[str, Price] = {}
        for key, entry in (data.get("models") or {}).items():
            try:
                price = Price(float(entry["input"]), float(entry["output"]))
            except (KeyError, TypeError, ValueError):
                raise ProviderError(
                    f"{where}: models.{key!r} needs numbers 'input' and 'output' "
                    "(USD per million tokens)"
                ) from None
            if price.input_per_mtok < 0 or price.output_per_mtok < 0:
                raise ProviderError(f"{where}: models.{key!r}: prices cannot be negative")
            prices[key] = price
        return cls(prices, str(data.get("version", "unversioned")))

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
        return self.prices.get(provider)

    def cost(
        self, provider: str, model: str, input_tokens: int, output_tokens: int
    ) -> float | None:
        """USD for one call, or None if the model has no price."""
        price = self.lookup(provider, model)
        return None if price is None else price.cost(input_tokens, output_tokens)
