"""Per-pixel render time of a multi-panel preset against one flat panel of about the same size.

The issue's target: a 16M-pixel preset renders no slower per pixel than the one-panel
4096 x 4096 detector. Prints ns per pixel for both (best of --repeat, same crystal and beam).

    PYTHONPATH=python python bench/bench_panels.py                       # EIGER2 X 16M vs 4096^2
    PYTHONPATH=python python bench/bench_panels.py --preset eiger2_x_4m --side 2048 --threads 2
"""
import argparse
import time

import numpy as np

from nanobragg_ext import api
from nanobragg_ext.detector.presets import preset_detector
from nanobragg_ext.detector.render import render_detector
from nanobragg_ext.options import parse_args
from nanobragg_ext.pipeline import load_request


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="eiger2_x_16m")
    ap.add_argument("--side", type=int, default=4096, help="pixels per side of the one-panel detector")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    args = ["-cell", "79", "79", "38", "90", "90", "90", "-default_F", "100", "-N", "5", "-lambda", "1",
            "-distance", "200", "-pixel", "0.075", "-detpixels", str(a.side), "-oversample", "1", "-seed", "1"]
    sim = load_request(parse_args(args))
    g = sim.prepared.geometry
    det = preset_detector(a.preset, g["distance"], g["beam"], g["fdet"], g["sdet"])
    npix_det = sum(p.fpixels * p.spixels for p in det.panels)
    image = np.zeros((g["spixels"], g["fpixels"]))

    def best(fn):
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    t_one = best(lambda: api.render(sim, image, threads=a.threads))
    t_det = best(lambda: render_detector(sim, det, threads=a.threads))
    print(f"one panel {a.side}^2: {t_one:.3f} s, {1e9 * t_one / image.size:.1f} ns/pixel")
    print(f"{a.preset} ({len(det.panels)} panels, {npix_det} pixels): {t_det:.3f} s, "
          f"{1e9 * t_det / npix_det:.1f} ns/pixel")


if __name__ == "__main__":
    main()
