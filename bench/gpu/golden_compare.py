"""Every golden case through the CPU and the CUDA backend on this machine, compared (issue 17).

Each case's argument list runs three times through the command line (nanobragg_ext.parity's case
runner, so files are written exactly as a user's run writes them):

- the CPU backend in float64: the reference (the C's own outputs are not needed);
- the CUDA backend in float64: passes when max |GPU - CPU| <= 1e-6 x max |CPU| over the float
  image and the SMV int and noise images are byte-identical to the CPU's;
- the CUDA backend in float32 (-precision single): passes when its float image has Pearson
  >= 0.99999 with the float64 CPU image and a sum within 1e-4 of it.

All pixels count, the C's undefined ones too: both sides are ours and must agree everywhere.

With --cpu-only (no GPU needed) the two "GPU" runs use the CPU backend instead, float64 on one
thread and float32: the same driver, comparisons and report, checked on any machine.

Usage: python bench/gpu/golden_compare.py --golden DIR --json FILE [--cpu-only] [--deadline-s S]
       [case-id-substring ...]
The JSON is rewritten after every case, so a run stopped early still leaves its results.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from nanobragg_ext import parity

FLOAT64_MAX_REL = 1e-6
FLOAT32_PEARSON = 0.99999
FLOAT32_SUM = 1e-4
SMV_KINDS = ("int", "noise")


def backend_args(cpu_only: bool) -> Dict[str, List[str]]:
    """Extra command-line options of the three runs of a case."""
    gpu = ["-device", "cpu", "-threads", "1"] if cpu_only else ["-device", "cuda"]
    single = ["-device", "cpu"] if cpu_only else ["-device", "cuda"]
    return {"cpu64": ["-device", "cpu"], "gpu64": gpu, "gpu32": single + ["-precision", "single"]}


def float_image(case: dict, workdir: Path) -> np.ndarray:
    return np.fromfile(workdir / parity.output_name(case, "float"), dtype="<f4").reshape(tuple(case["shape"]))


def check_float64(case: dict, ref_dir: Path, gpu_dir: Path) -> dict:
    ref, gpu = float_image(case, ref_dir), float_image(case, gpu_dir)
    cmp = parity.compare_float(gpu, ref)
    max_rel = cmp.max_abs / cmp.ref_max if cmp.ref_max > 0 else (0.0 if cmp.max_abs == 0 else math.inf)
    problems = []
    if not np.isfinite(gpu).all():
        problems.append("non-finite pixels")
    if not max_rel <= FLOAT64_MAX_REL:  # NaN fails too
        problems.append(f"max|d|/max {max_rel:.3g} at (slow, fast, gpu, cpu) {cmp.worst}")
    for kind in SMV_KINDS:
        if kind in case["outputs"]:
            name = parity.output_name(case, kind)
            diff = parity.compare_bytes((gpu_dir / name).read_bytes(), (ref_dir / name).read_bytes(), kind, {})
            if diff:
                problems.append(diff)
    return {"max_rel": max_rel, "worst_pixel": cmp.worst, "passed": not problems, "problems": problems}


def check_float32(case: dict, ref_dir: Path, gpu_dir: Path) -> dict:
    ref, gpu = float_image(case, ref_dir), float_image(case, gpu_dir)
    cmp = parity.compare_float(gpu, ref)
    max_rel = cmp.max_abs / cmp.ref_max if cmp.ref_max > 0 else (0.0 if cmp.max_abs == 0 else math.inf)
    sum_dev = abs(cmp.sum_ratio - 1.0)
    problems = []
    if not np.isfinite(gpu).all():
        problems.append("non-finite pixels")
    if not cmp.pearson >= FLOAT32_PEARSON:
        problems.append(f"pearson {cmp.pearson:.7f}")
    if not sum_dev <= FLOAT32_SUM:
        problems.append(f"sum ratio {cmp.sum_ratio:.7f}")
    return {"pearson": cmp.pearson, "sum_ratio": cmp.sum_ratio, "max_rel": max_rel,
            "passed": not problems, "problems": problems}


def run_case(case: dict, root: Path, runs: Dict[str, List[str]]) -> dict:
    """The three runs of one case and their comparisons; workdirs are removed afterwards."""
    dirs = {name: Path(tempfile.mkdtemp(prefix=f"nbgpu-{name}-")) for name in runs}
    out: dict = {"id": case["id"], "seconds": {}}
    try:
        for name, extra in runs.items():
            t0 = time.perf_counter()
            parity.run_case(case, root, dirs[name], extra_args=extra)
            out["seconds"][name] = round(time.perf_counter() - t0, 3)
        out["float64"] = check_float64(case, dirs["cpu64"], dirs["gpu64"])
        out["float32"] = check_float32(case, dirs["cpu64"], dirs["gpu32"])
    finally:
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)
    return out


def summarize(results: List[dict], n_selected: int, mode: str, complete: bool, seconds: float) -> dict:
    ok = [r for r in results if "error" not in r]
    f64 = [r for r in ok if r["float64"]["passed"]]
    f32 = [r for r in ok if r["float32"]["passed"]]

    def worst(kind, key, badness):
        """The case whose kind[key] is worst by badness (larger is worse), with that value."""
        if not ok:
            return None
        r = max(ok, key=lambda r: badness(r[kind][key]))
        return {"id": r["id"], key: r[kind][key]}

    return {
        "mode": mode,
        "complete": complete,
        "float64_cases": n_selected,
        "float64_passed": len(f64),
        "float32_cases": n_selected,
        "float32_passed": len(f32),
        "cases_run": len(results),
        "seconds": round(seconds, 1),
        "worst": {
            "float64_max_rel": worst("float64", "max_rel", lambda v: v),
            "float32_pearson": worst("float32", "pearson", lambda v: -v),
            "float32_sum_ratio": worst("float32", "sum_ratio", lambda v: abs(v - 1.0)),
        },
        "failed": {
            "float64": [r["id"] for r in ok if not r["float64"]["passed"]],
            "float32": [r["id"] for r in ok if not r["float32"]["passed"]],
            "errors": {r["id"]: r["error"] for r in results if "error" in r},
        },
        "cases": results,
    }


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--golden", type=Path, default=parity.golden_dir(),
                    help="folder with manifest.json and inputs/ (default: $NANOBRAGG_GOLDEN or ../shared/golden)")
    ap.add_argument("--json", type=Path, required=True, help="results file (rewritten after each case)")
    ap.add_argument("--cpu-only", action="store_true", help="no GPU: CPU float64 on 1 thread and CPU float32 stand in")
    ap.add_argument("--deadline-s", type=float, default=math.inf,
                    help="start no new case after this many seconds (the JSON says complete: false)")
    ap.add_argument("select", nargs="*", help="case id substrings or features (default: all cases)")
    args = ap.parse_args(argv)
    if args.golden is None or not (args.golden / "manifest.json").exists():
        print("golden_compare: no manifest.json (give --golden DIR)", file=sys.stderr)
        return 2
    root = args.golden.resolve()
    cases = parity.load_manifest(root)["cases"]
    if args.select:
        cases = [c for c in cases if any(s in c["id"] or s in c.get("features", []) for s in args.select)]
    mode = "cpu-only" if args.cpu_only else "cuda"
    runs = backend_args(args.cpu_only)
    t0 = time.perf_counter()
    results: List[dict] = []
    complete = True
    for i, case in enumerate(cases):
        if time.perf_counter() - t0 > args.deadline_s:
            complete = False
            print(f"deadline reached: {len(cases) - i} cases not run", flush=True)
            break
        try:
            r = run_case(case, root, runs)
            verdict = ("PASS" if r["float64"]["passed"] else "FAIL") + "/" + ("PASS" if r["float32"]["passed"] else "FAIL")
            print(f"{verdict} {case['id']:45s} f64 max_rel={r['float64']['max_rel']:.2e} "
                  f"f32 pearson={r['float32']['pearson']:.7f} sum={r['float32']['sum_ratio']:.7f} "
                  f"{'; '.join(r['float64']['problems'] + r['float32']['problems'])}", flush=True)
        except Exception as e:  # report and go on: one broken case must not hide the others
            msg = str(e).strip().splitlines()
            r = {"id": case["id"], "error": f"{type(e).__name__}: {msg[-1] if msg else ''}"}
            print(f"ERROR {case['id']}: {r['error']}", flush=True)
        results.append(r)
        write_json(args.json, summarize(results, len(cases), mode, False, time.perf_counter() - t0))
    summary = summarize(results, len(cases), mode, complete, time.perf_counter() - t0)
    write_json(args.json, summary)
    print(f"float64 {summary['float64_passed']}/{len(cases)}, float32 {summary['float32_passed']}/{len(cases)} "
          f"({mode}, {summary['seconds']} s{'' if complete else ', stopped at the deadline'})")
    all_ok = complete and summary["float64_passed"] == summary["float32_passed"] == len(cases)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
