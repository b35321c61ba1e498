#!/usr/bin/env bash
# One-shot, idempotent set-up on a fresh Debian machine with Python 3.11:
# system packages (espeak-ng, PostgreSQL, headless Chromium), a virtualenv in .venv, llama-cpp-python
# built for portable CPUs, and this project with its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
LLAMA_CPP_VERSION=0.3.36

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # renders report.html in tests
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

# A native build segfaults on CPUs with AMX (ggml_backend_amx_mul_mat), and pip would
# reuse a cached native wheel whatever CMAKE_ARGS says: build portable, without the cache.
if ! .venv/bin/python -c "import llama_cpp" >/dev/null 2>&1; then
  echo "setup: building llama-cpp-python ${LLAMA_CPP_VERSION} (5-10 minutes on 2 cores)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/python -m pip install -q --no-cache-dir \
    "llama-cpp-python[server]==${LLAMA_CPP_VERSION}"
fi

.venv/bin/python -m pip install -q -e ".[dev]"
echo "setup: done (.venv ready)"
