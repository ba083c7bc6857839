#!/usr/bin/env python3
"""Differential fuzzing of nanobragg-ext against the original nanoBragg (NB_C_BIN).

    NB_C_BIN=/path/to/nanoBragg python tests/fuzz/fuzz_vs_c.py --cases 5000 --jobs 2 --log fuzz.jsonl
    NB_C_BIN=... python tests/fuzz/fuzz_vs_c.py --case 1234        # one case again, with its argv

Each case (grammar.py) runs in both programs in its own empty folder, single-threaded, and is
judged by the policy of judge.py. Violations are reduced to a minimal command line (whole options
removed while the verdict stays the same) and grouped by class; the tally and one minimal
example per class are printed at the end (and every --every cases).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grammar import Case, make_case, option_groups, option_names  # noqa: E402
from judge import ForkServer, Subprocess, Verdict, run_case  # noqa: E402


def reduce_case(case: Case, target: Verdict, c_prog, ours, timeout: float, budget: int) -> Case:
    """Drop whole options (an option and its values), the last first, while the verdict keeps its class."""
    best = case
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        groups = option_groups(best.argv)
        for i in range(len(groups) - 1, -1, -1):
            if tries >= budget:
                break
            trial = replace(best, argv=[t for j, g in enumerate(groups) if j != i for t in g])
            tries += 1
            v = run_case(trial, c_prog, ours, timeout)
            if v.verdict == "violation" and v.key == target.key:
                best, changed = trial, True
                break
    return best


def main(argv: List[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=200, help="number of cases (default 200)")
    ap.add_argument("--start", type=int, default=0, help="first case number")
    ap.add_argument("--case", type=int, help="run this one case and print everything about it")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per program run")
    ap.add_argument("--ours", help="command running nanobragg-ext, one process per case (default: forked "
                                   "children of one warm interpreter running this Python's nanobragg_ext)")
    ap.add_argument("--log", help="append one JSON line per case here")
    ap.add_argument("--reduce", type=int, default=4, help="violations reduced per class (default 4)")
    ap.add_argument("--every", type=int, default=250, help="print the tally every N cases")
    args = ap.parse_args(argv)
    c_path = os.environ.get("NB_C_BIN")
    if not c_path:
        print("NB_C_BIN is not set: nothing to compare against (set it to the original nanoBragg)")
        return 0
    ours = Subprocess(shlex.split(args.ours)) if args.ours else ForkServer()
    c_prog = Subprocess([c_path])

    if args.case is not None:
        case = make_case(args.case)
        v = run_case(case, c_prog, ours, args.timeout)
        print("argv:", shlex.join(case.argv))
        print("files:", {k: len(b) for k, b in case.files.items()})
        print(f"{v.verdict}: {v.key}\n{v.detail}")
        return 0

    tally: Counter = Counter()
    classes: Counter = Counter()
    named: Dict[str, Counter] = {}  # per class, the options our error lines name
    examples: Dict[str, dict] = {}
    log = open(args.log, "a") if args.log else None
    t0 = time.time()

    def one(n: int):
        case = make_case(n)
        t = time.time()
        return case, run_case(case, c_prog, ours, args.timeout), time.time() - t

    def report() -> None:
        took = time.time() - t0
        print(f"\n== {sum(tally.values())} cases in {took:.0f} s: " +
              ", ".join(f"{k} {v}" for k, v in sorted(tally.items())), flush=True)
        for key, count in classes.most_common():
            ex = examples.get(key, {})
            opts = ", ".join(f"{o} {n}" for o, n in named.get(key, Counter()).most_common(12))
            print(f"  {count:5d}  {key}" + (f"\n         options named: {opts}" if opts else "") +
                  f"\n         e.g. case {ex.get('case')}: {ex.get('argv')}", flush=True)

    numbers = range(args.start, args.start + args.cases)
    with ThreadPoolExecutor(args.jobs) as pool:
        for i, (case, v, took) in enumerate(pool.map(one, numbers), 1):
            tally[v.verdict] += 1
            entry = {"case": case.number, "verdict": v.verdict, "key": v.key, "detail": v.detail,
                     "argv": shlex.join(case.argv), "seconds": round(took, 2)}
            if v.verdict in ("violation", "deviation"):
                classes[v.key] += 1
                m = re.search(r"(?<![\w-])-[A-Za-z]\w*", v.detail)
                if m:
                    named.setdefault(v.key, Counter())[m.group(0)] += 1
                reduced = examples.get(v.key, {}).get("reductions", 0)
                # Slow cases are not reduced: each try would take as long.
                if v.verdict == "violation" and reduced < args.reduce and took < args.timeout / 4:
                    small = reduce_case(case, v, c_prog, ours, args.timeout, budget=30)
                    entry["reduced"] = shlex.join(small.argv)
                    entry["options"] = option_names(small.argv)
                    best = examples.get(v.key)
                    if best is None or len(small.argv) < len(best["argv"].split()):
                        examples[v.key] = {"case": case.number, "argv": shlex.join(small.argv),
                                           "reductions": reduced + 1}
                    else:
                        best["reductions"] = reduced + 1
                elif v.key not in examples:
                    examples[v.key] = {"case": case.number, "argv": shlex.join(case.argv), "reductions": 0}
            if log:
                log.write(json.dumps(entry) + "\n")
                log.flush()
            if i % args.every == 0:
                report()
    report()
    return 1 if tally["violation"] else 0


if __name__ == "__main__":
    sys.exit(main())
