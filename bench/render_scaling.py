"""The render alone, in one process: median seconds per thread count, for the runner's
render-scaling column (run.py starts it as ``python bench/render_scaling.py``).

A whole-process run also pays for the interpreter's start, the imports, reading the inputs and
writing the files, none of which uses more threads; this times only the part that does: the same
native call the command line makes (``_core.Simulator.render_image32``), after parsing and preparing once.
Thread counts are interleaved run by run, so load drift hits them alike.

    python bench/render_scaling.py --threads 1,2 --repeat 3 -- <nanoBragg options> -precision single

Prints one JSON object: {"threads": {"1": median seconds, ...}, "min": {...}, "runs": {...}}.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="render_scaling.py")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("options", nargs=argparse.REMAINDER, help="-- then the nanoBragg options")
    args = ap.parse_args(argv)
    options = args.options[1:] if args.options[:1] == ["--"] else args.options

    from nanobragg_ext import pipeline
    from nanobragg_ext.options import parse_args

    req = parse_args(options)
    sim = pipeline.load_request(req, [])
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    runs = {t: [] for t in threads}
    sim.render_image32(req.precision, threads[0])  # warm the caches and pages once
    for _ in range(max(1, args.repeat)):
        for t in threads:
            t0 = time.perf_counter()
            sim.render_image32(req.precision, t)
            runs[t].append(time.perf_counter() - t0)
    print(json.dumps({"threads": {str(t): statistics.median(r) for t, r in runs.items()},
                      "min": {str(t): min(r) for t, r in runs.items()},
                      "runs": {str(t): r for t, r in runs.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
