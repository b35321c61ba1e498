"""How each stored table's row lands on the UI's timeline: one handler per table the UI
shows (``HANDLERS``), each filing the row into its station's time-sorted lists. Rows reach
the handlers already made printable by ``Timeline.apply``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from economy.airplay import SPOKEN, SegmentStatus
from economy.listeners import MessageOutcome
from tui.station_timeline import TERMINAL, Segment, _insert

if TYPE_CHECKING:
    from tui.timeline import Timeline


# -- row handlers --------------------------------------------------------------------------
def _station(tl: Timeline, row: dict[str, Any]) -> None:
    st = tl.station(row["station"])
    st.name, st.provider, st.model = row["name"], row["provider"], row["model"]


def _asrun(tl: Timeline, row: dict[str, Any]) -> None:
    if row["status"] != SegmentStatus.AIRED:
        return
    st = tl.station(row["station"])
    seg = Segment(row["start_s"], row["end_s"], row["kind"], row.get("title"), row.get("artist"),
                  row.get("text"), row["source"], row["status"], row["seq"])  # fmt: skip
    _insert(st.seg_t, st.segs, seg.start_s, seg)
    if seg.kind in SPOKEN and seg.text:
        _insert(st.words_t, st.words, seg.start_s, seg)
    tl.end_s = max(tl.end_s, seg.start_s)


def _ledger(tl: Timeline, row: dict[str, Any]) -> None:
    if row["station"].startswith("sponsor:"):
        return
    st = tl.station(row["station"])
    _insert(st.ledger_t, st.ledger, row["sim_time_s"], row)


def _ratings(tl: Timeline, row: dict[str, Any]) -> None:
    st = tl.station(row["station"])
    _insert(st.ratings_t, st.ratings, row["quarter_start_s"] + 900.0, (row["aqh"], row["share"]))


def _fault(tl: Timeline, row: dict[str, Any]) -> None:
    station = row["station"]
    if station and not station.startswith("sponsor:"):  # sponsors' and unknown-id faults
        st = tl.station(station)
        _insert(st.fault_t, st.faults, row["sim_time_s"], (row["kind"], row["detail"]))


def _call(tl: Timeline, row: dict[str, Any]) -> None:
    if row["station"] not in tl.stations:
        return  # sponsors' calls
    st = tl.stations[row["station"]]
    in_order = not st.call_t or row["sim_time_s"] >= st.call_t[-1]
    _insert(st.call_t, st.calls, row["sim_time_s"], row)
    if in_order:
        before = st.cost_cum[-1] if st.cost_cum else st.cost_before
        st.cost_cum.append(before + (row.get("cost_usd") or 0.0))
    else:
        total, st.cost_cum = st.cost_before, []
        for r in st.calls:
            total += r.get("cost_usd") or 0.0
            st.cost_cum.append(total)


def _contract(tl: Timeline, row: dict[str, Any]) -> None:
    st = tl.station(row["station"])
    st.contracts[row["contract_id"]] = {
        "sponsor": row["sponsor"],
        "signed_s": row["signed_s"],
        "end_s": row["end_s"],
        "terms": f"{row['spots_per_day']}/day × {row['days']} days at "
        f"${row['price_cents'] / 100:.2f} {'CPM' if row['pricing'] == 'cpm' else 'per spot'}",
        "events": [],
    }


def _contract_event(tl: Timeline, row: dict[str, Any]) -> None:
    contract = tl.station(row["station"]).contracts.get(row["contract_id"])
    if contract is not None and row["kind"] in TERMINAL:  # spots and payments: not shown
        contract["events"].append((row["sim_time_s"], row["kind"]))


def _negotiation(tl: Timeline, row: dict[str, Any]) -> None:
    tl.station(row["station"]).negotiations.append(row)


def _message(tl: Timeline, row: dict[str, Any]) -> None:
    st = tl.station(row["station"])
    _insert(st.message_t, st.messages, row["sim_time_s"], row)


def _reply(tl: Timeline, row: dict[str, Any]) -> None:
    tl.station(row["station"]).replies[row["message_id"]] = (row["sim_time_s"], row["text"])


def _outcome(tl: Timeline, row: dict[str, Any]) -> None:
    if row["outcome"] == MessageOutcome.DECLINED:
        st = tl.station(row["station"])
        st.declined[row["message_id"]] = (row["sim_time_s"], row.get("detail") or "")


HANDLERS = {
    "stations": _station,
    "asrun": _asrun,
    "ledger": _ledger,
    "ratings": _ratings,
    "faults": _fault,
    "model_calls": _call,
    "contracts": _contract,
    "contract_events": _contract_event,
    "negotiations": _negotiation,
    "messages": _message,
    "replies": _reply,
    "message_outcomes": _outcome,
}
