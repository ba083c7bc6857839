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

# One build serves both: pip's CMake build (kept in build/run_all, so a second run only recompiles
# what changed) also compiles the C++ unit tests, which CTest then runs from the same folder.
# No build isolation: a kept build folder must not point into a deleted temporary environment.
python3 -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12"
command -v cmake >/dev/null || python3 -m pip install -q "cmake>=3.18"
command -v ninja >/dev/null || python3 -m pip install -q ninja
python3 -m pip install -q --no-build-isolation ".[test]" \
  -Cbuild-dir=build/run_all -Ccmake.define.NANOBRAGG_BUILD_TESTS=ON

# C++ unit tests (CPU only; GPU tests carry the label gpu).
ctest --test-dir build/run_all --output-on-failure -LE gpu

# Python: run from the tests folder so the installed package (not python/) is imported.
cd tests/python && python3 -m pytest -q -p no:cacheprovider .
