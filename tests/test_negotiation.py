"""Sponsor negotiation: the alternating-offers protocol and Faratin et al.'s tactics. Longer
than 400 lines because it tests one package (``economy.negotiation``) from the concession
curve up to whole bargains and a property test, and the later sections build on the book,
fault and move helpers at its top; each section is short."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from economy.negotiation import (
    MAX_PRICE_CENTS,
    TACTIC_BETAS,
    Negotiation,
    NegotiationBook,
    NegotiationMoved,
    NegotiationRow,
    Terms,
    TimeDependentTactic,
    concession,
    run_bilateral,
)
from sim.bus import EventBus
from sim.events import Event, Fault

T = 1000.0  # deadline, seconds after the opening, in the tactic tests


def make_book() -> tuple[NegotiationBook, list[Event]]:
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    return NegotiationBook(bus), events


def faults(events: list[Event]) -> list[Fault]:
    return [e for e in events if isinstance(e, Fault)]


def moves(events: list[Event]) -> list[NegotiationMoved]:
    return [e for e in events if isinstance(e, NegotiationMoved)]


def snapshot(neg: Negotiation) -> tuple[object, ...]:
    return (neg.status, neg.turn, neg.terms, neg.proposed_by, tuple(neg.history), neg.closed_s)


# --------------------------------------------------------------------------- concession


@pytest.mark.parametrize(
    ("name", "t", "expected"),
    [
        ("linear", 0.0, 0.0),
        ("linear", 50.0, 0.5),
        ("linear", 100.0, 1.0),
        ("boulware", 0.0, 0.0),
        ("boulware", 50.0, 0.03125),  # 0.5 ** (1 / 0.2) = 0.5 ** 5
        ("boulware", 100.0, 1.0),
        ("conceder", 0.0, 0.0),
        ("conceder", 50.0, 0.870550563296124),  # 0.5 ** (1 / 5) = 2 ** -0.2
        ("conceder", 100.0, 1.0),
    ],
)
def test_concession_hand_checked(name: str, t: float, expected: float) -> None:
    assert concession(t, 100.0, TACTIC_BETAS[name]) == pytest.approx(expected, abs=1e-12)


def test_concession_with_k_and_clamping() -> None:
    assert concession(0.0, 100.0, 1.0, k=0.1) == pytest.approx(0.1)
    assert concession(50.0, 100.0, 1.0, k=0.1) == pytest.approx(0.55)  # 0.1 + 0.9 * 0.5
    assert concession(-10.0, 100.0, 5.0) == 0.0
    assert concession(250.0, 100.0, 0.2) == 1.0


def test_boulware_holds_out_and_conceder_gives_early() -> None:
    for t in (10.0, 30.0, 50.0, 70.0, 90.0):
        b, lin, c = (concession(t, 100.0, TACTIC_BETAS[n]) for n in TACTIC_BETAS)
        assert b < lin < c


@pytest.mark.parametrize(
    ("deadline", "beta", "k"), [(0.0, 1.0, 0.0), (-5.0, 1.0, 0.0), (10.0, 0.0, 0.0), (10, 1, 1.5)]
)
def test_concession_rejects_bad_parameters(deadline: float, beta: float, k: float) -> None:
    with pytest.raises(ValueError):
        concession(1.0, deadline, beta, k)


# --------------------------------------------------------------------------- price_at


def test_price_at_hand_checked() -> None:
    buyer = TimeDependentTactic("buyer", 100, 300, 1.0, opened_s=10.0, deadline_s=110.0)
    assert buyer.party == "sponsor"
    assert buyer.price_at(10.0) == 100
    assert buyer.price_at(60.0) == 200
    assert buyer.price_at(110.0) == 300
    assert buyer.price_at(500.0) == 300  # no further than the reservation after the deadline
    seller = TimeDependentTactic("seller", 910, 500, 0.2, opened_s=0.0, deadline_s=100.0)
    assert seller.party == "station"
    assert seller.price_at(0.0) == 910
    assert seller.price_at(50.0) == 898  # 910 - 0.03125 * 410 = 897.19, rounded up for a seller
    assert seller.price_at(100.0) == 500
    conceder = TimeDependentTactic("buyer", 100, 310, 5.0, opened_s=0.0, deadline_s=100.0)
    assert conceder.price_at(50.0) == 282  # 100 + 0.87055 * 210 = 282.82, rounded down for a buyer


@pytest.mark.parametrize("name", list(TACTIC_BETAS))
def test_price_at_deadline_is_the_reservation(name: str) -> None:
    beta = TACTIC_BETAS[name]
    buyer = TimeDependentTactic("buyer", 123, 4567, beta, opened_s=7.0, deadline_s=7.0 + T)
    seller = TimeDependentTactic("seller", 9876, 555, beta, opened_s=7.0, deadline_s=7.0 + T)
    assert buyer.price_at(7.0 + T) == 4567
    assert seller.price_at(7.0 + T) == 555
    prices_b = [buyer.price_at(7.0 + T * i / 20) for i in range(21)]
    prices_s = [seller.price_at(7.0 + T * i / 20) for i in range(21)]
    assert prices_b == sorted(prices_b) and prices_b[0] == 123
    assert prices_s == sorted(prices_s, reverse=True) and prices_s[0] == 9876


@pytest.mark.parametrize(
    "args",
    [
        ("broker", 100, 200, 1.0, 0.0, 10.0),
        ("buyer", 300, 200, 1.0, 0.0, 10.0),  # buyer starting above its reservation
        ("seller", 100, 200, 1.0, 0.0, 10.0),  # seller starting below its reservation
        ("buyer", 0, 200, 1.0, 0.0, 10.0),
        ("buyer", 100, 200, 1.0, 10.0, 10.0),
    ],
)
def test_tactic_rejects_bad_setup(args: tuple) -> None:
    with pytest.raises(ValueError):
        TimeDependentTactic(*args)


# --------------------------------------------------------------------------- terms


def test_terms_describe_and_json() -> None:
    terms = Terms(
        80, spots_per_day=3, dayparts=("morning_drive",), upfront_fee_cents=500, copy="Fizz!"
    )
    expected = "3 spots/day for 7 days, morning drive, $0.80 per spot, $5.00 up front"
    assert terms.describe() == expected
    assert Terms(1250).describe() == "2 spots/day for 7 days, any daypart, $12.50 per spot"
    cpm = Terms(123456, pricing="cpm", spots_per_day=1, days=1, dayparts=("late", "evening"))
    assert cpm.describe() == (
        "1 spot/day for 1 day, late or evening, $1,234.56 per 1000 impressions (CPM)"
    )
    text = terms.to_json()
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert Terms.from_json(text) == terms
    assert Terms.from_json(text).to_json() == text
    cheaper = terms.with_price(60)
    assert cheaper.price_cents == 60 and terms.price_cents == 80
    assert cheaper.copy == "Fizz!" and cheaper.dayparts == ("morning_drive",)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"price_cents": 0},
        {"price_cents": -1},
        {"price_cents": 1.5},
        {"price_cents": 100, "pricing": "barter"},
        {"price_cents": 100, "days": 0},
        {"price_cents": 100, "spots_per_day": 0},
        {"price_cents": 100, "upfront_fee_cents": -1},
    ],
)
def test_terms_reject_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Terms(**kwargs)


# --------------------------------------------------------------------------- protocol


def test_offer_counter_accept_agrees_at_the_countered_price() -> None:
    book, events = make_book()
    agreed: list[tuple[str, float]] = []
    closed: list[str] = []
    book.on_agreed.append(lambda n, now: agreed.append((n.id, now)))
    book.on_closed.append(lambda n, now: closed.append(n.id))
    neg = book.open("fizz", "KPFM", Terms(500, copy="Drink Fizz"), now=0.0, deadline_s=100.0)
    assert neg.id == "N0001"
    assert (neg.turn, neg.proposed_by, neg.round) == ("station", "sponsor", 1)
    assert book.submit(neg.id, "station", "counter", 10.0, price_cents=800)
    assert (neg.turn, neg.proposed_by, neg.terms.price_cents) == ("sponsor", "station", 800)
    assert neg.terms.copy == "Drink Fizz"  # only the price changes
    assert book.submit(neg.id, "sponsor", "accept", 20.0)
    assert neg.status == "agreed" and neg.terms.price_cents == 800
    assert neg.turn is None and neg.closed_s == 20.0
    assert [(m.round, m.party, m.move, m.status_after) for m in neg.history] == [
        (1, "sponsor", "offer", "open"),
        (2, "station", "counter", "open"),
        (3, "sponsor", "accept", "agreed"),
    ]
    published = moves(events)
    assert [(e.round, e.party, e.move, e.status_after) for e in published] == [
        (m.round, m.party, m.move, m.status_after) for m in neg.history
    ]
    assert all(e.station == "KPFM" and e.counterparty == "fizz" for e in published)
    assert Terms.from_json(published[-1].terms_json).price_cents == 800
    assert [e.sim_time for e in published] == [0.0, 10.0, 20.0]
    assert agreed == [("N0001", 20.0)] and closed == []
    assert faults(events) == []


def test_turns_alternate_and_reject_closes() -> None:
    book, events = make_book()
    closed: list[tuple[str, str]] = []
    book.on_closed.append(lambda n, now: closed.append((n.id, n.status)))
    neg = book.open("fizz", "KPFM", Terms(500), now=0.0, deadline_s=100.0, max_rounds=10)
    prices = [900, 550, 850, 600]
    parties = itertools.cycle(["station", "sponsor"])
    for i, price in enumerate(prices):
        party = next(parties)
        assert neg.turn == party
        assert book.submit(neg.id, party, "counter", float(i + 1), price)
        assert neg.proposed_by == party and neg.terms.price_cents == price
    assert neg.turn == "station"
    assert book.submit(neg.id, "station", "reject", 9.0)
    assert neg.status == "rejected" and neg.terms.price_cents == 600
    assert [m.party for m in neg.history] == ["sponsor", "station"] * 3
    assert [m.round for m in neg.history] == [1, 2, 3, 4, 5, 6]
    assert closed == [("N0001", "rejected")]
    assert faults(events) == []


def test_expire_due_expires_open_negotiations_after_the_deadline() -> None:
    book, events = make_book()
    closed: list[str] = []
    book.on_closed.append(lambda n, now: closed.append(n.id))
    late = book.open("fizz", "KPFM", Terms(500), now=0.0, deadline_s=100.0)
    later = book.open("fizz", "KXYZ", Terms(500), now=0.0, deadline_s=300.0)
    done = book.open("cola", "KPFM", Terms(500), now=0.0, deadline_s=50.0)
    assert book.submit(done.id, "station", "accept", 10.0)
    assert book.expire_due(100.0) == []  # the deadline itself is still in time
    assert late.is_open
    assert book.expire_due(100.5) == [late]
    assert late.status == "expired" and later.is_open and done.status == "agreed"
    last = late.history[-1]
    assert (last.round, last.party, last.move) == (2, "book", "expire")
    assert last.status_after == "expired"
    assert moves(events)[-1].move == "expire" and moves(events)[-1].party == "book"
    assert book.expire_due(200.0) == []
    assert book.expire_due(301.0) == [later]
    assert closed == [late.id, later.id]
    assert faults(events) == []


def test_book_helpers_and_open_validation() -> None:
    book, _ = make_book()
    a = book.open("fizz", "KPFM", Terms(500), now=0.0, deadline_s=100.0)
    b = book.open("cola", "KPFM", Terms(500), now=1.0, deadline_s=100.0)
    c = book.open("cola", "KXYZ", Terms(500), now=2.0, deadline_s=100.0)
    assert [a.id, b.id, c.id] == ["N0001", "N0002", "N0003"]
    assert book.get("N0002") is b and book.get("N0042") is None
    assert book.open_for("KPFM") == [a, b]
    book.submit(a.id, "station", "reject", 3.0)
    assert book.open_for("KPFM") == [b] and book.open_for("KXYZ") == [c]
    with pytest.raises(ValueError):
        book.open("fizz", "KPFM", Terms(500), now=10.0, deadline_s=10.0)
    with pytest.raises(ValueError):
        book.open("fizz", "KPFM", Terms(500), now=0.0, deadline_s=10.0, max_rounds=1)
    with pytest.raises(ValueError):
        book.open("fizz", "KPFM", Terms(MAX_PRICE_CENTS + 1), now=0.0, deadline_s=10.0)
    assert len(book) == 3


# Each case: a setup run on a fresh negotiation (opened at 0, deadline 100, 6 rounds,
# 500c on the table, station to move), then the invalid submit, and words in the Fault.
Setup = Callable[[NegotiationBook, Negotiation], None]


def _nothing(book: NegotiationBook, neg: Negotiation) -> None:
    pass


def _reject(book: NegotiationBook, neg: Negotiation) -> None:
    assert book.submit(neg.id, "station", "reject", 1.0)


INVALID_UNCHANGED: list[tuple[str, Setup, tuple, str]] = [
    ("unknown id", _nothing, ("N9999", "station", "accept", 5.0), "no negotiation"),
    ("not open", _reject, ("N0001", "sponsor", "accept", 5.0), "already rejected"),
    ("wrong turn", _nothing, ("N0001", "sponsor", "counter", 5.0, 450), "not sponsor's turn"),
    ("unknown party", _nothing, ("N0001", "listener", "accept", 5.0), "unknown party"),
    ("unknown move", _nothing, ("N0001", "station", "haggle", 5.0, 600), "unknown move"),
    ("offer again", _nothing, ("N0001", "station", "offer", 5.0, 600), "opening move"),
    ("party expires", _nothing, ("N0001", "station", "expire", 5.0), "by the book"),
    ("no price", _nothing, ("N0001", "station", "counter", 5.0), "needs a price"),
    ("zero price", _nothing, ("N0001", "station", "counter", 5.0, 0), "must be positive"),
    ("negative", _nothing, ("N0001", "station", "counter", 5.0, -300), "must be positive"),
    ("absurd", _nothing, ("N0001", "station", "counter", 5.0, 10**12), "absurd"),
    ("fraction", _nothing, ("N0001", "station", "counter", 5.0, 612.5), "whole cents"),
    ("same price", _nothing, ("N0001", "station", "counter", 5.0, 500), "accept instead"),
    ("accept other", _nothing, ("N0001", "station", "accept", 5.0, 700), "to change the price"),
]


@pytest.mark.parametrize(
    ("setup", "args", "words"),
    [case[1:] for case in INVALID_UNCHANGED],
    ids=[case[0] for case in INVALID_UNCHANGED],
)
def test_invalid_moves_fault_and_change_nothing(setup: Setup, args: tuple, words: str) -> None:
    book, events = make_book()
    neg = book.open("fizz", "KPFM", Terms(500), now=0.0, deadline_s=100.0)
    setup(book, neg)
    before = snapshot(neg)
    published = len(events)
    assert book.submit(*args) is False
    assert snapshot(neg) == before
    new = events[published:]
    assert len(new) == 1 and isinstance(new[0], Fault)
    assert new[0].kind == "invalid_move" and words in new[0].detail
    assert new[0].sim_time == 5.0
    # filed under the party that moved: the station, or the sponsor's account
    mover = {"station": "KPFM", "sponsor": "sponsor:fizz"}.get(args[1], "")
    assert new[0].station == ("" if args[0] == "N9999" else mover)


def test_move_past_the_deadline_faults_and_expires() -> None:
    book, events = make_book()
    closed: list[str] = []
    book.on_closed.append(lambda n, now: closed.append(n.status))
    neg = book.open("fizz", "KPFM", Terms(500), now=0.0, deadline_s=100.0)
    assert book.submit(neg.id, "station", "counter", 100.0, 700)  # at the deadline: in time
    assert book.submit(neg.id, "sponsor", "accept", 100.01) is False
    assert neg.status == "expired" and neg.terms.price_cents == 700
    assert [m.move for m in neg.history] == ["offer", "counter", "expire"]
    (fault,) = faults(events)
    assert fault.kind == "invalid_move" and "past the deadline" in fault.detail
    assert closed == ["expired"]
    assert book.submit(neg.id, "sponsor", "accept", 100.02) is False  # stays closed
    assert [m.move for m in neg.history] == ["offer", "counter", "expire"]


def test_counter_in_the_last_round_faults_and_expires() -> None:
    book, events = make_book()
    neg = book.open("fizz", "KPFM", Terms(500), now=0.0, deadline_s=100.0, max_rounds=3)
    assert book.submit(neg.id, "station", "counter", 1.0, 900)
    # Round 3 of 3 is the last: only accept or reject can end it.
    assert book.submit(neg.id, "sponsor", "counter", 2.0, 600) is False
    assert neg.status == "expired" and neg.terms.price_cents == 900
    assert len(neg.history) == neg.max_rounds
    (fault,) = faults(events)
    assert fault.kind == "invalid_move" and "round limit" in fault.detail


def test_accept_in_the_last_round_is_allowed() -> None:
    book, _ = make_book()
    neg = book.open("fizz", "KPFM", Terms(500), now=0.0, deadline_s=100.0, max_rounds=2)
    assert book.submit(neg.id, "station", "accept", 1.0, 500)  # naming the table price is fine
    assert neg.status == "agreed" and neg.round == 2


def test_moved_event_row_is_stored(engine: Engine) -> None:
    book, events = make_book()
    neg = book.open("fizz", "KPFM", Terms(500, dayparts=("evening",)), now=3.0, deadline_s=90.0)
    book.submit(neg.id, "station", "counter", 4.5, 650)
    rows = [e.row() for e in moves(events)]
    columns = set(NegotiationRow.model_fields) - {"id", "run_id"}
    assert all(set(r) == columns for r in rows)
    with Session(engine) as session:
        session.add_all(NegotiationRow(run_id="r1", **r) for r in rows)
        session.commit()
        stored = session.exec(select(NegotiationRow).order_by(NegotiationRow.round)).all()
    assert [(s.round, s.move, s.party, s.sim_time_s) for s in stored] == [
        (1, "offer", "sponsor", 3.0),
        (2, "counter", "station", 4.5),
    ]
    assert stored[1].negotiation_id == "N0001" and stored[1].counterparty == "fizz"
    assert stored[1].station == "KPFM" and stored[1].status_after == "open"
    assert Terms.from_json(stored[1].terms_json) == Terms(650, dayparts=("evening",))


# --------------------------------------------------------------------------- decide


def test_decide_ac_next_last_round_and_deadline() -> None:
    book, _ = make_book()
    neg = book.open("fizz", "KPFM", Terms(700), now=0.0, deadline_s=100.0, max_rounds=10)
    seller = TimeDependentTactic("seller", 1000, 600, 1.0, 0.0, 100.0)
    # At t=50 the seller would ask 800: 700 is worse, so it counters with 800.
    assert seller.decide(neg, 50.0) == ("counter", 800)
    # At t=80 it would ask 680: 700 is at least as good, so it accepts (AC_next).
    assert seller.decide(neg, 80.0) == ("accept", None)
    with pytest.raises(ValueError):
        TimeDependentTactic("buyer", 100, 900, 1.0, 0.0, 100.0).decide(neg, 1.0)  # not its turn

    last = book.open("fizz", "KPFM", Terms(650), now=0.0, deadline_s=100.0, max_rounds=2)
    assert seller.decide(last, 10.0) == ("accept", None)  # last round, within reservation
    low = book.open("fizz", "KPFM", Terms(550), now=0.0, deadline_s=100.0, max_rounds=2)
    assert seller.decide(low, 10.0) == ("reject", None)  # last round, below reservation

    stuck = book.open("fizz", "KPFM", Terms(300), now=0.0, deadline_s=100.0, max_rounds=10)
    assert seller.decide(stuck, 100.0) == ("counter", 600)  # reservation not yet proposed
    book.submit(stuck.id, "station", "counter", 100.0, 600)
    book.submit(stuck.id, "sponsor", "counter", 100.0, 400)
    assert seller.decide(stuck, 100.0) == ("reject", None)  # nothing new left to propose

    # Its final price was answered before the deadline: repeat it once at the deadline.
    again = book.open("fizz", "KPFM", Terms(300), now=0.0, deadline_s=100.0, max_rounds=10)
    book.submit(again.id, "station", "counter", 90.0, 600)
    book.submit(again.id, "sponsor", "counter", 95.0, 400)
    assert seller.decide(again, 100.0) == ("counter", 600)


# --------------------------------------------------------------------------- convergence


def play(
    buyer_name: str,
    seller_name: str,
    buyer_prices: tuple[int, int],
    seller_prices: tuple[int, int],
    *,
    step_s: float = T / 40,
    max_rounds: int = 100,
) -> tuple[Negotiation, list[Event]]:
    book, events = make_book()
    buyer = TimeDependentTactic("buyer", *buyer_prices, TACTIC_BETAS[buyer_name], 0.0, T)
    seller = TimeDependentTactic("seller", *seller_prices, TACTIC_BETAS[seller_name], 0.0, T)
    neg = book.open(
        "fizz", "KPFM", Terms(buyer.price_at(0.0)), now=0.0, deadline_s=T, max_rounds=max_rounds
    )
    return run_bilateral(book, neg, buyer, seller, step_s), events


PAIRS = list(itertools.product(TACTIC_BETAS, repeat=2))


@pytest.mark.parametrize(("buyer_name", "seller_name"), PAIRS)
def test_overlapping_reservations_agree_between_them(buyer_name: str, seller_name: str) -> None:
    neg, events = play(buyer_name, seller_name, (200, 700), (1200, 500))
    assert neg.status == "agreed"
    assert 500 <= neg.terms.price_cents <= 700
    assert neg.closed_s is not None and neg.closed_s <= neg.deadline_s
    assert faults(events) == []


def test_conceders_agree_sooner_than_boulwares() -> None:
    fast, _ = play("conceder", "conceder", (200, 700), (1200, 500))
    slow, _ = play("boulware", "boulware", (200, 700), (1200, 500))
    assert fast.status == slow.status == "agreed"
    assert fast.round < slow.round
    assert fast.closed_s is not None and slow.closed_s is not None
    assert fast.closed_s < slow.closed_s


@pytest.mark.parametrize(("buyer_name", "seller_name"), PAIRS)
def test_disjoint_reservations_never_agree(buyer_name: str, seller_name: str) -> None:
    neg, events = play(buyer_name, seller_name, (200, 450), (1200, 500))
    assert neg.status in ("rejected", "expired")
    assert faults(events) == []
    short, _ = play(buyer_name, seller_name, (200, 450), (1200, 500), max_rounds=4)
    assert short.status in ("rejected", "expired")


def test_run_bilateral_starting_past_the_deadline_expires() -> None:
    book, _ = make_book()
    buyer = TimeDependentTactic("buyer", 200, 700, 1.0, 0.0, T)
    seller = TimeDependentTactic("seller", 1200, 500, 1.0, 0.0, T)
    neg = book.open("fizz", "KPFM", Terms(200), now=0.0, deadline_s=T)
    run_bilateral(book, neg, buyer, seller, step_s=10.0, start_s=T + 1)
    assert neg.status == "expired" and [m.move for m in neg.history] == ["offer", "expire"]


# --------------------------------------------------------------------------- property

betas = st.sampled_from(sorted(TACTIC_BETAS.values())) | st.floats(0.05, 20.0)


@given(
    buyer_lo=st.integers(1, 5_000),
    buyer_span=st.integers(0, 5_000),
    seller_res=st.integers(1, 8_000),
    seller_span=st.integers(0, 5_000),
    buyer_beta=betas,
    seller_beta=betas,
    max_rounds=st.integers(2, 30),
    steps=st.integers(1, 40),
)
@settings(max_examples=300, deadline=None)
def test_agreements_respect_both_reservations_and_closed_means_closed(
    buyer_lo: int,
    buyer_span: int,
    seller_res: int,
    seller_span: int,
    buyer_beta: float,
    seller_beta: float,
    max_rounds: int,
    steps: int,
) -> None:
    book, events = make_book()
    buyer = TimeDependentTactic("buyer", buyer_lo, buyer_lo + buyer_span, buyer_beta, 0.0, T)
    seller = TimeDependentTactic(
        "seller", seller_res + seller_span, seller_res, seller_beta, 0.0, T
    )
    neg = book.open("fizz", "KPFM", Terms(buyer_lo), 0.0, T, max_rounds=max_rounds)
    run_bilateral(book, neg, buyer, seller, step_s=T / steps)

    assert not neg.is_open
    assert faults(events) == []
    if neg.status == "agreed":
        assert seller.reservation_cents <= neg.terms.price_cents <= buyer.reservation_cents
    elif buyer.reservation_cents >= seller.reservation_cents and max_rounds > 2 * steps + 4:
        pytest.fail("overlapping reservations with rounds to spare should agree")
    assert len(neg.history) <= max_rounds
    statuses = [m.status_after for m in neg.history]
    assert statuses == ["open"] * (len(statuses) - 1) + [neg.status]
    published = [e.status_after for e in moves(events)]
    assert published == statuses
    times = [m.sim_time_s for m in neg.history]
    assert times == sorted(times) and times[-1] <= T

    # Nothing moves a closed negotiation.
    before = snapshot(neg)
    for party, move in itertools.product(("sponsor", "station"), ("counter", "accept", "reject")):
        assert book.submit(neg.id, party, move, times[-1], 1) is False
    assert snapshot(neg) == before
    assert len(faults(events)) == 6 and len(moves(events)) == len(statuses)
