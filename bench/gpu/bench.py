"""GPU speed (issue 18): our CUDA backend against the official CUDA port and against our CPU path.

Run on the device machine after bench/gpu/device_check.sh has installed the package (and built
the official port); it builds nothing. Sections (--only picks some):

- big: 4096 x 4096 pixels, 2 x 2 sub-pixels, 10 phi steps, 100 mosaic domains, one source, a
  P1 HKL table written here (a complete sphere to the detector corner's resolution); ours in
  float32 and float64, timed with CUDA events around the render on a warm DeviceSimulator
  (median of repeats), and the official port on the same arguments, timed by the KERNEL_MS
  line its own CUDA events print (median of whole runs, one launch each);
- small: a 512 x 512 still, one whole call from a prepared simulator (render, wait, copy to the
  host) on the GPU against the CPU path on all cores;
- cases: bench/run.py's five cases, GPU render (events) against CPU render (wall), both in-process.

evaluations/s = pixels x sub-pixels x sources x phi steps x mosaic domains / seconds.

Usage: python bench/gpu/bench.py --json FILE [--official-bin PATH] [--only big,small,cases]
       [--budget-s S] [--quick]
The JSON is rewritten after every section; --budget-s bounds the repeats so a time-boxed call
still returns what was measured.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # for bench.run (its cases); nanobragg_ext is the installed package

from bench import run as cpu_bench  # noqa: E402
from nanobragg_ext import api, options  # noqa: E402

BIG_CELL = ["-cell", "48", "52", "56", "88", "93", "97", "-misset", "12", "-7", "25"]
BIG_GEOMETRY = ["-N", "10", "-lambda", "1", "-distance", "300", "-pixel", "0.1"]
BIG_SAMPLING = ["-oversample", "2", "-mosaic", "0.5", "-mosaic_domains", "100", "-mosaic_seed", "1",
                "-phi", "0", "-osc", "0.5", "-phisteps", "10"]
QUIET = ["-seed", "1", "-nonoise", "-nopgm", "-noprogress"]
SMALL_ARGS = cpu_bench.CUBIC + ["-N", "5", "-lambda", "1", "-distance", "100", "-pixel", "0.1"]
SHARE = {"big": 3, "small": 1, "cases": 2}  # relative time budgets of the sections
KERNEL_MS = re.compile(r"^KERNEL_MS\s+([0-9.eE+-]+)\s*$", re.M)


class Clock:
    """The section budget: how many repeats still fit."""

    def __init__(self, budget_s: float):
        self.t0 = time.perf_counter()
        self.budget_s = budget_s

    def left(self) -> float:
        return self.budget_s - (time.perf_counter() - self.t0)

    def repeats(self, wanted: int, one_s: float, share: float = 1.0) -> int:
        """At most wanted, at least 1, fitting in share of the time left."""
        if one_s <= 0:
            return wanted
        return max(1, min(wanted, int(self.left() * share / one_s)))


def write_p1_hkl(path: Path, cell_args: List[str], dmin_A: float, seed: int = 20261201) -> int:
    """A P1 table h k l F of every reflection with d >= dmin_A (random Wilson-like amplitudes)."""
    a, b, c, al, be, ga = (float(x) for x in cell_args[1:7])
    al, be, ga = np.radians([al, be, ga])
    # Reciprocal metric tensor from the direct one: |h a* + k b* + l c*|^2 = 1/d^2.
    g = np.array([[a * a, a * b * np.cos(ga), a * c * np.cos(be)],
                  [a * b * np.cos(ga), b * b, b * c * np.cos(al)],
                  [a * c * np.cos(be), b * c * np.cos(al), c * c]])
    gstar = np.linalg.inv(g)
    hmax = [int(math.ceil(x / dmin_A)) + 1 for x in (a, b, c)]
    h, k, l = np.meshgrid(*[np.arange(-m, m + 1) for m in hmax], indexing="ij")
    hkl = np.stack([h.ravel(), k.ravel(), l.ravel()], axis=1)
    s2 = np.einsum("ni,ij,nj->n", hkl, gstar, hkl)
    hkl, s2 = hkl[s2 <= 1.0 / dmin_A ** 2], s2[s2 <= 1.0 / dmin_A ** 2]
    rng = np.random.default_rng(seed)
    F = 100.0 * np.sqrt(-2.0 * np.log1p(-rng.random(len(hkl)))) * np.exp(-2.0 * s2)
    F[~hkl.any(axis=1)] = 1000.0
    with open(path, "w") as f:
        np.savetxt(f, np.column_stack([hkl, F]), fmt=["%d", "%d", "%d", "%.2f"])
    return len(hkl)


def corner_resolution_A(pixels: int, pixel_mm: float, distance_mm: float, lambda_A: float) -> float:
    r = math.hypot(pixels / 2, pixels / 2) * pixel_mm
    theta = 0.5 * math.atan2(r, distance_mm)
    return lambda_A / (2 * math.sin(theta))


def prepare(args: List[str], workdir: Path):
    """The prepared run and mask of a command line, read in workdir (a dump file lands there)."""
    old = os.getcwd()
    os.chdir(workdir)
    try:
        req = options.parse_args(list(args))
        prepared = api.prepare_request(req)
        return prepared, api.mask_array(req, prepared)
    finally:
        os.chdir(old)


def evaluations(prepared) -> int:
    g, s = prepared.geometry, prepared.sampling
    return int(g["fpixels"]) * int(g["spixels"]) * int(s["steps"])


def gpu_render_ms(prepared, mask, precision: str, repeats: int, clock: Clock) -> dict:
    """Median event time of renders on one warm DeviceSimulator (device array, same stream)."""
    import cupy as cp

    from nanobragg_ext import _cuda

    sim = _cuda.DeviceSimulator(prepared, mask, precision)
    dtype = np.float32 if precision == "single" else np.float64
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        out = cp.full(sim.shape, np.nan, dtype=dtype)  # NaN: an unwritten pixel shows
    start, end = cp.cuda.Event(), cp.cuda.Event()
    times = []
    t_warm = time.perf_counter()
    sim.render(out, stream=stream)  # warm-up: module load, first launch
    sim.wait()
    warm_s = time.perf_counter() - t_warm
    n = clock.repeats(repeats, warm_s, share=0.5)
    for _ in range(n):
        start.record(stream)
        sim.render(out, stream=stream)
        end.record(stream)
        end.synchronize()
        sim.wait()
        times.append(cp.cuda.get_elapsed_time(start, end))
    image = cp.asnumpy(out)
    return {"ms": statistics.median(times), "ms_all": [round(t, 3) for t in times], "warm_s": round(warm_s, 3),
            "finite": bool(np.isfinite(image).all()), "image": image, "device_bytes": sim.device_bytes}


def cpu_render_s(prepared, mask, precision: str, repeats: int, clock: Clock) -> dict:
    """Median wall time of the CPU render (all cores) into a preallocated array."""
    out = np.empty((prepared.geometry["spixels"], prepared.geometry["fpixels"]),
                   dtype=np.float32 if precision == "single" else np.float64)
    t = time.perf_counter()
    api.render(prepared, out, mask, precision)
    first = time.perf_counter() - t
    times = []
    for _ in range(clock.repeats(repeats, first, share=0.5)):
        t = time.perf_counter()
        api.render(prepared, out, mask, precision)
        times.append(time.perf_counter() - t)
    return {"s": statistics.median(times), "s_all": [round(x, 4) for x in times], "image": out}


def agreement(a: np.ndarray, b: np.ndarray) -> dict:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    den = float(np.abs(b).max()) or 1.0
    pear = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float(np.array_equal(a, b))
    return {"max_rel": float(np.abs(a - b).max()) / den, "pearson": pear}


def official_runs(binary: Path, args: List[str], precision: str, repeats: int, workdir: Path, clock: Clock,
                  shape) -> dict:
    """The port's kernel time (its KERNEL_MS line) over whole runs, median; its image of the last run."""
    env = dict(os.environ, CUDA_MODULE_LOADING="EAGER")  # no lazy module load inside the timed launch
    cmd = [str(binary)] + args + ["-precision", precision, "-floatfile", "port.bin", "-intfile", "port.img"]
    kernel_ms, wall = [], []
    console = ""
    for i in range(repeats):
        if i and clock.left() < 2 * max(wall):
            break
        t = time.perf_counter()
        try:
            r = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                               timeout=max(30.0, clock.left()))
        except subprocess.TimeoutExpired:
            return {"error": f"run {i + 1} outlasted the section's time", "cmd": cmd}
        wall.append(time.perf_counter() - t)
        console = r.stdout + r.stderr
        m = KERNEL_MS.search(r.stderr)
        if r.returncode != 0 or not m:
            return {"error": f"exit {r.returncode}, no KERNEL_MS: {console.strip()[-600:]}", "cmd": cmd}
        kernel_ms.append(float(m.group(1)))
    work = cpu_bench.parse_work(console)
    image = np.fromfile(workdir / "port.bin", dtype=np.float32).reshape(shape)
    return {"ms": statistics.median(kernel_ms), "ms_all": kernel_ms, "wall_s_all": [round(x, 2) for x in wall],
            "evaluations": None if work is None else work["evaluations"], "image": image}


