"""Recorded responses served back in order: exact re-runs, and the prefix of a fork.

Responses are matched per caller (station or sponsor account) in the order the
calls were made. Each request's hash is compared with the recorded one; the
first difference is kept so a re-run can say where it diverged.

After a fork's point, ``answer_if_same`` goes on serving a caller's recording as
long as its requests are the very ones recorded (same prompt, observation, model
and parameters, by hash): the recorded answer is a real answer to that request,
so only callers whose requests changed go live, and they stay live.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from sim.events import ModelCallRow
from sim.models.base import ModelRequest, ModelResponse


@dataclass(slots=True, frozen=True)
class RecordedCall:
    seq: int
    station: str
    sim_time_s: float
    request_hash: str
    response: ModelResponse


@dataclass(slots=True, frozen=True)
class Divergence:
    station: str
    call_index: int  # 0-based, among this caller's calls
    recorded_seq: int | None
    recorded_sim_time_s: float | None
    sim_time_s: float
    recorded_hash: str | None
    request_hash: str

    def describe(self) -> str:
        if self.recorded_hash is None:
            return (
                f"{self.station} call #{self.call_index + 1} at t={self.sim_time_s:.1f}s "
                "has no recorded response (the recorded run made fewer calls)"
            )
        return (
            f"{self.station} call #{self.call_index + 1} (recorded seq {self.recorded_seq}, "
            f"t={self.recorded_sim_time_s:.1f}s; now t={self.sim_time_s:.1f}s): request hash "
            f"{self.request_hash[:12]} differs from the recorded {self.recorded_hash[:12]}"
        )


NO_RECORDING = "no recorded response for this request (the replayed run diverged)"


class Replay:
    def __init__(self, calls: Iterable[RecordedCall]) -> None:
        self._queues: dict[str, deque[RecordedCall]] = {}
        for call in sorted(calls, key=lambda c: c.seq):
            self._queues.setdefault(call.station, deque()).append(call)
        self._served: dict[str, int] = {}
        self._live: set[str] = set()  # callers whose requests left the recording
        self.first_divergence: Divergence | None = None
        self.served = 0
        self.served_after_fork = 0

    @classmethod
    def from_store(cls, engine: Engine, run_id: str) -> Replay:
        t = ModelCallRow.__table__  # type: ignore[attr-defined]
        q = select(t).where(t.c.run_id == run_id).order_by(t.c.seq)
        with engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return cls(
            RecordedCall(
                seq=r["seq"],
                station=r["station"],
                sim_time_s=r["sim_time_s"],
                request_hash=r["request_hash"],
                response=ModelResponse(
                    text=r["response_text"],
                    input_tokens=r["input_tokens"],
                    output_tokens=r["output_tokens"],
                    latency_s=r["latency_s"],
                    ok=r["ok"],
                    error=r["error"],
                    finish_reason=r["finish_reason"],
                ),
            )
            for r in rows
        )

    def answer(self, request: ModelRequest, request_hash: str, now: float) -> ModelResponse:
        """The recorded response to this caller's next call (an error response if none)."""
        index = self._served.get(request.station, 0)
        self._served[request.station] = index + 1
        queue = self._queues.get(request.station)
        if not queue:
            self._diverged(Divergence(request.station, index, None, None, now, None, request_hash))
            return ModelResponse(text="", ok=False, error=NO_RECORDING)
        call = queue.popleft()
        if call.request_hash != request_hash:
            self._diverged(
                Divergence(
                    request.station,
                    index,
                    call.seq,
                    call.sim_time_s,
                    now,
                    call.request_hash,
                    request_hash,
                )
            )
        self.served += 1
        return call.response

    def answer_if_same(self, request: ModelRequest, request_hash: str) -> ModelResponse | None:
        """The recorded response if this caller's next recorded call made this very request;
        else ``None``, and this caller is live from now on."""
        station = request.station
        queue = self._queues.get(station)
        if station in self._live or not queue or queue[0].request_hash != request_hash:
            self._live.add(station)
            return None
        self._served[station] = self._served.get(station, 0) + 1
        self.served += 1
        self.served_after_fork += 1
        return queue.popleft().response

    def go_live(self, callers: Iterable[str]) -> None:
        """These callers' answers past a fork's point come live whatever they ask: their
        model changed in a way a request does not show (a persona, a chaos setting)."""
        self._live.update(callers)

    @property
    def callers(self) -> list[str]:
        return sorted(self._queues)

    @property
    def live_callers(self) -> list[str]:
        """Callers that went live after a fork's point (their requests changed)."""
        return sorted(self._live)

    def _diverged(self, divergence: Divergence) -> None:
        if self.first_divergence is None:
            self.first_divergence = divergence
