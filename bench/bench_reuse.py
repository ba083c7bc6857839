"""How much less does Simulator.run with a new misset cost than simulate() of the same configuration?

    python bench/bench_reuse.py [--n 100] [--pixels 64] [--threads 0] [--oversample N]   (after pip install)

Both loops render the same 100 orientations (misset about x in 0.5-degree steps) on a 64x64
detector with a P1 structure-factor table of 6043 reflections (golden inputs/P1.hkl if found,
else a synthetic one written to a temporary file). simulate() reads the table, sets up and
renders each time; Simulator.run re-derives only the crystal orientation and renders (the table,
sources and kernel tables stay). Prints the median and fastest cost of one call of each, their
ratio, the render alone (each orientation rendered again without an update: the floor of a
run), the two loops' totals (the Simulator's including its one load), and one JSON line.
--oversample 0 (default) keeps nanoBragg's automatic choice (3 here: 36,864 evaluations); 1
renders 4096.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

from nanobragg_ext import api, parity  # noqa: E402
from nanobragg_ext.config import CrystalConfig, DetectorConfig, SamplingConfig, SimulationConfig  # noqa: E402


def hkl_file() -> str:
    root = parity.golden_dir()
    if root is not None and (root / "inputs" / "P1.hkl").exists():
        return str(root / "inputs" / "P1.hkl")
    rng = np.random.default_rng(0)
    path = os.path.join(tempfile.mkdtemp(), "P1.hkl")
    with open(path, "w") as f:
        for h in range(-9, 10):
            for k in range(-9, 10):
                for l in range(-9, 10):  # noqa: E741
                    f.write(f"{h} {k} {l} {rng.rayleigh(100):.2f}\n")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--pixels", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--oversample", type=int, default=0, help="sub-pixels per axis (0: automatic)")
    a = ap.parse_args()
    cfg = SimulationConfig(detector=DetectorConfig(fpixels=a.pixels, spixels=a.pixels, pixel_size_mm=0.2,
                                                   distance_mm=100),
                           crystal=CrystalConfig(cell=(48, 52, 56, 88, 93, 97), n_cells=(6, 6, 6)),
                           sampling=SamplingConfig(oversample=a.oversample or None),
                           hkl_file=hkl_file(), dump_file=None)
    missets = [(0.5 * i, -7.0, 25.0) for i in range(a.n)]
    out = np.empty((a.pixels, a.pixels))

    api.simulate(cfg, out=out, threads=a.threads)  # warm-up
    fresh = []
    for m in missets:
        t0 = time.perf_counter()
        api.simulate(cfg.replace(crystal={"misset_deg": m}), out=out, threads=a.threads)
        fresh.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    sim = api.Simulator(cfg, threads=a.threads)
    t_load = time.perf_counter() - t0
    reuse, alone = [], []
    for m in missets:
        t0 = time.perf_counter()
        sim.run(out, misset_deg=m)
        reuse.append(time.perf_counter() - t0)
        t0 = time.perf_counter()  # the same orientation again, rendered without an update
        sim.native.render(out, cfg.precision, sim.threads)
        alone.append(time.perf_counter() - t0)
    oversample = sim.prepared.sampling["oversample"]

    per_fresh, per_run = float(np.median(fresh)), float(np.median(reuse))
    ratio = per_fresh / per_run
    best_fresh, best_run = min(fresh), min(reuse)
    per_render, best_render = float(np.median(alone)), min(alone)
    total_fresh, total_reuse = sum(fresh), t_load + sum(reuse)
    print(f"one simulate(): {per_fresh * 1e3:.3f} ms; one Simulator.run(misset_deg=...): {per_run * 1e3:.3f} ms "
          f"(medians of {a.n}): {ratio:.1f}x less ({a.pixels}x{a.pixels} pixels, oversample {oversample}, "
          f"threads={a.threads})")
    print(f"fastest single calls: {best_fresh * 1e3:.3f} ms and {best_run * 1e3:.3f} ms ({best_fresh / best_run:.1f}x)")
    print(f"the render alone (no update): {per_render * 1e3:.3f} ms median, {best_render * 1e3:.3f} ms fastest; "
          f"simulate() / render alone: {per_fresh / per_render:.1f}x (medians), {best_fresh / best_render:.1f}x (fastest)")
    print(f"{a.n} simulate() calls: {total_fresh:.3f} s; Simulator (load once + {a.n} runs): {total_reuse:.3f} s "
          f"({total_fresh / total_reuse:.1f}x)")
    print(json.dumps({"case": f"reuse_{a.pixels}px_{a.n}", "threads": a.threads, "oversample": oversample,
                      "simulate_ms": per_fresh * 1e3, "run_ms": per_run * 1e3, "per_call_ratio": ratio,
                      "simulate_best_ms": best_fresh * 1e3, "run_best_ms": best_run * 1e3,
                      "render_alone_ms": per_render * 1e3, "render_alone_best_ms": best_render * 1e3,
                      "simulate_total_s": total_fresh, "simulator_total_s": total_reuse,
                      "load_average": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
