"""Servers for provider tests, all on loopback (the test machines have no internet).

One server per module: the real llama.cpp server is ``testkit.llama_server``, the scripted
ones ``testkit.openai_server`` and ``testkit.anthropic_server`` (what they share:
``testkit.scripted``); this module gathers them, with ``SleepRecorder``, for one import.

* ``llama_server()``: the real OpenAI-compatible ``llama_cpp.server`` serving the
  bundled SmolLM2 GGUF; ``llama_server_fixture()`` wraps it as a pytest fixture.
* ``ScriptedOpenAIServer``: a tiny Chat Completions server; each request gets the
  next scripted ``Behaviour`` (or, once the script is spent, a valid tool call
  after ``delay_s``: the fixed-latency mode for dispatch benchmarks).
* ``ScriptedAnthropic``: an ``httpx2.MockTransport`` handler speaking the Messages
  API wire format, scripted the same way and recording what it was sent.

Usage::

    llama_server_url = llama_server_fixture()  # module level: a session fixture

    def test_x(llama_server_url: str) -> None:
        provider = OpenAIProvider(api_key="sk-local", base_url=llama_server_url)

    with ScriptedOpenAIServer(Behaviour.status(429, retry_after="1"), Behaviour.ok()) as srv:
        provider = OpenAIProvider(api_key="sk-test", base_url=srv.base_url)

    with ScriptedOpenAIServer(delay_s=0.2) as srv:  # every request: a tool call after 0.2 s
        ...
        assert srv.max_in_flight > 1

    mock = ScriptedAnthropic(Behaviour.status(529), Behaviour.ok())
    provider = AnthropicProvider(api_key="sk-ant-test", http_client=mock.client())
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from testkit.anthropic_server import ScriptedAnthropic
from testkit.llama_server import (
    LLAMA_MODEL_ALIAS,
    free_port,
    llama_server,
    llama_server_available,
    llama_server_command,
    llama_server_fixture,
    stop_process,
)
from testkit.openai_server import ScriptedOpenAIServer
from testkit.scripted import (
    FILLER,
    MALFORMED_ARGUMENTS,
    Arguments,
    Behaviour,
    Kind,
    RecordedRequest,
    schema_instance,
)

__all__ = [
    "FILLER",
    "LLAMA_MODEL_ALIAS",
    "MALFORMED_ARGUMENTS",
    "Arguments",
    "Behaviour",
    "Kind",
    "RecordedRequest",
    "ScriptedAnthropic",
    "ScriptedOpenAIServer",
    "SleepRecorder",
    "free_port",
    "llama_server",
    "llama_server_available",
    "llama_server_command",
    "llama_server_fixture",
    "schema_instance",
    "stop_process",
]


@dataclass(slots=True)
class SleepRecorder:
    """A ``sleep`` stand-in for providers and ``call_with_retries``: records, sleeps ``cap``."""

    cap: float = 0.0
    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.cap > 0:
            time.sleep(min(seconds, self.cap))