def big_section(args, clock: Clock, tmp: Path) -> dict:
    d = tmp / "big"
    d.mkdir()
    pixels = 1024 if args.quick else 4096
    dmin = corner_resolution_A(pixels, 0.1, 300.0, 1.0)
    hkl = d / "P1_big.hkl"
    n_hkl = write_p1_hkl(hkl, BIG_CELL, dmin)
    argv = ["-hkl", str(hkl)] + BIG_CELL + BIG_GEOMETRY + BIG_SAMPLING + ["-detpixels", str(pixels)] + QUIET
    out: dict = {"args": argv[2:], "hkl_reflections": n_hkl, "hkl_dmin_A": round(dmin, 3)}
    for precision, key in (("single", "fp32"), ("double", "fp64")):
        try:
            out[key] = big_precision(args, argv, precision, key, clock, d)
        except Exception as e:  # keep the other precision's numbers
            out[key] = {"error": f"{type(e).__name__}: {e}"}
            print(f"big {key}: {out[key]['error']}", flush=True)
    return out


def big_precision(args, argv: List[str], precision: str, key: str, clock: Clock, d: Path) -> dict:
    """One precision of the big case: ours, then the official port on the same arguments."""
    prepared, mask = prepare(argv + ["-precision", precision], d)
    evals = evaluations(prepared)
    ours = gpu_render_ms(prepared, mask, precision, 5, clock)
    row = {"evaluations": evals, "ours_ms": ours["ms"], "ours_ms_all": ours["ms_all"],
           "ours_evals_per_s": evals / (ours["ms"] * 1e-3), "ours_finite": ours["finite"]}
    if args.official_bin:
        port = official_runs(args.official_bin, argv, precision, 3, d, clock, ours["image"].shape)
        if "error" in port:
            row["official_error"] = port["error"]
        else:
            row.update({"official_ms": port["ms"], "official_ms_all": port["ms_all"],
                        "official_wall_s_all": port["wall_s_all"],
                        "official_evaluations": port["evaluations"],
                        "official_evals_per_s": evals / (port["ms"] * 1e-3),
                        "ours_over_official_speed": port["ms"] / ours["ms"],
                        "ours_vs_official_image": agreement(ours["image"], port["image"])})
    print(f"big {key}: ours {ours['ms']:.1f} ms = {row['ours_evals_per_s']:.3g} evals/s"
          + (f"; official {row['official_ms']:.1f} ms, ours {row['ours_over_official_speed']:.2f}x"
             if "official_ms" in row else f"; official: {row.get('official_error', 'not built').splitlines()[-1]}"),
          flush=True)
    return row


