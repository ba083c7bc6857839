"""``nanobragg-ext noisify`` against the C noisify (NB_NOISIFY_BIN) on one large float image.

    NB_NOISIFY_BIN=/path/to/noisify python bench/bench_noisify.py [--pixels 2048] [--repeat 3]

(with the Python where nanobragg-ext is installed).

The image is synthetic and deterministic: a water-like ring background of ~20 photons/pixel plus a
lattice of Bragg-like spots up to ~5000 photons. Each case runs both programs in a fresh folder
(whole process: start-up, reading, the chain, writing), alternating run by run; the median wall
time is printed with the ratio C/ours (> 1: we are faster), the CPU time of each process (user +
system: the fairer figure on a busy machine) and whether every output file is byte-identical;
first, the interpreter's start-up (`python -c pass`), a floor under every run of ours. Without
NB_NOISIFY_BIN only our times are printed. One JSON line at the end.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

import numpy as np

from process_timing import timed  # bench/, the script's folder

CASES = {
    "noise": ["-seed", "1"],
    "readout_flicker": ["-seed", "2", "-readout", "3", "-flicker", "0.02", "-gain", "2"],
    "psf_gauss_auto": ["-seed", "3", "-psf", "gauss", "-psf_fwhm", "150"],
    "psf_fiber_r5": ["-seed", "4", "-psf", "fiber", "-psf_fwhm", "100", "-psf_radius", "5"],
    "nonoise_psf_gauss_r4": ["-seed", "5", "-nonoise", "-psf", "gauss", "-psf_fwhm", "200", "-psf_radius", "4"],
}


def image(n: int) -> np.ndarray:
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    r = np.hypot(x - n / 2, y - n / 2) / n
    img = 20.0 * np.exp(-((r - 0.3) / 0.1) ** 2) + 2.0
    spots = (np.abs(np.sin(x * 0.35)) * np.abs(np.sin(y * 0.35))) ** 40 * 5000.0
    return (img + spots).astype(np.float32)




def outputs(folder):
    return {name: open(os.path.join(folder, name), "rb").read()
            for name in ("intimage.img", "image.pgm", "noiseimage.img") if os.path.exists(os.path.join(folder, name))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pixels", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    a = ap.parse_args()
    c_bin = os.environ.get("NB_NOISIFY_BIN")
    ours = [sys.executable, "-m", "nanobragg_ext.cli", "noisify"]
    work = tempfile.mkdtemp(prefix="bench-noisify-")
    floats = os.path.join(work, "in.bin")
    image(a.pixels).tofile(floats)
    floor = statistics.median(timed([sys.executable, "-c", "pass"], work)[0] for _ in range(5))
    print(f"image {a.pixels}x{a.pixels}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; C: {c_bin or 'not given'}; "
          f"interpreter start-up (python -c pass) {floor:.3f} s")
    print(f"{'case':24s} {'ours s':>8s} {'C s':>8s} {'C/ours':>7s} {'ours cpu':>9s} {'C cpu':>7s}  identical")
    rows = []
    for name in a.cases.split(","):
        args = ["-floatfile", floats] + CASES[name]
        t_ours, t_c = [], []
        same = None
        for _ in range(a.repeat):
            d_ours, d_c = tempfile.mkdtemp(dir=work), tempfile.mkdtemp(dir=work)
            t_ours.append(timed(ours + args, d_ours))
            if c_bin:
                t_c.append(timed([c_bin] + args, d_c))
                same = outputs(d_ours) == outputs(d_c) and bool(outputs(d_c))
        med = lambda runs, k: statistics.median(r[k] for r in runs) if runs else None  # noqa: E731
        row = {"case": name, "ours_s": med(t_ours, 0), "c_s": med(t_c, 0), "ours_cpu_s": med(t_ours, 1),
               "c_cpu_s": med(t_c, 1), "identical": same}
        ratio = f"{row['c_s'] / row['ours_s']:7.2f}" if t_c else "      -"
        c_s = f"{row['c_s']:8.3f}" if t_c else "       -"
        c_cpu = f"{row['c_cpu_s']:7.3f}" if t_c else "      -"
        print(f"{name:24s} {row['ours_s']:8.3f} {c_s} {ratio} {row['ours_cpu_s']:9.3f} {c_cpu}  "
              f"{'' if same is None else same}")
        rows.append(row)
    print(json.dumps({"pixels": a.pixels, "repeat": a.repeat, "load": os.getloadavg()[0], "python_floor_s": floor,
                      "rows": rows}))
    return 0 if all(r["identical"] in (None, True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
