"""Terminal UI: watch live runs, replay stored ones, hear the DJ (a view: given a run)."""