def small_section(args, clock: Clock, tmp: Path) -> dict:
    """512^2 still: one whole call from a prepared simulator, GPU (render, wait, copy back) vs CPU."""
    import cupy as cp

    from nanobragg_ext import _cuda

    d = tmp / "small"
    d.mkdir()
    out: dict = {"args": SMALL_ARGS + ["-detpixels", "512"] + QUIET}
    for precision in ("double", "single"):
        prepared, mask = prepare(out["args"] + ["-precision", precision], d)
        dtype = np.float32 if precision == "single" else np.float64
        cpu = cpu_render_s(prepared, mask, precision, 30, clock)
        sim = _cuda.DeviceSimulator(prepared, mask, precision)
        dev = cp.empty(sim.shape, dtype=dtype)
        host = cp.cuda.alloc_pinned_memory(dev.nbytes)
        host_img = np.frombuffer(host, dtype=dtype, count=dev.size).reshape(sim.shape)
        times = []
        for i in range(31):  # the first is the warm-up
            t = time.perf_counter()
            sim.render(dev)
            sim.wait()
            dev.get(out=host_img)
            if i:
                times.append(time.perf_counter() - t)
        gpu_s = statistics.median(times)
        out[precision] = {"cpu_s": cpu["s"], "gpu_call_s": gpu_s, "gpu_over_cpu_time": gpu_s / cpu["s"],
                          "gpu_vs_cpu_image": agreement(host_img, cpu["image"])}
        print(f"small 512^2 {precision}: CPU {cpu['s'] * 1e3:.2f} ms, GPU call {gpu_s * 1e3:.2f} ms "
              f"(GPU/CPU time {gpu_s / cpu['s']:.2f})", flush=True)
    return out


