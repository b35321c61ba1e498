"""The real llama.cpp server for provider tests: ``llama_server()`` runs the OpenAI-compatible
``llama_cpp.server`` on a free loopback port serving the bundled SmolLM2 GGUF, and
``llama_server_fixture()`` wraps it as a pytest fixture.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

LLAMA_MODEL_ALIAS = "smollm2"

# ---------------------------------------------------------------------------
# The real llama.cpp server
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def llama_server_command(model_path: str | Path, port: int, n_threads: int = 1) -> list[str]:
    """The command line ``llama_server`` runs.

    No ``--chat_format``: the default handler (the GGUF's own chat template)
    honours ``tool_choice`` by compiling the named tool's ``parameters`` into a
    grammar, and ``response_format={"type": "json_object", "schema": ...}`` the
    same way. ``--interrupt_requests False`` keeps concurrent requests from
    cutting each other short. One thread by default: llama.cpp's threads spin
    on barriers, so on a small machine that is also running other work (tests
    in parallel) two threads can be 20x slower than one.
    """
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        LLAMA_MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        str(n_threads),
        "--n_threads_batch",
        str(n_threads),
        "--interrupt_requests",
        "False",
        "--verbose",
        "False",
    ]


@contextlib.contextmanager
def llama_server(
    model_path: str | Path | None = None,
    *,
    n_threads: int = 1,
    startup_timeout_s: float = 90.0,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on a free loopback port; yield its base URL.

    The URL is ``http://127.0.0.1:PORT/v1`` (the ``base_url`` for the openai SDK);
    the served model is called ``smollm2`` (any model name is accepted). The
    server is terminated on exit; its log goes to a temporary file whose tail is
    shown if it fails to start. ``extra_args`` are appended to the command line
    (e.g. ``["--chat_format", "chatml"]``).
    """
    if model_path is None:
        from sim.models.local import smollm2_path

        model_path = smollm2_path()
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
        prefix="llama-server-", suffix=".log", delete=False
    )
    proc = subprocess.Popen(
        [*llama_server_command(model_path, port, n_threads), *extra_args],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama server exited ({proc.returncode}):\n{_tail(log_file)}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"llama server not up after {startup_timeout_s}s:\n{_tail(log_file)}"
                )
            # URLError and dropped connections are OSErrors: not up yet
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{base_url}/models", timeout=1) as reply,
            ):
                if reply.status == 200:
                    break
            time.sleep(0.2)
        yield base_url
    finally:
        stop_process(proc)
        log_file.close()
        with contextlib.suppress(OSError):
            os.unlink(log_file.name)


def stop_process(proc: subprocess.Popen[Any], grace_s: float = 10.0) -> None:
    """Terminate ``proc``; kill it if it has not ended after ``grace_s``."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(log_file: Any, chars: int = 3000) -> str:
    log_file.flush()
    return Path(log_file.name).read_text(errors="replace")[-chars:]


def llama_server_available() -> bool:
    """Whether ``llama_cpp.server`` and its web stack are importable."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "pydantic_settings")
    )


def llama_server_fixture(name: str = "llama_server_url", scope: Any = "session") -> Any:
    """A pytest fixture (default name ``llama_server_url``) yielding the server's base URL.

    Assign it at module level: ``llama_server_url = llama_server_fixture()``.
    Skips when ``llama-cpp-python[server]`` is missing, unless ``CI`` is set.
    """

    import pytest

    @pytest.fixture(scope=scope, name=name)
    def _llama_server_url() -> Iterator[str]:
        if not llama_server_available():
            if os.environ.get("CI"):
                pytest.fail("llama-cpp-python[server] is not installed")
            pytest.skip("llama-cpp-python[server] is not installed")
        with llama_server() as url:
            yield url

    return _llama_server_url
