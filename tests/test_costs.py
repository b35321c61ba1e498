"""Costs that scale: royalties per performance (per listener per song) and, when switched on,
the model's tokens; both are billed with the hosting fee at midnight."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import export_rows, query_run, run, scripted_scenario

QUIET = (
    "[listeners]\nmessages_per_1000_per_hour = 0\nmin_messages_per_hour = 0\n"
    "[sponsors]\ncount = 0\n"
)


def test_royalties_scale_with_listeners_and_inference_with_tokens(engine, tmp_path: Path) -> None:
    # A fixed audience of 1,000 per station and $1 per 1,000 performances: $1 per song aired.
    # 10 cents per 1,000 tokens. The run starts at 06:00, so midnight bills the first 18 hours.
    economy = "royalty_usd_per_1000_performances = 1.0\ninference_usd_per_1k_tokens = 0.1\n"
    economy += "start_balance_usd = 500\n"
    extra = QUIET + "[audience]\nmode = 'fixed'\nfixed_aqh = 1000\n"
    scenario = scripted_scenario(
        hours=20, stations=2, economy=economy, extra=extra, persona="buy_rate = 0"
    )
    result = run(scenario, engine, tmp_path)
    midnight = 18 * 3600
    ledger = export_rows(engine, result.run_id, "ledger")
    asrun = export_rows(engine, result.run_id, "asrun")
    for station in ("KTA", "KTB"):
        songs = [
            r
            for r in asrun
            if r["station"] == station and r["kind"] == "song" and r["status"] == "aired"
            and r["start_s"] < midnight
        ]  # fmt: skip
        royalty = [r for r in ledger if r["station"] == station and r["kind"] == "royalty"]
        assert [r["amount_usd"] for r in royalty] == [-float(len(songs))]
        assert royalty[0]["sim_time_s"] == midnight
        (tokens,) = query_run(
            engine,
            "select sum(input_tokens + output_tokens) from model_calls "
            f"where run_id = :r and station = '{station}' and sim_time_s < {midnight}",
            result.run_id,
        )[0]
        inference = [r for r in ledger if r["station"] == station and r["kind"] == "inference"]
        # whole cents are billed; the fraction carries over to the next bill
        assert [r["amount_usd"] for r in inference] == [-int(tokens * 0.1 / 10) / 100]