def cases_section(args, clock: Clock, tmp: Path) -> dict:
    d = tmp / "cases"
    d.mkdir()
    hkl, hkl_source = cpu_bench.find_hkl(d)
    out: dict = {"hkl": hkl_source}
    for case in cpu_bench.CASES:
        argv = case.argv(hkl, args.quick)
        for precision in ("double", "single"):
            if clock.left() < 10:
                out.setdefault("skipped", []).append(f"{case.key}/{precision}")
                continue
            try:
                out[f"{case.key}_{precision}"] = case_row(case.key, argv, precision, clock, d)
            except Exception as e:  # keep the other cases' numbers
                out[f"{case.key}_{precision}"] = {"error": f"{type(e).__name__}: {e}"}
                print(f"case {case.key} {precision}: {type(e).__name__}: {e}", flush=True)
    return out


def case_row(key: str, argv: List[str], precision: str, clock: Clock, d: Path) -> dict:
    wd = d / f"{key}-{precision}"
    wd.mkdir()
    prepared, mask = prepare(argv + ["-precision", precision], wd)
    evals = evaluations(prepared)
    gpu = gpu_render_ms(prepared, mask, precision, 5, clock)
    cpu = cpu_render_s(prepared, mask, precision, 3, clock)
    row = {"evaluations": evals, "gpu_ms": gpu["ms"], "cpu_ms": cpu["s"] * 1e3,
           "gpu_evals_per_s": evals / (gpu["ms"] * 1e-3), "cpu_evals_per_s": evals / cpu["s"],
           "gpu_speedup": cpu["s"] * 1e3 / gpu["ms"], "gpu_vs_cpu_image": agreement(gpu["image"], cpu["image"])}
    print(f"case {key:<10} {precision:<6} GPU {gpu['ms']:9.2f} ms  CPU {row['cpu_ms']:9.2f} ms  "
          f"x{row['gpu_speedup']:.1f}  max_rel {row['gpu_vs_cpu_image']['max_rel']:.1e}", flush=True)
    return row


def headline(results: dict) -> dict:
    """The issue's named fields, from the sections that ran."""
    big, small = results.get("big", {}), results.get("small", {})
    h = {}
    for key in ("fp32", "fp64"):
        row = big.get(key, {})
        h[f"big_{key}_evals_per_s"] = row.get("ours_evals_per_s")
        h[f"big_{key}_vs_official"] = row.get("ours_over_official_speed")
    h["still512_gpu_over_cpu_time"] = small.get("double", {}).get("gpu_over_cpu_time")
    return h


def device_info() -> dict:
    from nanobragg_ext import _cuda

    return {"device": _cuda.device_description(0), "runtime": dict(_cuda.runtime_status())}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--official-bin", type=Path, help="the official port's nanoBraggCUDA, built on this machine")
    ap.add_argument("--only", default="big,small,cases", help="sections: big, small, cases")
    ap.add_argument("--budget-s", type=float, default=300.0, help="time for all sections together")
    ap.add_argument("--quick", action="store_true", help="smaller detectors (a smoke run)")
    ap.add_argument("--commit", default=None, help="the commit measured (the device has no .git)")
    args = ap.parse_args(argv)
    sections = [s for s in args.only.split(",") if s]
    funcs = {"big": big_section, "small": small_section, "cases": cases_section}
    unknown = set(sections) - set(funcs)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}")
    results: Dict[str, object] = {"commit": args.commit, **device_info(), "quick": args.quick}
    clock = Clock(args.budget_s)
    status = 0
    with tempfile.TemporaryDirectory(prefix="nbgpu-bench-") as tmp:
        for i, name in enumerate(sections):
            # Each section may use its share of what is left, so a slow one cannot starve the rest.
            weight = SHARE[name] / sum(SHARE[s] for s in sections[i:])
            section_clock = Clock(clock.left() * weight)
            try:
                results[name] = funcs[name](args, section_clock, Path(tmp))
            except Exception as e:  # report and go on to the next section
                results[name] = {"error": f"{type(e).__name__}: {e}"}
                print(f"{name}: {results[name]['error']}", flush=True)
                status = 1
            results.update(headline(results))
            args.json.write_text(json.dumps(results, indent=1, default=float))
    print(json.dumps(headline(results)))
    return status


if __name__ == "__main__":
    sys.exit(main())
