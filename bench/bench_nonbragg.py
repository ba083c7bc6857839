"""nonbragg against the original nonBragg: whole-process wall time of the same command line, and
our render alone at several thread counts (the C has no threads: its time is one thread's).

    NB_NONBRAGG_BIN=/path/to/nonBragg PYTHONPATH=python python bench/bench_nonbragg.py [--quick]

Cases: water on a 1024^2 detector (a monotonic table: rows in parallel), the same with a 3x3
divergence and oversample 2 (18 evaluations per pixel), and shortwater-like non-monotonic table
(serial, as the C). Each command runs --repeat times, alternating with the C; medians printed.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHORT = "0 2.57\n0.0365 2.58\n0.07 2.8\n0.12 5\n0.162 8\n0.2 6.75\n0.18 7.32\n0.216 6.75\n0.3 4.3\n0.5 3.17\n"


def cases(n: int, water: str):
    common = ["-detpixels", str(n), "-distance", "100", "-flux", "1e12", "-seed", "1", "-noprogress", "-nonoise"]
    return [
        ("water", ["-stol", water] + common),
        ("water_div_os2", ["-stol", water, "-divergence", "1", "-divsteps", "3", "-square_div", "-oversample", "2"]
         + common),
        ("nonmonotonic", ["-stol", "short.stol"] + common),
    ]


def timed(cmd, cwd, env):
    """(wall seconds, CPU seconds) of one process; CPU time is steadier on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def render_only(args, threads, repeat, cwd):
    """Median seconds of the native render alone (parse, table and set-up done once)."""
    import numpy as np

    from nanobragg_ext import nonbragg
    from nanobragg_ext.nonbragg_options import parse_nonbragg_args

    args = [str(cwd / a) if a == "short.stol" else a for a in args]
    req = parse_nonbragg_args(args)
    setup = nonbragg.prepare(req, lambda w: None)
    image = np.zeros(setup.shape, dtype=np.float32)
    setup.render(image, threads[0])
    out = {}
    for t in threads:
        runs, cpu = [], []
        for _ in range(repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            setup.render(image, t)
            runs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        out[t] = (statistics.median(runs), statistics.median(cpu))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench_nonbragg.py")
    ap.add_argument("--quick", action="store_true", help="256^2 instead of 1024^2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    a = ap.parse_args(argv)
    here = Path(__file__).resolve().parents[1]
    water = str(here / "python" / "nanobragg_ext" / "data" / "stol" / "water.stol")
    c_bin = os.environ.get("NB_NONBRAGG_BIN")
    threads = [int(t) for t in a.threads.split(",")]
    work = Path(tempfile.mkdtemp(prefix="nb-bench-nonbragg-"))
    (work / "short.stol").write_text(SHORT)
    env = dict(os.environ, PYTHONPATH=str(here / "python") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    print("seconds, wall (CPU); x C = C time / ours, by CPU time (the machine may be shared)")
    print(f"{'case':16s} {'ours, 1 thread':>16s} {'C':>16s} {'x C':>6s}   render only: " +
          "  ".join(f"{t} thread(s)" for t in threads) + ("   x C (render, 1t)" if c_bin else ""))
    try:
        for name, args in cases(256 if a.quick else 1024, water):
            ours, theirs = [], []
            for _ in range(a.repeat):
                ours.append(timed([sys.executable, "-m", "nanobragg_ext.cli", "nonbragg", "-threads", "1"] + args,
                                  work, env))
                if c_bin:
                    theirs.append(timed([c_bin] + args, work, env))
            ow, oc = (statistics.median(x) for x in zip(*ours))
            cw, cc = (statistics.median(x) for x in zip(*theirs)) if theirs else (float("nan"),) * 2
            r = render_only(args, threads, a.repeat, work)
            line = (f"{name:16s} {ow:7.3f} ({oc:6.3f}) {cw:7.3f} ({cc:6.3f}) {cc / oc:6.2f}   " +
                    "  ".join(f"{r[t][0]:.3f} ({r[t][1]:.3f})" for t in threads))
            if c_bin:
                line += f"   {cc / r[threads[0]][1]:.2f}"
            print(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
