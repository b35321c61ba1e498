"""The anthropic provider, through the official SDK, against a scripted Messages API transport."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from sim.models.anthropic_provider import AnthropicProvider
from sim.models.base import ModelRequest, ProviderError
from sim.models.retry import RetryPolicy
from sim.models.wrappers import Retry
from stations.turn import parse_turn, turn_schema
from testkit.servers import Behaviour, ScriptedAnthropic, SleepRecorder

KEY = "sk-ant-test-DO-NOT-LEAK-9876543210"
SONGS = ["s0001", "s0002", "s0003", "s0004"]
FAST = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=0.05)
TURN = {
    "talk": "Good evening, night owls. Here is a little something for the drive home.",
    "queue": ["s0003", "s0001", "s0004"],
    "buy": [],
    "search": "jazz",
    "notes": "owls like jazz",
    "ask_donations": False,
}


def turn_request(**params: Any) -> ModelRequest:
    return ModelRequest(
        station="KPFM",
        provider="anthropic",
        model="claude-test-1",
        system="You are the DJ of KPFM, a friendly late-night radio station.",
        messages=[{"role": "user", "content": "Pick 3-4 songs: s0001 s0002 s0003 s0004."}],
        schema=turn_schema(SONGS, ["s0100"]),
        params=params or {"temperature": 0.7, "top_p": 0.9, "max_tokens": 321, "seed": 5},
    )


def provider_for(
    mock: ScriptedAnthropic,
    sleep: SleepRecorder | None = None,
    retry: RetryPolicy = FAST,
    **kwargs: Any,
) -> Retry:
    provider = AnthropicProvider(api_key=KEY, http_client=mock.client(), **kwargs)
    return Retry(provider, retry, sleep=sleep or SleepRecorder())


def test_wire_format_and_tool_use_answer() -> None:
    mock = ScriptedAnthropic(Behaviour.ok(TURN))
    request = turn_request()
    response = provider_for(mock).complete(request)
    assert response.ok, response.error
    assert json.loads(response.text) == TURN
    assert parse_turn(response.text).queue == ["s0003", "s0001", "s0004"]
    assert response.finish_reason == "tool_use"
    assert response.input_tokens > 0 and response.output_tokens > 0
    (sent,) = mock.requests
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    # anthropic >= 2 sends the API key as a bearer token (no x-api-key header)
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["anthropic-version"]
    assert sent.headers["x-stainless-retry-count"] == "0"  # the SDK's own retries are off
    body = sent.body
    assert body["model"] == "claude-test-1"
    assert body["system"] == request.system
    assert body["messages"] == request.messages  # the system prompt is not a message
    assert body["max_tokens"] == 321
    assert body["temperature"] == 0.7
    assert "top_p" not in body and "seed" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "station_turn"}
    (tool,) = body["tools"]
    assert tool["name"] == "station_turn" and tool["description"]
    assert tool["input_schema"] == request.schema


def test_usage_and_defaults() -> None:
    mock = ScriptedAnthropic()  # no script: a minimal valid turn built from the schema
    request = turn_request(temperature=None)
    request.system = ""
    request.tool_name = "kpfm_turn"
    response = provider_for(mock).complete(request)
    assert response.ok
    turn = parse_turn(response.text)
    assert len(turn.queue) == 3 and set(turn.queue) <= set(SONGS)
    body = mock.requests[0].body
    assert body["max_tokens"] == 1024  # required by the API, so always sent
    assert "system" not in body and "temperature" not in body
    assert body["tool_choice"]["name"] == body["tools"][0]["name"] == "kpfm_turn"

    class Usage(ScriptedAnthropic):
        def handle(self, request: httpx2.Request) -> httpx2.Response:
            reply = super().handle(request)
            payload = json.loads(reply.content)
            payload["usage"] = {"input_tokens": 1234, "output_tokens": 56}
            return httpx2.Response(200, json=payload)

    response = provider_for(Usage(Behaviour.ok(TURN))).complete(turn_request())
    assert (response.input_tokens, response.output_tokens) == (1234, 56)


def test_rate_limit_honours_retry_after_then_succeeds() -> None:
    mock = ScriptedAnthropic(Behaviour.status(429, retry_after="2"), Behaviour.ok(TURN))
    sleep = SleepRecorder()
    provider = provider_for(mock, sleep, retry=RetryPolicy(base_delay_s=0.01, max_delay_s=10))
    response = provider.complete(turn_request())
    assert response.ok and json.loads(response.text) == TURN
    assert mock.count == 2 and sleep.calls == [2.0]
    assert provider.retries == 1
    assert [r.headers["x-stainless-retry-count"] for r in mock.requests] == ["0", "0"]


@pytest.mark.parametrize("status", [529, 500])
def test_server_error_burst_is_exhausted(status: int) -> None:
    mock = ScriptedAnthropic(*[Behaviour.status(status, message="Overloaded")] * 6)
    sleep = SleepRecorder()
    provider = provider_for(mock, sleep)
    response = provider.complete(turn_request())
    assert not response.ok and response.text == "" and response.error is not None
    assert f"HTTP {status}, after 4 attempts: Overloaded" in response.error
    expected = "OverloadedError" if status == 529 else "InternalServerError"
    assert response.error.startswith(expected)
    assert mock.count == 4 and len(sleep.calls) == 3
    for delay, nominal in zip(sleep.calls, [0.01, 0.02, 0.04], strict=True):
        assert nominal * 0.75 <= delay <= nominal * 1.25
    assert provider.failures == 1


def test_overload_then_timeout_then_disconnect_recover() -> None:
    script = (
        Behaviour.status(529),
        Behaviour.sleep(1),
        Behaviour.disconnect(),
        Behaviour.ok(TURN),
    )
    mock = ScriptedAnthropic(*script)
    provider = provider_for(mock)
    response = provider.complete(turn_request())
    assert response.ok and mock.count == 4 and provider.retries == 3


def test_timeouts_exhausted() -> None:
    mock = ScriptedAnthropic(*[Behaviour.sleep(1)] * 2)
    response = provider_for(mock, retry=RetryPolicy(max_retries=1)).complete(turn_request())
    assert not response.ok and response.error is not None
    assert response.error.startswith("APITimeoutError, after 2 attempts")


def test_bad_request_is_not_retried() -> None:
    mock = ScriptedAnthropic(Behaviour.status(400, message="tools.0: bad schema"), Behaviour.ok())
    provider = provider_for(mock)
    response = provider.complete(turn_request())
    assert not response.ok and response.error is not None
    assert response.error == "BadRequestError, HTTP 400, after 1 attempt: tools.0: bad schema"
    assert mock.count == 1 and provider.retries == 0


def test_empty_content_is_a_failure_and_text_is_a_fallback() -> None:
    mock = ScriptedAnthropic(Behaviour.empty(), Behaviour.content('{"talk": "prose"}'))
    provider = provider_for(mock)
    empty = provider.complete(turn_request())
    assert not empty.ok and empty.error == "empty response" and empty.text == ""
    assert empty.finish_reason == "end_turn"
    prose = provider.complete(turn_request())
    assert prose.ok and prose.text == '{"talk": "prose"}'
    assert mock.count == 2


def test_the_api_key_never_appears_in_errors() -> None:
    echo = "invalid x-api-key: {key}"
    mock = ScriptedAnthropic(
        Behaviour.status(401, message=echo),
        Behaviour.status(400, message=echo),
        *[Behaviour.status(529, message=echo)] * 2,
    )
    provider = provider_for(mock, retry=RetryPolicy(max_retries=1, base_delay_s=0.01))
    errors = [provider.complete(turn_request()).error for _ in range(3)]
    assert mock.count == 4
    for error in errors:
        assert error is not None and KEY not in error
    assert errors[1] == "BadRequestError, HTTP 400, after 1 attempt: invalid x-api-key: [redacted]"
    assert KEY not in repr(provider)


def test_mock_rejects_what_the_api_rejects() -> None:
    """The transport is strict enough for the wire-format tests to mean something."""
    # two scripted answers; requests the API rejects up front must not use one up
    mock = ScriptedAnthropic(Behaviour.content("first answer"), Behaviour.content("second"))
    with mock.client() as client:
        good = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
        url = "https://api.anthropic.com/v1/messages"
        first = client.post(url, json=good, headers=headers)
        assert first.status_code == 200
        assert first.json()["content"] == [{"type": "text", "text": "first answer"}]
        assert mock.script.remaining == 1
        no_key = client.post(url, json=good, headers={"anthropic-version": "2023-06-01"})
        assert no_key.status_code == 401
        assert no_key.json() == {
            "type": "error",
            "error": {
                "type": "authentication_error",
                "message": "missing API key (x-api-key or Authorization: Bearer)",
            },
        }
        no_max = client.post(url, json={**good, "max_tokens": None}, headers=headers)
        assert no_max.status_code == 400
        assert no_max.json()["error"] == {
            "type": "invalid_request_error",
            "message": "max_tokens must be an integer; messages non-empty",
        }
        bad_tool = {**good, "tool_choice": {"type": "tool", "name": "nope"}, "tools": []}
        reply = client.post(url, json=bad_tool, headers=headers)
        assert reply.status_code == 400
        assert reply.json() == {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "tool_choice names unknown tool nope",
            },
        }
        assert mock.script.remaining == 1  # three rejections, no scripted answer used
        second = client.post(url, json=good, headers=headers)
        assert second.json()["content"] == [{"type": "text", "text": "second"}]
    assert mock.script.remaining == 0 and mock.count == 5


def test_bad_setup_raises_provider_error() -> None:
    with pytest.raises(ProviderError):
        AnthropicProvider(api_key="")
    with pytest.raises(ProviderError):
        AnthropicProvider(api_key=KEY, timeout_s=0)
