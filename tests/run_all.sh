#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: C++ unit tests (CTest) and pytest
# (Python, CLI and parity with the original C). Usage: bash tests/run_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# C++ test framework from Debian's packages (root on CI; sudo elsewhere if available).
if ! dpkg -s libgtest-dev >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libgtest-dev >/dev/null
fi

python3 -m pip install -q ".[test]"

# C++ unit tests (CPU only; GPU tests carry the label gpu).
cmake -S . -B build/tests -G Ninja -DNANOBRAGG_BUILD_TESTS=ON -DNANOBRAGG_PYTHON=OFF -DNANOBRAGG_CUDA=OFF >/dev/null
cmake --build build/tests
ctest --test-dir build/tests --output-on-failure -LE gpu

# Python: run from the tests folder so the installed package (not python/) is imported.
cd tests/python && python3 -m pytest -q -p no:cacheprovider .
