#!/usr/bin/env bash
# The GPU checks of issues 17 and 18 in one call on the device machine (bench/gpu/README.md):
#   1. build and install the package with the CUDA backend (sm_90) against the machine's python3;
#   2. pytest -m gpu;
#   3. every golden case through the CPU and the CUDA backend, compared (golden_compare.py);
#   4. with --bench: build the official CUDA port from .gpu_carry/official_cuda with its own
#      Makefile, then time ours against it and against the CPU (bench.py), and nonBragg's render
#      on the GPU against the CPU (bench_nonbragg.py --device cuda: nonbragg_bench.json);
#   5. gpu_check.json (check_report.py) and a short table last, for the reply's output tail.
# Each stage is time-boxed (the whole run within --total-s) so a slow stage still leaves the
# others' results. Everything lands in $OUT: device_check.log, build.log, pytest_gpu.xml,
# golden_cases.json, gpu_check.json and, with --bench, port_build.log and gpu_bench.json.
#
# Usage (repository root, after bash bench/gpu/prepare_carry.sh here):
#   bash bench/gpu/device_check.sh [--bench | --bench-only] [--no-build] [--cpu-only]
#        [--total-s S] [--python PY] [golden case substrings ...]
#   --bench       also build the official port and run the benchmark
#   --bench-only  build, official port and benchmark only (no pytest, no golden comparison)
#   --no-build    use the nanobragg_ext already installed for PY (a rerun on a warm machine)
#   --cpu-only    the CPU stands in for the GPU in the comparison and the benchmark (bench.py
#                 --cpu-only --quick): a dry run of every stage on a machine without one
#   --total-s S   time for everything (default 480; give the run call timeout_s 540)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
export PYTHONUNBUFFERED=1
export PATH="$PATH:/usr/local/cuda/bin"  # nvcc, where the image keeps it off PATH

PY=python3
BENCH=0 CHECK=1 BUILD=1 CPU_ONLY=0 TOTAL_S=480
SELECT=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) BENCH=1 ;;
    --bench-only) BENCH=1 CHECK=0 ;;
    --no-build) BUILD=0 ;;
    --cpu-only) CPU_ONLY=1 ;;
    --total-s) TOTAL_S="$2"; shift ;;
    --python) PY="$2"; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    -*) echo "device_check: unknown option '$1'" >&2; exit 2 ;;
    *) SELECT+=("$1") ;;
  esac
  shift
done

# $OUT is the device tool's output folder; elsewhere an ignored folder of the repository.
OUT="${OUT:-$PWD/build/gpu_out}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/device_check.log") 2>&1

CARRY=.gpu_carry
GOLDEN="$PWD/$CARRY/golden"
STAGES="$(mktemp)"
COMMIT=$(sed -n 's/^commit=//p' "$CARRY/PROVENANCE" 2>/dev/null || true)
[ -n "$COMMIT" ] || COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)

# Seconds a stage may take: its own limit, but never past the total less a reserve for the report.
box() {
  local left=$((TOTAL_S - SECONDS - 20))
  if [ "$left" -lt "$1" ]; then echo $((left > 5 ? left : 5)); else echo "$1"; fi
}

# stage NAME LIMIT_S LOG CMD...: CMD under its time box (LOG: a file for its output, or - for
# this log), its exit status and seconds recorded for the report.
stage() {
  local name="$1" limit log="$3" t0 rc
  limit=$(box "$2")
  shift 3
  echo "==== $name (at most ${limit} s; ${SECONDS} s elapsed)"
  t0=$SECONDS
  if [ "$log" = - ]; then
    timeout -k 10 "$limit" "$@"
  else
    timeout -k 10 "$limit" "$@" >"$log" 2>&1
  fi
  rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "==== $name: stopped at its time box"; fi
  if [ "$log" != - ]; then tail -n 5 "$log"; fi
  echo "$name rc=$rc seconds=$((SECONDS - t0))" >>"$STAGES"
  echo "==== $name: exit $rc after $((SECONDS - t0)) s"
  return "$rc"
}

# The official port: a copy of the carried sources, built with its own Makefile (release goal)
# for sm_90 only, like ours; the toolkit paths are this machine's.
PORT_DIR="$PWD/build/official_cuda"  # ignored, like our own build folder
PORT_BIN="$PORT_DIR/build/release/nanoBraggCUDA"
official_make_args() {
  local nvcc cuda="" lib="" c l
  nvcc=$(command -v nvcc) || { echo "official port: no nvcc on PATH" >&2; return 1; }
  for c in "${CUDA_HOME:-}" /usr/local/cuda "$(dirname "$(dirname "$(readlink -f "$nvcc")")")"; do
    if [ -n "$c" ] && [ -f "$c/include/cuda_runtime.h" ]; then cuda="$c"; break; fi
  done
  [ -n "$cuda" ] || { echo "official port: no toolkit with include/cuda_runtime.h" >&2; return 1; }
  for l in "$cuda/lib64" "$cuda/lib" "$cuda/targets/x86_64-linux/lib"; do
    if [ -f "$l/libcudart_static.a" ]; then lib="$l"; break; fi
  done
  [ -n "$lib" ] || { echo "official port: no libcudart_static.a under $cuda" >&2; return 1; }
  printf '%s\n' -C "$PORT_DIR" release "CUDA_PATH=$cuda" "NVCC=$cuda/bin/nvcc" \
    "ARCH_FLAGS=--generate-code=arch=compute_90,code=[compute_90,sm_90]" "COMMON_LDFLAGS=-L$lib/stubs -L$lib"
}

