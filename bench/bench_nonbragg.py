"""nonbragg against the original nonBragg: whole-process wall and CPU time of the same command line,
and our render alone at several thread counts (the C has no threads: its time is one thread's).

    NB_NONBRAGG_BIN=/path/to/nonBragg python bench/bench_nonbragg.py [--sizes 1024,256] [--quick]
        [--threads 1,2] [--repeat 3] [--device cpu|cuda] [--no-whole] [--json FILE]

(with the Python where nanobragg-ext is installed). Cases: water (a monotonic table: rows in
parallel), the same with a 3x3 divergence and oversample 2 (36 evaluations per pixel), and a
shortwater-like non-monotonic table (serial, as the C), at each size. Each command runs --repeat
times, alternating with the C; medians printed. CPU time (user + system) is the fairer figure on
a shared machine; "x C" = C / ours. The interpreter floor (`python -c pass`, printed first) is
what every run of ours pays before any of our code runs (site-packages .pth files included);
"x C - floor" compares the C with ours less that floor. --device cuda times the render on the GPU
(`_cuda.render_amorphous`, the copy back and the in-order pass included) beside the CPU's.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from process_timing import timed  # bench/, the script's folder

SHORT = "0 2.57\n0.0365 2.58\n0.07 2.8\n0.12 5\n0.162 8\n0.2 6.75\n0.18 7.32\n0.216 6.75\n0.3 4.3\n0.5 3.17\n"


def cases(n: int, water: str):
    common = ["-detpixels", str(n), "-distance", "100", "-flux", "1e12", "-seed", "1", "-noprogress", "-nonoise"]
    return [
        (f"water_{n}", ["-stol", water] + common),
        (f"water_div_os2_{n}", ["-stol", water, "-divergence", "1", "-divsteps", "3", "-square_div", "-oversample",
                                "2"] + common),
        (f"nonmonotonic_{n}", ["-stol", "short.stol"] + common),
    ]




def render_only(args, threads, repeat, cwd, device):
    """{label: (median wall s, median CPU s)} of the native render alone (parse, table and set-up
    done once): one entry per CPU thread count, and "cuda" with --device cuda."""
    from nanobragg_ext import nonbragg
    from nanobragg_ext.nonbragg_options import parse_nonbragg_args

    args = [str(cwd / a) if a == "short.stol" else a for a in args]
    setup = nonbragg.prepare(parse_nonbragg_args(args), lambda w: None)
    image = nonbragg.new_image(setup.shape)
    variants = [(str(t), lambda t=t: setup.render(image, t)) for t in threads]
    if device == "cuda" and "nonmonotonic" not in " ".join(args) and "short.stol" not in " ".join(args):
        from nanobragg_ext import _cuda

        variants.append(("cuda", lambda: _cuda.render_amorphous(setup, image)))
    out = {}
    for label, call in variants:
        call()  # warm-up (the first CUDA call creates the context)
        runs, cpu = [], []
        for _ in range(max(repeat, 3)):
            c0, t0 = time.process_time(), time.perf_counter()
            call()
            runs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        out[label] = (statistics.median(runs), statistics.median(cpu))
    return out


def interpreter_floor(repeat: int):
    """Median (wall, CPU) of `python -c pass`: the start-up under every run of ours."""
    runs = [timed([sys.executable, "-c", "pass"], None) for _ in range(max(repeat, 5))]
    return tuple(statistics.median(r[k] for r in runs) for k in (0, 1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench_nonbragg.py")
    ap.add_argument("--sizes", default="1024,256", help="detector sizes (pixels per side)")
    ap.add_argument("--quick", action="store_true", help="256^2 only")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="also time the render on the GPU")
    ap.add_argument("--no-whole", action="store_true", help="the render only (no whole-process runs)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    a = ap.parse_args(argv)
    here = Path(__file__).resolve().parents[1]
    water = str(here / "python" / "nanobragg_ext" / "data" / "stol" / "water.stol")
    c_bin = os.environ.get("NB_NONBRAGG_BIN")
    threads = [int(t) for t in a.threads.split(",")]
    sizes = [256] if a.quick else [int(s) for s in a.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="nb-bench-nonbragg-"))
    (work / "short.stol").write_text(SHORT)
    floor = (0.0, 0.0) if a.no_whole else interpreter_floor(a.repeat)
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; C: {c_bin or 'not given'}; "
          f"interpreter floor (python -c pass): {floor[0]:.3f} s wall, {floor[1]:.3f} s CPU")
    print("seconds, wall (CPU); x C by CPU time")
    labels = [f"{t}t" for t in threads] + (["cuda"] if a.device == "cuda" else [])
    print(f"{'case':20s} {'ours, 1 thread':>16s} {'C':>16s} {'x C':>6s} {'x C - floor':>11s}   render only: " +
          "  ".join(labels) + ("   x C (render, 1t)" if c_bin else ""))
    rows = []
    try:
        for n in sizes:
            for name, args in cases(n, water):
                ours, theirs = [], []
                for _ in range(0 if a.no_whole else a.repeat):
                    ours.append(timed([sys.executable, "-m", "nanobragg_ext.cli", "nonbragg", "-threads", "1"] + args,
                                      work))
                    if c_bin:
                        theirs.append(timed([c_bin] + args, work))
                nan = (float("nan"),) * 2
                ow, oc = (statistics.median(x) for x in zip(*ours)) if ours else nan
                cw, cc = (statistics.median(x) for x in zip(*theirs)) if theirs else nan
                r = render_only(args, threads, a.repeat, work, a.device)
                row = {"case": name, "ours_wall_s": ow, "ours_cpu_s": oc, "c_wall_s": cw, "c_cpu_s": cc,
                       "floor_cpu_s": floor[1], "render": {k: {"wall_s": v[0], "cpu_s": v[1]} for k, v in r.items()}}
                rows.append(row)
                line = (f"{name:20s} {ow:7.3f} ({oc:6.3f}) {cw:7.3f} ({cc:6.3f}) {cc / oc:6.2f} "
                        f"{cc / max(oc - floor[1], 1e-9):11.2f}   " +
                        "  ".join(f"{v[0]:.4f} ({v[1]:.4f})" for v in r.values()))
                if c_bin:
                    line += f"   {cc / r[str(threads[0])][1]:.2f}"
                print(line, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if a.json:
        a.json.write_text(json.dumps({"cpus": os.cpu_count(), "c_bin": bool(c_bin), "floor": floor, "rows": rows},
                                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
