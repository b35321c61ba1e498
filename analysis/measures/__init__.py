"""The built-in metrics, a module per scoreboard dimension; importing registers them."""

from analysis.measures import (  # noqa: F401
    business,
    creativity,
    manners,
    probes,
    reflexes,
    stamina,
    tics,
)
