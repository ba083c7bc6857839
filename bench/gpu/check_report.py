"""gpu_check.json (issue 17) from the pieces device_check.sh leaves, and a short table last.

The golden comparison's JSON, pytest's JUnit XML, the stage list (name rc=N seconds=S per line),
nvidia-smi and the CUDA module give: commit, device name, driver, float64_cases/passed,
float32_cases/passed, pytest_gpu passed/failed/skipped, seconds, and the worst case of each kind.
A missing piece (a stage that failed or ran out of time) is reported as such, never guessed.
Exit status 1 unless every stage and check passed.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional


def read_json(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def pytest_counts(path: Path) -> Optional[dict]:
    """passed/failed/skipped/errors from a JUnit XML file (pytest --junitxml)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    return {"passed": n["tests"] - n["failures"] - n["errors"] - n["skipped"], "failed": n["failures"],
            "errors": n["errors"], "skipped": n["skipped"]}


def stages(path: Path) -> dict:
    out = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        name, *fields = line.split()
        out[name] = {k: int(v) for k, v in (f.split("=", 1) for f in fields)}
    return out


def nvidia_smi() -> dict:
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,compute_cap,memory.total",
                            "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return {}
    if r.returncode != 0 or not r.stdout.strip():
        return {}
    name, driver, cap, mem = (x.strip() for x in r.stdout.splitlines()[0].split(","))
    return {"device": name, "driver": driver, "compute_capability": cap, "memory": mem}


def cuda_module() -> dict:
    try:
        from nanobragg_ext import _cuda
        return {"cuda_runtime": dict(_cuda.runtime_status()), "cuda_device": _cuda.device_description(0)}
    except Exception as e:  # not built, or no device: say so
        return {"cuda_module_error": f"{type(e).__name__}: {e}"}


def provenance(path: Path) -> dict:
    try:
        return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    except OSError:
        return {}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--golden-json", type=Path, required=True)
    ap.add_argument("--pytest-xml", type=Path, required=True)
    ap.add_argument("--bench-json", type=Path)
    ap.add_argument("--stages", type=Path, required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--provenance", type=Path)
    ap.add_argument("--total-seconds", type=float)
    args = ap.parse_args(argv)

    golden = read_json(args.golden_json) or {}
    prov = provenance(args.provenance) if args.provenance else {}
    report = {
        "commit": args.commit,
        "commit_dirty": prov.get("dirty") == "true" if prov else None,
        **nvidia_smi(),
        **cuda_module(),
        "mode": golden.get("mode"),
        "golden_complete": golden.get("complete"),
        "float64_cases": golden.get("float64_cases"),
        "float64_passed": golden.get("float64_passed"),
        "float32_cases": golden.get("float32_cases"),
        "float32_passed": golden.get("float32_passed"),
        "pytest_gpu": pytest_counts(args.pytest_xml),
        "seconds": args.total_seconds,
        "stages": stages(args.stages),
        "worst": golden.get("worst"),
        "failed": golden.get("failed"),
    }
    args.out.write_text(json.dumps(report, indent=1))

    print("==== summary")
    print(f"commit {report['commit']}{' (dirty)' if report['commit_dirty'] else ''} on "
          f"{report.get('device', '?')} driver {report.get('driver', '?')}")
    for name, st in report["stages"].items():
        print(f"  stage {name:<15} exit {st.get('rc')}  {st.get('seconds')} s")
    print(f"  pytest -m gpu: {report['pytest_gpu']}")
    if golden:
        print(f"  golden ({golden.get('mode')}): float64 {golden.get('float64_passed')}/{golden.get('float64_cases')}, "
              f"float32 {golden.get('float32_passed')}/{golden.get('float32_cases')}"
              f"{'' if golden.get('complete') else ' (incomplete)'}")
        for kind, w in (golden.get("worst") or {}).items():
            print(f"    worst {kind}: {w}")
        for kind, ids in (golden.get("failed") or {}).items():
            if ids:
                print(f"    failed {kind}: {ids if len(ids) < 12 else ids[:12] + ['...']}")
    else:
        print("  golden: no results")
    bench = read_json(args.bench_json) if args.bench_json else None
    if bench:
        for key in ("big_fp32_evals_per_s", "big_fp64_evals_per_s", "big_fp32_vs_official", "big_fp64_vs_official",
                    "still512_gpu_over_cpu_time"):
            v = bench.get(key)
            print(f"  bench {key}: {v:.4g}" if isinstance(v, (int, float)) else f"  bench {key}: {v}")
    print(f"  total {args.total_seconds} s; gpu_check.json written")
    return 0 if all_passed(report) else 1


def all_passed(report: dict) -> bool:
    """Every stage exited 0, the golden comparison is complete and passed, no GPU test failed."""
    stages_ok = all(st.get("rc") == 0 for st in report["stages"].values())
    golden_ok = (report["golden_complete"] is True and report["float64_passed"] == report["float64_cases"]
                 and report["float32_passed"] == report["float32_cases"])
    tests = report["pytest_gpu"]
    tests_ok = tests is not None and tests["failed"] == 0 and tests["errors"] == 0
    # A benchmark-only run has no golden or pytest results to judge.
    checked = "golden" in report["stages"] or "pytest_gpu" in report["stages"]
    return stages_ok and (not checked or (golden_ok and tests_ok))


if __name__ == "__main__":
    sys.exit(main())
