"""Per-pixel render time of a multi-panel preset against one flat panel of about the same size.

The issue's target: a 16M-pixel preset (EIGER2 X 16M: 32 panels, 16.8 M pixels, 18.1 M with the
gaps) renders no slower per pixel than the one-panel 4096 x 4096 detector. Prints wall and CPU
ns per pixel (best of --repeat alternated runs, same crystal, beam and sensor) for both, and for
one panel of the preset's whole extent (gaps included): a pixel's cost grows with its scattering
angle (larger sine arguments), so that panel, which sees the same angles, isolates what the
multi-panel path itself costs. A low-cost configuration: a structure-factor file of a few
reflections, one sub-pixel, thin sensors (--sensor gives every detector 450 um Si instead).

    python bench/bench_panels.py                  # EIGER2 X 16M vs 4096^2 (about a minute on 2 cores)
    python bench/bench_panels.py --quick          # EIGER2 X 4M vs 2048^2
    python bench/bench_panels.py --preset jungfrau_4m --side 2048 --threads 2
"""
import argparse
import os
import tempfile
import time

import numpy as np

from nanobragg_ext import api
from nanobragg_ext.detector.presets import preset_detector, preset_layout
from nanobragg_ext.detector.render import render_detector
from nanobragg_ext.detector.sensor_materials import attenuation_mu
from nanobragg_ext.options import parse_args
from nanobragg_ext.pipeline import load_request


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=None, help="default eiger2_x_16m (eiger2_x_4m with --quick)")
    ap.add_argument("--side", type=int, default=None, help="pixels per side of the one-panel detector "
                                                           "(default 4096, 2048 with --quick)")
    ap.add_argument("--quick", action="store_true", help="the 4M preset against 2048^2")
    ap.add_argument("--sensor", action="store_true", help="450 um Si sensors (2 layers) on both detectors")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    preset = a.preset or ("eiger2_x_4m" if a.quick else "eiger2_x_16m")
    side = a.side or (2048 if a.quick else 4096)
    with tempfile.TemporaryDirectory() as tmp:
        hkl = os.path.join(tmp, "few.hkl")
        with open(hkl, "w") as fh:
            fh.write("".join(f"{h} {k} {l} 100\n" for h in range(-1, 2) for k in range(-1, 2) for l in (0, 1)))
        args = ["-cell", "79", "79", "38", "90", "90", "90", "-hkl", hkl, "-dump", os.path.join(tmp, "Fdump.bin"),
                "-N", "5", "-lambda", "1",
                "-distance", "200", "-pixel", "0.075", "-detpixels", str(side), "-oversample", "1", "-seed", "1"]
        if a.sensor:
            args += ["-detector_thick", "450", "-detector_abs", repr(1e6 / attenuation_mu("Si", 1e-10))]
        else:
            args += ["-detector_abs", "0"]  # thin sensors: the presets' own 450 um Si is not rendered
        sim = load_request(parse_args(args))
        g = sim.prepared.geometry
        det = preset_detector(preset, g["distance"], g["beam"], g["fdet"], g["sdet"])
        lay = preset_layout(preset)  # one panel of the preset's whole extent, gaps included: the same angles
        extent_args = [x for x in args]
        i = extent_args.index("-detpixels")
        extent_args[i:i + 2] = ["-detpixels_f", str(lay.fpixels), "-detpixels_s", str(lay.spixels)]
        sim_extent = load_request(parse_args(extent_args))
    npix_det = sum(p.fpixels * p.spixels for p in det.panels)
    shape = (g["spixels"], g["fpixels"])

    def one_panel():  # a fresh image each time, as render_detector makes its stack
        api.render(sim, np.zeros(shape), threads=a.threads)

    def extent_panel():
        api.render(sim_extent, np.zeros((lay.spixels, lay.fpixels)), threads=a.threads)

    def timed(fn):
        """(wall, CPU) seconds; CPU time (all threads) is the steadier figure on a loaded machine."""
        t, c = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - t, time.process_time() - c

    runs = []  # alternated, so load drift on a shared machine hits both alike
    for _ in range(a.repeat):
        runs.append((timed(one_panel), timed(lambda: render_detector(sim, det, threads=a.threads)),
                     timed(extent_panel)))
    for what, k in (("wall", 0), ("CPU", 1)):
        t_one, t_det, t_ext = (min(r[j][k] for r in runs) for j in range(3))
        ns_one, ns_det = 1e9 * t_one / (side * side), 1e9 * t_det / npix_det
        ns_ext = 1e9 * t_ext / (lay.fpixels * lay.spixels)
        print(f"{what}: one panel {side}^2: {ns_one:.1f} ns/pixel ({t_one:.3f} s); {preset} ({len(det.panels)} "
              f"panels, {npix_det} pixels): {ns_det:.1f} ns/pixel ({t_det:.3f} s); one panel of its extent "
              f"{lay.fpixels} x {lay.spixels}: {ns_ext:.1f} ns/pixel; ratios {ns_det / ns_one:.3f} to {side}^2, "
              f"{ns_det / ns_ext:.3f} to its extent")


if __name__ == "__main__":
    main()
