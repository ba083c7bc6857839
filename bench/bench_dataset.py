"""Dataset throughput: frames/s with 1 and 2 local Dask workers, and each worker's peak memory.

    python bench/bench_dataset.py [--frames 60] [--pixels 512] [--repeat 3]   (after pip install)

Renders a still series (random orientations, seed 7) of a P1 crystal (-hkl P1.hkl, cell 48 52 56
88 93 97, N=5, 50 mosaic domains of 0.3 deg) on a detector of --pixels squared (0.172 mm, 100 mm)
into NeXus/HDF5 with one OpenMP thread per frame, as `nanobragg-ext dataset ... --threads 1
--workers W` does. Each run is a fresh process; runs with 1 and 2 workers alternate so load drift on
a shared machine hits both alike. frames/s is what Dataset.write reports (frames over the time from
the first submitted frame to the last written one: cluster start-up left out, each worker's
Simulator set-up included). Peak memory is the largest worker process's maximum RSS. Prints a
table and one JSON line.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_reuse import hkl_file  # noqa: E402

# One run, in a fresh interpreter: prints {"frames_per_s", "seconds", "worker_max_rss_mb"}.
RUN_ONE = r"""
import json, resource, sys
from nanobragg_ext.config import SimulationConfig
from nanobragg_ext.dataset import Dataset, StillSeries
hkl, pixels, frames, workers, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
if __name__ == "__main__":
    cfg = SimulationConfig.from_cli_args(
        f"-hkl {hkl} -cell 48 52 56 88 93 97 -N 5 -mosaic 0.3 -mosaic_domains 50 "
        f"-detpixels {pixels} -pixel 0.172 -distance 100".split())
    r = Dataset(cfg, StillSeries(count=frames, seed=7)).write(out, workers=workers, threads=1, overwrite=True)
    # Worker processes are waited for when the cluster closes: their peak RSS is in RUSAGE_CHILDREN (KiB).
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"frames_per_s": r["frames_per_s"], "seconds": r["seconds"], "worker_max_rss_mb": rss}))
"""


def run_one(hkl: str, pixels: int, frames: int, workers: int, out: str) -> dict:
    p = subprocess.run([sys.executable, "-c", RUN_ONE, hkl, str(pixels), str(frames), str(workers), out],
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--pixels", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    hkl = hkl_file()
    runs = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.repeat):
            for w in runs:
                runs[w].append(run_one(hkl, a.pixels, a.frames, w, os.path.join(tmp, f"w{w}.h5")))
    fps = {w: statistics.median(r["frames_per_s"] for r in rs) for w, rs in runs.items()}
    rss = {w: max(r["worker_max_rss_mb"] for r in rs) for w, rs in runs.items()}
    print(f"{a.frames} stills of {a.pixels}x{a.pixels}, 50 mosaic domains, 1 OpenMP thread per frame, "
          f"median of {a.repeat}:")
    print("| workers | frames/s | runs | worker peak RSS |")
    print("|---|---|---|---|")
    for w, rs in runs.items():
        each = ", ".join(f"{r['frames_per_s']:.2f}" for r in rs)
        print(f"| {w} | {fps[w]:.2f} | {each} | {rss[w]:.0f} MB |")
    print(f"scaling 1 -> 2 workers: {fps[2] / fps[1]:.2f}x")
    print(json.dumps({"case": f"dataset_{a.pixels}px_{a.frames}", "frames_per_s": fps, "worker_max_rss_mb": rss,
                      "scaling": fps[2] / fps[1], "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
