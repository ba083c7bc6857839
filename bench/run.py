#!/usr/bin/env python3
"""Benchmark runner for nanobragg-ext (and, optionally, the original nanoBragg C).

Runs a fixed set of cases as whole processes (start-up included) through
``python -m nanobragg_ext.cli``, takes the median wall time of ``--repeat`` runs,
and reports evaluations per second, peak memory (max RSS of the child), parallel
efficiency (when ``--threads`` lists 1 and more: the whole process's, and the render's
alone, timed in one process by ``render_scaling.py``) and, when ``NB_C_BIN`` (or
``--c-bin``) names a build of the original nanoBragg, the C's time on the same
arguments with ``OMP_NUM_THREADS`` set to the same thread count, and the ratio.

Usage (from the repository root, after ``pip install .`` or the developer install of README.md):

    python -m bench                               # all cases, 2 threads, double
    python bench/run.py --threads 1,2 --precision single,double
    NB_C_BIN=/path/to/nanoBragg python -m bench --cases still,tricubic --repeat 5
    python -m bench --quick --repeat 1            # smoke run on small detectors

Results: a table on stdout, ``bench/results/<timestamp>.json`` and one JSON line per
(case, threads, precision) appended to ``bench/results/history.jsonl``.
This is not part of the test suite.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

def _gnu_time() -> Optional[str]:
    t = "/usr/bin/time"
    if not os.access(t, os.X_OK):
        return None
    try:
        r = subprocess.run([t, "-f", "%M", "true"], capture_output=True, text=True, timeout=10)
        int(r.stderr.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    return t


GNU_TIME = _gnu_time() if os.environ.get("NB_BENCH_NO_GNU_TIME") is None else None

COMMON_ARGS = ["-seed", "1", "-nonoise", "-nopgm", "-noprogress"]

# Triclinic cell and orientation shared by the HKL cases.
TRICLINIC = ["-cell", "48", "52", "56", "88", "93", "97", "-misset", "12", "-7", "25"]
CUBIC = ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100"]


@dataclass
class Case:
    key: str            # short name used by --cases
    number: int         # 1-based number, also accepted by --cases
    title: str
    args: List[str]     # nanoBragg options, with "{hkl}" standing for the HKL file
    detpixels: int
    quick_detpixels: int
    needs_hkl: bool = False

    def argv(self, hkl: Optional[str], quick: bool) -> List[str]:
        pix = self.quick_detpixels if quick else self.detpixels
        out = []
        for a in self.args:
            out.append(hkl if a == "{hkl}" else a)
        return out + ["-detpixels", str(pix)] + COMMON_ARGS


CASES: List[Case] = [
    Case("still", 1, "1024^2 still, cubic 100 A, N=5, default_F",
         CUBIC + ["-N", "5", "-lambda", "1", "-distance", "100", "-pixel", "0.1"],
         1024, 256),
    Case("mosaic", 2, "1024^2, 50 mosaic domains (0.5 deg), oversample 2",
         CUBIC + ["-N", "5", "-lambda", "1", "-distance", "100", "-pixel", "0.1",
                  "-mosaic", "0.5", "-mosaic_domains", "50", "-mosaic_seed", "1",
                  "-oversample", "2"],
         1024, 256),
    Case("rotation", 3, "256^2, 10 phi x 5x5 square divergence x 3 dispersion",
         CUBIC + ["-N", "5", "-lambda", "1", "-distance", "100", "-pixel", "0.1",
                  "-phi", "0", "-osc", "1", "-phisteps", "10",
                  "-hdivrange", "0.5", "-vdivrange", "0.5", "-hdivsteps", "5", "-vdivsteps", "5",
                  "-square_div", "-dispersion", "0.2", "-dispsteps", "3"],
         256, 64),
    Case("triclinic", 4, "2048^2, P1.hkl, triclinic 48 52 56 88 93 97, misset, N=6",
         ["-hkl", "{hkl}"] + TRICLINIC + ["-N", "6", "-lambda", "1", "-distance", "100",
                                          "-pixel", "0.1"],
         2048, 512, needs_hkl=True),
    Case("tricubic", 5, "1024^2, P1.hkl, triclinic, N=1, -interpolate, oversample 4",
         ["-hkl", "{hkl}"] + TRICLINIC + ["-N", "1", "-interpolate", "-lambda", "1",
                                          "-distance", "600", "-pixel", "0.1",
                                          "-oversample", "4"],
         1024, 256, needs_hkl=True),
]


# --------------------------------------------------------------------------- helpers


def _git(*args: str) -> Optional[str]:
    try:
        r = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True,
                           text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def git_info() -> Dict[str, object]:
    sha = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"git_sha": sha, "git_dirty": bool(status) if status is not None else None}


def loadavg() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def find_hkl(tmp: Path) -> Tuple[str, str]:
    """Golden P1.hkl if available, else a deterministic synthetic one in ``tmp``."""
    cands = []
    env = os.environ.get("NANOBRAGG_GOLDEN")
    if env:
        cands.append(Path(env) / "inputs" / "P1.hkl")
    cands.append(REPO_ROOT.parent / "shared" / "golden" / "inputs" / "P1.hkl")
    for c in cands:
        if c.is_file():
            return str(c), "golden"
    path = tmp / "P1.hkl"
    rng = random.Random(20240601)
    lines = []
    for h in range(-9, 10):
        for k in range(-9, 10):
            for l in range(-9, 10):
                if (h, k, l) != (0, 0, 0) and rng.random() < 0.12:
                    continue  # leave holes, like the golden file
                if (h, k, l) == (0, 0, 0):
                    f = 3000.0
                else:
                    s2 = (h * h + k * k + l * l) / 81.0
                    f = 200.0 * (-2.0 * math.log(1.0 - rng.random())) ** 0.5
                    f *= math.exp(-1.5 * s2)
                lines.append(f"{h} {k} {l} {f:.2f}\n")
    path.write_text("".join(lines))
    return str(path), "generated"


_RE_PIX = re.compile(r"\((\d+)x(\d+) pixels\)")
_RE_SRC = re.compile(r"^\s*(\d+) sources\s*$", re.M)
_RE_MOS = re.compile(r"^\s*(\d+) mosaic domains over", re.M)
_RE_PHI = re.compile(r"^\s*(\d+) phi steps", re.M)
_RE_OVS = re.compile(r"^\s*(\d+)x(\d+) pixel oversample steps", re.M)


def parse_work(text: str) -> Optional[Dict[str, int]]:
    """Work counts from the console summary (same lines in nanoBragg and our CLI)."""
    m = [_RE_PIX.search(text), _RE_SRC.search(text), _RE_MOS.search(text),
         _RE_PHI.search(text), _RE_OVS.search(text)]
    if not all(m):
        return None
    w = {"fpixels": int(m[0].group(1)), "spixels": int(m[0].group(2)),
         "sources": int(m[1].group(1)), "mosaic_domains": int(m[2].group(1)),
         "phisteps": int(m[3].group(1)), "oversample": int(m[4].group(1))}
    w["evaluations"] = (w["fpixels"] * w["spixels"] * w["oversample"] ** 2 * w["sources"]
                        * w["phisteps"] * w["mosaic_domains"])
    return w


@dataclass
class RunResult:
    seconds: float
    maxrss_kb: int
    returncode: int
    output: str


def _kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, 9)
    except OSError:
        try:
            p.kill()
        except OSError:
            pass


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def imported_package(python: str) -> Optional[Tuple[Path, Path]]:
    """Where ``python`` imports nanobragg_ext from (a pip install, an editable install, or the tree
    with PYTHONPATH=python) and the folder of its native modules (elsewhere for an editable
    install); None when it cannot import it."""
    code = ("import os, nanobragg_ext, nanobragg_ext._core as c; "
            "print(os.path.dirname(nanobragg_ext.__file__)); print(os.path.dirname(c.__file__))")
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tempfile.gettempdir())
    lines = r.stdout.split("\n")
    if r.returncode != 0 or len(lines) < 2:
        return None
    return Path(lines[0]), Path(lines[1])


def snapshot_package(tmp: Path, python: str) -> Optional[Path]:
    """Copy the nanobragg_ext that ``python`` imports (with its native modules) into ``tmp``.

    Other people may rebuild and copy a new _core*.so over the one in use while the benchmark
    runs; a process that has the old file mapped then dies with SIGBUS, and later runs would
    time a different build.  Timing a private copy avoids both.
    """
    found = imported_package(python)
    if found is None:
        return None
    src, native = found
    dst = tmp / "pkg"
    shutil.copytree(src, dst / "nanobragg_ext",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for so in list(native.glob("_core*")) + list(native.glob("_cuda*")):
        if not (dst / "nanobragg_ext" / so.name).exists():
            shutil.copy2(so, dst / "nanobragg_ext" / so.name)
    vendored = native.parent / "nanobragg_ext.libs"  # libgomp of an auditwheel-repaired wheel
    if vendored.is_dir():
        shutil.copytree(vendored, dst / vendored.name)
    # Byte-compile it as pip does when it installs the package: otherwise every timed run pays
    # for compiling the CLI's modules again when PYTHONDONTWRITEBYTECODE is set (~30 ms here).
    import compileall
    compileall.compile_dir(str(dst / "nanobragg_ext"), quiet=1)
    return dst


def _core_fingerprint() -> Optional[Dict[str, object]]:
    """Name, size, mtime and sha256 of the timed _core extension (the tree may be dirty)."""
    import hashlib
    if PKG_DIR is None:
        return None
    sos = sorted((PKG_DIR / "nanobragg_ext").glob("_core*"))
    if not sos:
        return None
    so = sos[0]
    return {"name": so.name, "bytes": so.stat().st_size,
            "sha256": hashlib.sha256(so.read_bytes()).hexdigest()[:16],
            "mtime": _dt.datetime.fromtimestamp(so.stat().st_mtime).isoformat(timespec="seconds")}


def run_once(cmd: Sequence[str], env: Dict[str, str], cwd: Path, timeout: float) -> RunResult:
    """One process: wall time, and max RSS of exactly that child (via wait4)."""
    log = cwd / "console.txt"
    rss_file = cwd / "maxrss.txt"
    if GNU_TIME:
        # Linux charges a child's ru_maxrss with the RSS of the forking process up to
        # exec, so wait4 on a child of this (large) Python process overstates small
        # programs; GNU time forks from a tiny process instead.
        cmd = [GNU_TIME, "-f", "%M", "-o", str(rss_file)] + list(cmd)
    with open(log, "wb") as fh:
        t0 = time.perf_counter()
        p = subprocess.Popen(list(cmd), stdout=fh, stderr=subprocess.STDOUT, env=env,
                             cwd=str(cwd), start_new_session=True)
        deadline = t0 + timeout
        try:
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    _kill_group(p)
                    pid, status, ru = os.wait4(p.pid, 0)
                    break
                time.sleep(0.002)
        except BaseException:  # Ctrl-C / SIGTERM: take the child down with us
            _kill_group(p)
            raise
        t1 = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is KiB on Linux, bytes on macOS
    rss = ru.ru_maxrss // 1024 if sys.platform == "darwin" else ru.ru_maxrss
    if GNU_TIME:
        try:
            rss = int(rss_file.read_text().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            pass
    return RunResult(t1 - t0, int(rss), p.returncode, log.read_text(errors="replace"))


def add_render_scaling(rows: List[Dict[str, object]], case: Case, precision: str,
                       base: List[str], threads: List[int], repeat: int, args, tmp: Path) -> None:
    """The render alone at each thread count (bench/render_scaling.py, one process), added to
    the case's rows as render_seconds and render_efficiency (relative to the fewest threads).
    At least 5 renders per thread count: they are short, and on a shared machine a few are
    always slowed by neighbours."""
    d = tmp / f"{case.key}-render-{precision}"
    d.mkdir(parents=True, exist_ok=True)
    cmd = [args.python, str(BENCH_DIR / "render_scaling.py"), "--threads", ",".join(map(str, threads)),
           "--repeat", str(max(repeat, 5)), "--", *base, "-precision", precision,
           "-floatfile", str(d / "float.bin"), "-intfile", str(d / "int.img")]
    r = subprocess.run(cmd, env=ours_env(max(threads)), cwd=str(d), capture_output=True, text=True,
                       timeout=args.timeout * (repeat + 1) * len(threads))
    if r.returncode != 0:
        print(f"  !! {case.key} {precision} render scaling failed: {r.stderr.strip()[-300:]}",
              file=sys.stderr)
        return
    seconds = {int(t): s for t, s in json.loads(r.stdout)["threads"].items()}
    t_ref = min(threads)
    for row in rows:
        if row["case"] == case.key and row["precision"] == precision and row["threads"] in seconds:
            row["render_seconds"] = seconds[row["threads"]]
            row["render_efficiency"] = seconds[t_ref] / seconds[row["threads"]] * t_ref / row["threads"]
    print(f"  {case.number}:{case.key:<10} render only {precision:<6} "
          + "  ".join(f"t={t} {fmt_s(s)} s" for t, s in sorted(seconds.items())))
    sys.stdout.flush()


def compare_float(a: Path, b: Path) -> Optional[float]:
    """max |a-b| / max |b| over two float images (None if numpy or a file is missing)."""
    try:
        import numpy as np
    except ImportError:
        return None
    if not (a.is_file() and b.is_file()):
        return None
    x = np.fromfile(a, dtype=np.float32).astype(np.float64)
    y = np.fromfile(b, dtype=np.float32).astype(np.float64)
    if x.shape != y.shape:
        return float("inf")
    den = float(np.max(np.abs(y))) or 1.0
    return float(np.max(np.abs(x - y))) / den


def parse_list(text: str, kind=str) -> List:
    return [kind(t.strip()) for t in text.split(",") if t.strip()]


def select_cases(spec: Optional[str]) -> List[Case]:
    if not spec or spec == "all":
        return list(CASES)
    by = {c.key: c for c in CASES}
    by.update({str(c.number): c for c in CASES})
    out = []
    for t in parse_list(spec):
        if t not in by:
            raise SystemExit(f"bench: unknown case '{t}' (choose from "
                             + ", ".join(f"{c.number}/{c.key}" for c in CASES) + ")")
        if by[t] not in out:
            out.append(by[t])
    return out


PKG_DIR: Optional[Path] = None  # the private snapshot (main()); None: what the interpreter imports


def ours_env(threads: int) -> Dict[str, str]:
    env = dict(os.environ)
    if PKG_DIR is not None:
        env["PYTHONPATH"] = str(PKG_DIR) + (os.pathsep + env["PYTHONPATH"]
                                               if env.get("PYTHONPATH") else "")
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def check_module(python: str) -> str:
    r = subprocess.run([python, "-m", "nanobragg_ext.cli", "info"], env=ours_env(1),
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(
            "bench: cannot run nanobragg_ext: install it first (pip install . or the developer "
            "install in README.md)\n" + r.stderr.strip())
    return r.stdout.strip()


def interpreter_start(python: str, runs: int = 5) -> Optional[float]:
    """Median wall time of `python -c pass`: the floor under every run of ours, which no thread
    count shortens (site-packages .pth files of the environment included)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        if subprocess.run([python, "-c", "pass"], env=ours_env(1)).returncode != 0:
            return None
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fmt_s(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.3f}"


