"""The openai provider, through the official SDK: a real llama.cpp server and a scripted one."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sim.models.base import ModelRequest, ModelResponse, ProviderError
from sim.models.openai_provider import OpenAIProvider
from sim.models.retry import RetryPolicy
from sim.models.wrappers import Retry
from stations.turn import TurnError, parse_turn, turn_schema
from testkit.servers import (
    MALFORMED_ARGUMENTS,
    Behaviour,
    ScriptedOpenAIServer,
    SleepRecorder,
)

KEY = "sk-test-DO-NOT-LEAK-0123456789"
SONGS = ["s0001", "s0002", "s0003", "s0004"]
FOR_SALE = ["s0100", "s0101"]
FAST = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=0.05, jitter=0.25)


def turn_request(max_tokens: int = 400) -> ModelRequest:
    return ModelRequest(
        station="KPFM",
        provider="openai",
        model="smollm2",
        system="You are the DJ of KPFM, a friendly late-night radio station. Be warm and brief.",
        messages=[
            {
                "role": "user",
                "content": "Songs you can play: s0001 Night Drive, s0002 Blue Hour, "
                "s0003 Low Tide, s0004 Streetlights. Songs for sale: s0100, s0101. "
                "Talk to your listeners and pick 3-4 songs to play next.",
            }
        ],
        schema=turn_schema(SONGS, FOR_SALE),
        params={"temperature": 0.8, "top_p": 0.95, "max_tokens": max_tokens, "seed": 11},
    )


def scripted_provider(
    server: ScriptedOpenAIServer,
    sleep: SleepRecorder | None = None,
    retry: RetryPolicy = FAST,
    **kwargs: Any,
) -> Retry:
    kwargs.setdefault("timeout_s", 5.0)
    provider = OpenAIProvider(api_key=KEY, base_url=server.base_url, **kwargs)
    return Retry(provider, retry, sleep=sleep or SleepRecorder())


def assert_valid_turn(response: ModelResponse) -> None:
    assert response.ok, response.error
    turn = parse_turn(response.text)
    assert 3 <= len(turn.queue) <= 4 and set(turn.queue) <= set(SONGS)
    assert set(turn.buy) <= set(FOR_SALE)
    assert 40 <= len(turn.talk) <= 200
    assert response.input_tokens > 0 and response.output_tokens > 0
    assert response.latency_s > 0


# -- the real llama.cpp server -------------------------------------------------------------


@pytest.mark.parametrize(("structured", "finish"), [("tool", "tool_calls"), ("json", "stop")])
def test_llama_server_answers_a_forced_turn(
    llama_server_url: str, structured: str, finish: str
) -> None:
    provider = OpenAIProvider(
        api_key="sk-local",
        base_url=llama_server_url,
        structured=structured,
        timeout_s=60,
    )  # no Retry around it: a retry would only queue behind the slow call
    response = provider.complete(turn_request())
    assert_valid_turn(response)
    assert response.finish_reason == finish


# -- the scripted server: wire format ------------------------------------------------------


def test_forced_tool_call_wire_format() -> None:
    request = turn_request()
    with ScriptedOpenAIServer() as server:
        response = scripted_provider(server).complete(request)
    assert_valid_turn(response)  # the server's default answer is a minimal valid turn
    assert response.finish_reason == "tool_calls"
    (sent,) = server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    body = sent.body
    assert body["model"] == "smollm2"
    assert body["messages"] == request.full_messages()
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "station_turn",
                "description": body["tools"][0]["function"]["description"],
                "parameters": request.schema,
            },
        }
    ]
    assert body["tools"][0]["function"]["description"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "station_turn"}}
    assert "response_format" not in body
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
        0.8,
        0.95,
        400,
        11,
    )


def test_json_mode_wire_format_and_tool_name() -> None:
    request = turn_request()
    request.tool_name = "kpfm_turn"
    with ScriptedOpenAIServer() as server:
        response = scripted_provider(server, structured="json").complete(request)
        tool = scripted_provider(server).complete(request)
    assert_valid_turn(response)
    assert response.finish_reason == "stop"
    json_body, tool_body = (r.body for r in server.requests)
    assert json_body["response_format"] == {"type": "json_object", "schema": request.schema}
    assert "tools" not in json_body and "tool_choice" not in json_body
    assert tool_body["tool_choice"]["function"]["name"] == "kpfm_turn"
    assert tool_body["tools"][0]["function"]["name"] == "kpfm_turn"
    assert tool.ok


def test_plain_content_is_used_when_a_server_ignores_the_tool() -> None:
    with ScriptedOpenAIServer(Behaviour.content('{"talk": "plain"}')) as server:
        response = scripted_provider(server).complete(turn_request())
    assert response.ok and response.text == '{"talk": "plain"}'
    assert response.finish_reason == "stop"


# -- the scripted server: retries ----------------------------------------------------------


def test_rate_limit_honours_retry_after_then_succeeds() -> None:
    sleep = SleepRecorder()
    script = (Behaviour.status(429, retry_after="1"), Behaviour.ok())
    with ScriptedOpenAIServer(*script) as server:
        provider = scripted_provider(
            server, sleep, retry=RetryPolicy(base_delay_s=0.01, max_delay_s=5.0)
        )
        response = provider.complete(turn_request())
    assert_valid_turn(response)
    assert server.count == 2
    assert sleep.calls == [1.0]  # Retry-After, not the 0.01 s backoff
    assert provider.retries == 1


def test_retry_after_is_capped_and_really_waited() -> None:
    script = (Behaviour.status(429, retry_after="30"), Behaviour.ok())
    with ScriptedOpenAIServer(*script) as server:
        provider = Retry(
            OpenAIProvider(api_key=KEY, base_url=server.base_url), RetryPolicy(max_delay_s=0.2)
        )
        start = time.perf_counter()
        response = provider.complete(turn_request())
        elapsed = time.perf_counter() - start
    assert response.ok and server.count == 2
    assert 0.2 <= response.latency_s <= elapsed < 5  # latency covers the retry and its wait


def test_server_error_burst_longer_than_retries_fails() -> None:
    burst = [Behaviour.status(500, message="The server had an error")] * 5
    with ScriptedOpenAIServer(*burst) as server:
        provider = scripted_provider(server)
        response = provider.complete(turn_request())
    assert not response.ok and response.text == ""
    assert response.error is not None
    assert "InternalServerError" in response.error and "HTTP 500" in response.error
    assert "after 4 attempts" in response.error and "The server had an error" in response.error
    assert server.count == 4 and server.script.remaining == 1  # 1 try + max_retries=3
    assert provider.retries == 3 and provider.failures == 1


def test_mixed_5xx_and_dropped_connection_recover() -> None:
    script = (Behaviour.status(503), Behaviour.disconnect(), Behaviour.status(500), Behaviour.ok())
    sleep = SleepRecorder()
    with ScriptedOpenAIServer(*script) as server:
        response = scripted_provider(server, sleep).complete(turn_request())
    assert_valid_turn(response)
    assert server.count == 4 and len(sleep.calls) == 3


def test_timeout_is_retried_then_reported() -> None:
    with ScriptedOpenAIServer(Behaviour.sleep(3.0), Behaviour.ok()) as server:
        provider = scripted_provider(server, timeout_s=0.5)
        response = provider.complete(turn_request())
    assert_valid_turn(response)
    assert server.count == 2 and provider.retries == 1

    with ScriptedOpenAIServer(Behaviour.sleep(3.0), Behaviour.sleep(3.0)) as server:
        provider = scripted_provider(server, timeout_s=0.5, retry=RetryPolicy(max_retries=1))
        response = provider.complete(turn_request())
    assert not response.ok and response.error is not None
    assert response.error.startswith("APITimeoutError, after 2 attempts")
    assert server.count == 2
    assert 1.0 <= response.latency_s < 3.0


def test_client_errors_are_not_retried() -> None:
    for status in (400, 404, 422):
        with ScriptedOpenAIServer(Behaviour.status(status), Behaviour.ok()) as server:
            provider = scripted_provider(server)
            response = provider.complete(turn_request())
        assert not response.ok and response.error is not None
        assert f"HTTP {status}, after 1 attempt:" in response.error
        assert server.count == 1 and provider.retries == 0


# -- the scripted server: bad answers ------------------------------------------------------


def test_malformed_arguments_come_back_raw_for_the_parser() -> None:
    with ScriptedOpenAIServer(Behaviour.malformed()) as server:
        response = scripted_provider(server).complete(turn_request())
    assert response.ok and response.text == MALFORMED_ARGUMENTS
    with pytest.raises(TurnError, match="not JSON"):
        parse_turn(response.text)
    assert server.count == 1


def test_empty_answer_is_a_failure() -> None:
    with ScriptedOpenAIServer(Behaviour.empty()) as server:
        response = scripted_provider(server).complete(turn_request())
    assert not response.ok and response.error == "empty response" and response.text == ""
    assert response.input_tokens > 0  # usage is still reported
    assert server.count == 1


def test_the_api_key_never_appears_in_errors() -> None:
    echo = "Incorrect API key provided: {key}. You can find your API key at ..."
    script = [
        Behaviour.status(401, message=echo),
        Behaviour.status(400, message=f"bad request from {{key}}: {echo}"),
        *[Behaviour.status(500, message=echo)] * 2,
        Behaviour.sleep(3.0),
        Behaviour.disconnect(),
    ]
    with ScriptedOpenAIServer(*script) as server:
        provider = scripted_provider(server, timeout_s=0.5, retry=RetryPolicy(max_retries=1))
        errors = [provider.complete(turn_request()).error for _ in range(4)]
    assert server.count == 6 and all(errors)
    assert KEY in server.requests[0].headers["authorization"]  # the key did travel
    for error in errors:
        assert error is not None and KEY not in error
    assert "[redacted]" in (errors[1] or "")  # the 400's message is kept, minus the key
    assert KEY not in repr(provider)


def test_bad_setup_raises_provider_error() -> None:
    with pytest.raises(ProviderError):
        OpenAIProvider(api_key=KEY, structured="xml")
    with pytest.raises(ProviderError):
        OpenAIProvider(api_key="")


# -- the fixed-delay mode other tests use for dispatch benchmarks --------------------------


def test_fixed_delay_mode_serves_requests_concurrently() -> None:
    with ScriptedOpenAIServer(delay_s=0.3) as server:
        provider = scripted_provider(server)
        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(lambda _: provider.complete(turn_request()), range(8)))
    assert all(r.ok for r in responses)
    for response in responses:
        assert_valid_turn(response)
        assert response.latency_s >= 0.3
    # parallel, not one after another: the server saw them in flight together
    # (the wall-clock speedup is measured by bench/dispatch.py)
    assert server.count == 8 and server.max_in_flight >= 4


def test_unexpected_errors_are_reported_not_raised() -> None:
    with ScriptedOpenAIServer() as server:
        provider = scripted_provider(server)
        assert provider.complete(turn_request()).ok
        provider.close()
        response = provider.complete(turn_request())  # the client's pool is closed: a bug
    assert not response.ok and response.error is not None
    assert "after 1 attempt" in response.error and server.count == 1