echo "device_check: commit $COMMIT, $(date -u +%FT%TZ), check=$CHECK bench=$BENCH build=$BUILD cpu_only=$CPU_ONLY"
timeout 20 nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader ||
  echo "nvidia-smi: no answer"
[ -f "$GOLDEN/manifest.json" ] || echo "device_check: $GOLDEN/manifest.json missing: run bench/gpu/prepare_carry.sh here and carry $CARRY"

PORT_PID=""
if [ "$BENCH" = 1 ]; then
  # Built in the background while our package builds: the machine has 16 cores, make uses one.
  if [ ! -d "$CARRY/official_cuda" ]; then
    echo "device_check: no $CARRY/official_cuda carried: the benchmark runs without the official port"
  elif mapfile -t make_args < <(official_make_args) && [ "${#make_args[@]}" -gt 0 ]; then
    rm -rf "$PORT_DIR" && mkdir -p "$(dirname "$PORT_DIR")" && cp -r "$CARRY/official_cuda" "$PORT_DIR"
    echo "official port: make ${make_args[*]}"
    stage official_build 300 "$OUT/port_build.log" make "${make_args[@]}" &
    PORT_PID=$!
  fi
fi

ok=1
if [ "$BUILD" = 1 ]; then
  stage build 300 "$OUT/build.log" "$PY" -m pip install --no-build-isolation --no-deps -v . \
    -Ccmake.define.NANOBRAGG_CUDA=ON -Ccmake.define.CMAKE_CUDA_ARCHITECTURES=90 -Cbuild-dir=build/device || ok=0
fi
if [ "$ok" = 1 ]; then
  # The CUDA module must be there in both modes; a device only without --cpu-only.
  stage install_check 60 - "$PY" -c "
import sys
from nanobragg_ext import _cuda
from nanobragg_ext.backends import backends, cuda_unavailable_reason
print('backends:', backends(), '| runtime:', dict(_cuda.runtime_status()))
if sys.argv[1] == '0':
    assert 'cuda' in backends(), cuda_unavailable_reason()
    print('device:', _cuda.device_description(0))" "$CPU_ONLY" || ok=0
fi
if [ "$ok" = 1 ] && [ "$CHECK" = 1 ]; then
  mapfile -t gpu_tests < <(grep -l "pytest.mark.gpu" tests/python/test_*.py)
  NANOBRAGG_GOLDEN="$GOLDEN" NANOBRAGG_GOLDEN_SUITE="$PWD/$CARRY/golden-suite" \
    stage pytest_gpu 150 - "$PY" -m pytest -m gpu -q -rs -p no:cacheprovider \
    --junitxml="$OUT/pytest_gpu.xml" "${gpu_tests[@]}"
  golden_args=(--golden "$GOLDEN" --json "$OUT/golden_cases.json" --deadline-s "$(($(box 240) - 30))")
  [ "$CPU_ONLY" = 1 ] && golden_args+=(--cpu-only)
  stage golden 240 - "$PY" bench/gpu/golden_compare.py "${golden_args[@]}" "${SELECT[@]}"
fi
if [ -n "$PORT_PID" ]; then
  wait "$PORT_PID"
fi
if [ "$ok" = 1 ] && [ "$BENCH" = 1 ]; then
  bench_args=(--json "$OUT/gpu_bench.json" --commit "$COMMIT" --budget-s "$(($(box 300) - 30))")
  [ -x "$PORT_BIN" ] && bench_args+=(--official-bin "$PORT_BIN")
  [ "$CPU_ONLY" = 1 ] && bench_args+=(--cpu-only --quick)  # CPU stand-ins, small detectors
  NANOBRAGG_GOLDEN="$GOLDEN" stage bench 300 - "$PY" bench/gpu/bench.py "${bench_args[@]}"
  # nonBragg's render on the GPU against the CPU (16 cores here), 1024^2 (--quick: 256^2).
  nb_args=(--device cuda --threads 1,16 --repeat 3 --no-whole --json "$OUT/nonbragg_bench.json")
  [ "$CPU_ONLY" = 1 ] && nb_args=(--quick --threads 1 --repeat 1 --no-whole --json "$OUT/nonbragg_bench.json")
  stage nonbragg_bench 90 - "$PY" bench/bench_nonbragg.py "${nb_args[@]}"
fi

"$PY" bench/gpu/check_report.py --out "$OUT/gpu_check.json" --golden-json "$OUT/golden_cases.json" \
  --pytest-xml "$OUT/pytest_gpu.xml" --bench-json "$OUT/gpu_bench.json" --stages "$STAGES" \
  --commit "$COMMIT" --provenance "$CARRY/PROVENANCE" --total-seconds "$SECONDS"
status=$?
rm -f "$STAGES"
exit "$status"