def fmt_rate(x: Optional[float]) -> str:
    if x is None:
        return "-"
    for unit, d in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= d:
            return f"{x / d:.2f}{unit}"
    return f"{x:.0f}"


# --------------------------------------------------------------------------- main


def main(argv: Optional[List[str]] = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("bench: interrupted; nothing saved", file=sys.stderr)
        return 130


def _main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="all",
                    help="comma list of case numbers or names: "
                         + ", ".join(f"{c.number}={c.key}" for c in CASES) + " (default all)")
    ap.add_argument("--threads", default="2", help="comma list of thread counts (default 2)")
    ap.add_argument("--precision", default="double",
                    help="comma list of single,double (default double)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant (default 3)")
    ap.add_argument("--quick", action="store_true", help="small detectors: a smoke run")
    ap.add_argument("--c-bin", default=os.environ.get("NB_C_BIN"),
                    help="original nanoBragg binary to compare with (default $NB_C_BIN)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for our CLI")
    ap.add_argument("--timeout", type=float, default=600.0, help="per-run limit in seconds")
    ap.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    ap.add_argument("--no-snapshot", action="store_true",
                    help="time the installed package in place instead of a private copy")
    ap.add_argument("--keep", action="store_true", help="keep the temporary output directory")
    args = ap.parse_args(argv)

    cases = select_cases(args.cases)
    threads = parse_list(args.threads, int)
    precisions = parse_list(args.precision)
    for p in precisions:
        if p not in ("single", "double"):
            raise SystemExit(f"bench: unknown precision '{p}'")
    if any(t < 1 for t in threads):
        raise SystemExit("bench: thread counts must be >= 1")
    repeat = max(1, args.repeat)
    c_bin = args.c_bin
    if c_bin:
        c_bin = shutil.which(c_bin) or c_bin
        if not os.access(c_bin, os.X_OK):
            raise SystemExit(f"bench: NB_C_BIN / --c-bin '{c_bin}' is not executable")

    global PKG_DIR
    signal.signal(signal.SIGTERM, _sigterm)
    tmp = Path(tempfile.mkdtemp(prefix="nbbench-"))
    if not args.no_snapshot:
        PKG_DIR = snapshot_package(tmp, args.python)
    try:
        info = check_module(args.python)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    hkl, hkl_source = find_hkl(tmp)
    python_start = interpreter_start(args.python)
    started = _dt.datetime.now()
    meta = {
        "timestamp": started.isoformat(timespec="seconds"),
        **git_info(),
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "sched_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "maxrss_via": "GNU time %M" if GNU_TIME else "wait4 ru_maxrss",
        "loadavg_start": loadavg(),
        "nanobragg_ext_info": info,
        "python_start_s": python_start,
        "c_bin": c_bin,
        "core_so": _core_fingerprint(),
        "package": "as installed" if PKG_DIR is None else f"{PKG_DIR} (snapshot of the installed package)",
        "hkl": hkl, "hkl_source": hkl_source,
        "repeat": repeat, "quick": args.quick,
        "threads": threads, "precisions": precisions,
    }
    print(f"nanobragg-ext bench  git {meta['git_sha'] and meta['git_sha'][:10]}"
          f"{' (dirty)' if meta['git_dirty'] else ''}  nproc {meta['nproc']}  "
          f"load {meta['loadavg_start']}  repeat {repeat}{'  QUICK' if args.quick else ''}")
    print(f"  C reference: {c_bin or 'none (set NB_C_BIN)'}   hkl: {hkl_source}   tmp: {tmp}")
    print(f"  interpreter start-up (python -c pass): {fmt_s(python_start)} s, part of every run of ours")
    sys.stdout.flush()

    rows: List[Dict[str, object]] = []
    try:
        for case in cases:
            base = case.argv(hkl if case.needs_hkl else None, args.quick)
            for nt in threads:
                variants = [("C", None)] if c_bin else []
                variants += [("ours", p) for p in precisions]
                times: Dict[tuple, List[float]] = {v: [] for v in variants}
                rss: Dict[tuple, int] = {v: 0 for v in variants}
                outs: Dict[tuple, str] = {}
                dirs: Dict[tuple, Path] = {}
                failed: Dict[tuple, str] = {}
                load0 = loadavg()
                for v in variants:
                    d = tmp / f"{case.key}-t{nt}-{v[0]}-{v[1] or 'c'}"
                    d.mkdir(parents=True, exist_ok=True)
                    dirs[v] = d
                # Interleave the variants so that load drift on a shared machine
                # hits them alike.
                for _ in range(repeat):
                    for v in variants:
                        if v in failed:
                            continue
                        d = dirs[v]
                        files = ["-floatfile", str(d / "float.bin"), "-intfile", str(d / "int.img")]
                        if v[0] == "C":
                            cmd = [c_bin] + base + files
                            env = dict(os.environ, OMP_NUM_THREADS=str(nt))
                        else:
                            cmd = ([args.python, "-m", "nanobragg_ext.cli"] + base + files
                                   + ["-precision", v[1], "-threads", str(nt)])
                            env = ours_env(nt)
                        r = run_once(cmd, env, d, args.timeout)
                        if r.returncode != 0:
                            failed[v] = f"exit {r.returncode}: " + r.output.strip()[-300:]
                            print(f"  !! {case.key} {v} failed: {failed[v]}", file=sys.stderr)
                            continue
                        times[v].append(r.seconds)
                        rss[v] = max(rss[v], r.maxrss_kb)
                        outs[v] = r.output
                load1 = loadavg()
                c_med = (statistics.median(times[("C", None)])
                         if c_bin and times[("C", None)] else None)
                for v in variants:
                    if v[0] == "C":
                        continue
                    t = times[v]
                    med = statistics.median(t) if t else None
                    work = parse_work(outs.get(v, "")) or (
                        parse_work(outs.get(("C", None), "")))
                    evals = work["evaluations"] if work else None
                    out_text = outs.get(v, "")
                    row = {
                        "case": case.key, "number": case.number, "title": case.title,
                        "threads": nt, "precision": v[1],
                        "seconds": med, "runs": t,
                        "min_seconds": min(t) if t else None,
                        "evaluations": evals,
                        "evals_per_s": (evals / med) if (evals and med) else None,
                        "maxrss_kb": rss[v] or None,
                        "work": work,
                        "c_seconds": c_med,
                        "c_runs": times.get(("C", None)),
                        "c_maxrss_kb": rss.get(("C", None)) or None,
                        "c_evals_per_s": (evals / c_med) if (evals and c_med) else None,
                        "speedup_vs_c": (c_med / med) if (c_med and med) else None,
                        "max_rel_diff_vs_c": (compare_float(dirs[v] / "float.bin",
                                                            dirs[("C", None)] / "float.bin")
                                              if c_bin and ("C", None) not in failed else None),
                        "interpolation_switched_off": "interpolation turned off" in out_text,
                        "loadavg": [load0, load1],
                        "error": failed.get(v),
                        "args": base,
                    }
                    rows.append(row)
                    print(f"  {case.number}:{case.key:<10} t={nt} {v[1]:<6} ours {fmt_s(med)} s"
                          f"  C {fmt_s(c_med)} s  load {load1}")
                    sys.stdout.flush()
            if len(threads) > 1:
                for p in precisions:
                    add_render_scaling(rows, case, p, base, threads, repeat, args, tmp)
    finally:
        if args.keep:
            print(f"  outputs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    # parallel efficiency relative to the smallest thread count measured
    if len(threads) > 1:
        t_ref = min(threads)
        ref = {(r["case"], r["precision"]): r for r in rows if r["threads"] == t_ref}
        for r in rows:
            b = ref.get((r["case"], r["precision"]))
            if b and b["seconds"] and r["seconds"]:
                sp = b["seconds"] / r["seconds"]
                r["parallel_speedup"] = sp
                r["parallel_efficiency"] = sp * t_ref / r["threads"]
            bc = [x for x in rows if x["case"] == r["case"] and x["threads"] == t_ref]
            if bc and bc[0]["c_seconds"] and r["c_seconds"]:
                r["c_parallel_efficiency"] = (bc[0]["c_seconds"] / r["c_seconds"]
                                              * t_ref / r["threads"])

    meta["loadavg_end"] = loadavg()
    meta["elapsed_s"] = round((_dt.datetime.now() - started).total_seconds(), 1)
    print_table(rows, bool(c_bin), len(threads) > 1)
    speedups = [r["speedup_vs_c"] for r in rows if r.get("speedup_vs_c")]
    summary = {}
    if speedups:
        summary["median_speedup_vs_c"] = statistics.median(speedups)
        for p in precisions:
            s = [r["speedup_vs_c"] for r in rows if r.get("speedup_vs_c") and r["precision"] == p]
            if s:
                summary[f"median_speedup_vs_c_{p}"] = statistics.median(s)
        print("median speed-up vs C (C time / ours): "
              + f"{summary['median_speedup_vs_c']:.2f}x overall"
              + "".join(f", {p} {summary['median_speedup_vs_c_' + p]:.2f}x"
                        for p in precisions if f"median_speedup_vs_c_{p}" in summary))
    print(f"nproc {meta['nproc']}, load average start {meta['loadavg_start']} "
          f"end {meta['loadavg_end']}, elapsed {meta['elapsed_s']} s")

    if not args.no_save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = started.strftime("%Y%m%d-%H%M%S")
        path = RESULTS_DIR / f"{stamp}.json"
        path.write_text(json.dumps({"meta": meta, "summary": summary, "results": rows},
                                   indent=1) + "\n")
        with open(RESULTS_DIR / "history.jsonl", "a") as fh:
            for r in rows:
                fh.write(json.dumps({
                    "timestamp": meta["timestamp"], "git_sha": meta["git_sha"],
                    "git_dirty": meta["git_dirty"], "quick": args.quick,
                    "case": r["case"], "threads": r["threads"], "precision": r["precision"],
                    "seconds": r["seconds"], "evals_per_s": r["evals_per_s"],
                    "render_seconds": r.get("render_seconds"),
                    "maxrss_kb": r["maxrss_kb"], "c_seconds": r["c_seconds"],
                    "nproc": meta["nproc"], "loadavg": r["loadavg"][1],
                }) + "\n")
        print(f"wrote {path.relative_to(REPO_ROOT)} and appended "
              f"{len(rows)} lines to {(RESULTS_DIR / 'history.jsonl').relative_to(REPO_ROOT)}")
    return 1 if any(r["error"] for r in rows) else 0


def print_table(rows: List[Dict[str, object]], with_c: bool, with_eff: bool) -> None:
    head = ["case", "thr", "prec", "ours s", "evals/s", "MaxRSS MB"]
    if with_eff:
        head += ["par.eff", "render s", "render eff"]
    if with_c:
        head += ["C s", "C MB", "C/ours", "max|d|/max"]
        if with_eff:
            head += ["C par.eff"]
    table = [head]
    for r in rows:
        line = [f"{r['number']}:{r['case']}", str(r["threads"]), r["precision"],
                fmt_s(r["seconds"]), fmt_rate(r["evals_per_s"]),
                "-" if not r["maxrss_kb"] else f"{r['maxrss_kb'] / 1024:.0f}"]
        if with_eff:
            e = r.get("parallel_efficiency")
            line.append("-" if e is None else f"{100 * e:.0f}%")
            line.append(fmt_s(r.get("render_seconds")))
            e = r.get("render_efficiency")
            line.append("-" if e is None else f"{100 * e:.0f}%")
        if with_c:
            line += [fmt_s(r["c_seconds"]),
                     "-" if not r["c_maxrss_kb"] else f"{r['c_maxrss_kb'] / 1024:.0f}",
                     "-" if not r["speedup_vs_c"] else f"{r['speedup_vs_c']:.2f}x",
                     "-" if r["max_rel_diff_vs_c"] is None else f"{r['max_rel_diff_vs_c']:.1e}"]
            if with_eff:
                e = r.get("c_parallel_efficiency")
                line.append("-" if e is None else f"{100 * e:.0f}%")
        if r.get("interpolation_switched_off"):
            line[0] += "*"
        if r.get("error"):
            line[0] += "!"
        table.append(line)
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    print()
    for i, row in enumerate(table):
        print("  ".join(c.rjust(w) if j >= 3 else c.ljust(w)
                        for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if any(r.get("interpolation_switched_off") for r in rows):
        print("* interpolation was switched off (HKL range too small for the resolution)")
    if any(r.get("error") for r in rows):
        print("! some runs failed; see the JSON 'error' field")
    print()


if __name__ == "__main__":
    sys.exit(main())
