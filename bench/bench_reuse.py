"""How much faster are 100 Simulator re-runs than 100 simulate() calls (small detector)?

    python bench/bench_reuse.py [--n 100] [--pixels 64] [--threads 0]   (after pip install)

Both loops render the same 100 orientations (misset about x in 0.5-degree steps) with a P1
structure-factor table of 6043 reflections (golden inputs/P1.hkl if found, else a synthetic
one written to a temporary file). simulate() reads the table and prepares each time; the
Simulator loads once and only re-derives the orientation table. Prints one JSON line too.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

from nanobragg_ext import api, parity  # noqa: E402
from nanobragg_ext.config import CrystalConfig, DetectorConfig, SimulationConfig  # noqa: E402


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
    a = ap.parse_args()
    cfg = SimulationConfig(detector=DetectorConfig(fpixels=a.pixels, spixels=a.pixels, pixel_size_mm=0.2,
                                                   distance_mm=100),
                           crystal=CrystalConfig(cell=(48, 52, 56, 88, 93, 97), n_cells=(6, 6, 6)),
                           hkl_file=hkl_file(), dump_file=None)
    missets = [(0.5 * i, -7.0, 25.0) for i in range(a.n)]
    out = np.empty((a.pixels, a.pixels))

    api.simulate(cfg, out=out, threads=a.threads)  # warm-up
    t0 = time.perf_counter()
    for m in missets:
        api.simulate(cfg.replace(crystal={"misset_deg": m}), out=out, threads=a.threads)
    t_fresh = time.perf_counter() - t0

    t0 = time.perf_counter()
    sim = api.Simulator(cfg, threads=a.threads)
    for m in missets:
        sim.run(out, misset_deg=m)
    t_reuse = time.perf_counter() - t0

    ratio = t_fresh / t_reuse
    print(f"{a.n} simulate() calls: {t_fresh:.3f} s; Simulator (prepare once + {a.n} re-runs): {t_reuse:.3f} s; "
          f"reuse is {ratio:.1f}x faster ({a.pixels}x{a.pixels} pixels)")
    print(json.dumps({"case": f"reuse_{a.pixels}px_{a.n}", "threads": a.threads, "simulate_s": t_fresh,
                      "simulator_s": t_reuse, "speedup": ratio}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
