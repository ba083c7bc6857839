#!/usr/bin/env bash
# Fills the git-ignored folder .gpu_carry/ with what the device machine needs besides the working
# tree (it gets the repository only, not ../shared): the golden manifest and inputs (the CPU
# backend on the device is the reference, so no C outputs are needed), the official CUDA port's
# sources for the speed comparison, and the commit the run is made from. Run it here, before the
# device call that names .gpu_carry in `carry`; it checks that everything that travels stays under
# the 64 MiB limit.
#
# Usage: bash bench/gpu/prepare_carry.sh [--golden DIR] [--official PATH] [--official-rev REV]
#   --golden DIR     golden folder of the original C (default: $NANOBRAGG_GOLDEN, else ../shared/golden)
#   --official PATH  the official port's cuda/ folder (CMakeLists.txt, Makefile, src/), or a git
#                    directory of bl831/nanoBragg (a clone or a bare mirror) whose cuda/ tree at
#                    --official-rev (default 455534a) is exported; without it, no port is carried
set -euo pipefail
cd "$(dirname "$0")/../.."

LIMIT_BYTES=$((64 * 1024 * 1024))
MARGIN_BYTES=$((2 * 1024 * 1024))  # the transfer counts a few files we do not see (shared/ etc.)
CARRY=.gpu_carry
golden="${NANOBRAGG_GOLDEN:-../shared/golden}"
official=""
official_rev=455534a

while [ $# -gt 0 ]; do
  case "$1" in
    --golden) golden="$2"; shift 2 ;;
    --official) official="$2"; shift 2 ;;
    --official-rev) official_rev="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "prepare_carry: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ ! -f "$golden/manifest.json" ]; then
  echo "prepare_carry: no manifest.json in '$golden' (give --golden DIR or set NANOBRAGG_GOLDEN)" >&2
  exit 2
fi
if ! git check-ignore -q "$CARRY/"; then
  echo "prepare_carry: $CARRY/ is not git-ignored; add it to .gitignore first" >&2
  exit 2
fi

# The git directory holding official_rev: PATH itself (a bare mirror) or the clone's .git.
official_git_dir() {
  local d
  for d in "$1" "$(git -C "$1" rev-parse --absolute-git-dir 2>/dev/null)"; do
    if [ -n "$d" ] && git --git-dir="$d" rev-parse --verify -q "$official_rev^{commit}" >/dev/null 2>&1; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

rm -rf "$CARRY"
mkdir -p "$CARRY/golden"

# ---- golden: manifest, inputs, and the files a case copies in before it runs (pre_copy) -------
cp "$golden/manifest.json" "$CARRY/golden/"
cp -r "$golden/inputs" "$CARRY/golden/inputs"
python3 - "$golden" "$CARRY/golden" <<'EOF'
import json, shutil, sys
from pathlib import Path
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
for case in json.loads((src / "manifest.json").read_text())["cases"]:
    for rel in (case.get("pre_copy") or {}).values():
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dst / rel)
EOF

# ---- the nonBragg golden suite's manifest and inputs (test_nonbragg_cuda.py: CPU vs CUDA) -----
suite="${NANOBRAGG_GOLDEN_SUITE:-$(dirname "$golden")/golden-suite}"
if [ -f "$suite/nonbragg/manifest.json" ]; then
  mkdir -p "$CARRY/golden-suite/nonbragg"
  cp "$suite/nonbragg/manifest.json" "$CARRY/golden-suite/nonbragg/"
  cp -r "$suite/nonbragg/inputs" "$CARRY/golden-suite/nonbragg/inputs"
else
  echo "prepare_carry: no nonBragg golden suite at $suite/nonbragg: its GPU cases will be skipped"
fi

# ---- the official CUDA port (sources only; it is built on the device) -------------------------
if [ -n "$official" ]; then
  mkdir -p "$CARRY/official_cuda"
  if [ -f "$official/Makefile" ] && [ -d "$official/src" ]; then
    cp "$official/Makefile" "$CARRY/official_cuda/"
    [ -f "$official/CMakeLists.txt" ] && cp "$official/CMakeLists.txt" "$CARRY/official_cuda/"
    cp -r "$official/src" "$CARRY/official_cuda/src"
  elif gitdir=$(official_git_dir "$official"); then
    git --git-dir="$gitdir" archive "$official_rev" cuda/Makefile cuda/CMakeLists.txt cuda/src |
      tar -x -C "$CARRY/official_cuda" --strip-components=1
  else
    echo "prepare_carry: '$official' is neither the port's cuda/ folder (Makefile, src/) nor a git" \
         "directory holding $official_rev" >&2
    exit 2
  fi
  echo "official port: $(find "$CARRY/official_cuda" -type f | wc -l) files from $official"
fi

# ---- provenance: the device gets no .git ----------------------------------------------------
{
  echo "commit=$(git rev-parse HEAD)"
  if [ -n "$(git status --porcelain --untracked-files=no)" ]; then echo "dirty=true"; else echo "dirty=false"; fi
  echo "prepared=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$CARRY/PROVENANCE"

# ---- size of everything that travels: tracked + untracked-not-ignored files, and the carry ----
tree_bytes=$(git ls-files -z --cached --others --exclude-standard |
  xargs -0 -r stat -c %s -- 2>/dev/null | awk '{s += $1} END {print s + 0}')
carry_bytes=$(find "$CARRY" -type f -print0 | xargs -0 -r stat -c %s -- | awk '{s += $1} END {print s + 0}')
total=$((tree_bytes + carry_bytes))
awk -v t="$tree_bytes" -v c="$carry_bytes" -v d="$CARRY" 'BEGIN {
  m = 1048576; printf "travels: working tree %.1f MiB + %s %.1f MiB = %.1f MiB (limit 64 MiB)\n", t / m, d, c / m, (t + c) / m }'
if [ "$total" -gt $((LIMIT_BYTES - MARGIN_BYTES)) ]; then
  echo "prepare_carry: $total bytes would travel, over the limit less a 2 MiB margin" >&2
  exit 1
fi
