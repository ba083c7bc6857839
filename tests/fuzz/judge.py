"""Runs one case in the original C and in nanobragg-ext and judges the pair by the project's policy:
where the C makes a physical image (finite, non-negative photons) ours gives the same files; where
the C gives NaN/Inf, negative photons, an error, a crash or a hang, ours refuses cleanly (one line
on stderr, exit status 2, nothing written)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from grammar import Case, float_file

MEMORY_LIMIT = 4 << 30  # address space of each run: a huge detector fails fast instead of swapping
FLOAT_TOLERANCE = 1e-6  # of the C image's maximum, as the golden parity tests
# Our refusals of input the README ("Bad input") lists as bad where the C silently misreads it or
# gives an image anyway (an unknown option, a stray token, a non-numeric value read by atof as 0, a
# value missing in the middle of the line; nan/inf or overflowing tokens; a value outside the
# option table's range (negative, zero or past any experiment), a zero-length vector; a missing,
# malformed or truncated HKL, matrix, source or SMV file, an Fdump file without its header, a mask
# of another size; cell angles that give no cell, cell edges past any crystal; a detector plane behind the sample, whose solid
# angles are negative, so the C's image is "physical" only where every intensity is 0 and every
# pixel 0; divergence settings that leave no source, where the C divides by zero and its image is
# NaN, or 0 where an ROI or mask leaves no pixel to render): documented deviations, each kept apart
# by its message in the tally.
DOCUMENTED = ("unknown option", "unexpected argument", "is not a number", "is not an integer",
              "is not a finite number", "is out of range", "must be", "zero-length vector", " needs ",
              "no cell has the angles", "lies behind the sample", "no sources: the divergence")
DOCUMENTED_FILES = ("HKL file", "matrix file", "source file", "SMV file", "mask file", "dump file")


@dataclass
class Run:
    rc: Optional[int]      # None: timed out
    stdout: str
    stderr: str
    changed: Dict[str, bytes]  # files created or modified, by name


@dataclass
class Verdict:
    verdict: str   # ok | deviation | inconclusive | violation
    c: str         # the C's outcome
    ours: str      # ours
    detail: str = ""

    @property
    def key(self) -> str:
        return f"C {self.c} -> ours {self.ours}"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _snapshot(folder: Path) -> Dict[str, str]:
    out = {}
    for p in folder.rglob("*"):
        if p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha1(p.read_bytes()).hexdigest()
    return out


class Subprocess:
    """Runs a program (the C, or nanobragg-ext's console script) as a new process per case."""

    def __init__(self, command: Sequence[str]):
        self.command = list(command)

    def __call__(self, argv: List[str], folder: Path, timeout: float):
        env = dict(os.environ, OMP_NUM_THREADS="1", LC_ALL="C")
        try:
            p = subprocess.run(self.command + argv, cwd=folder, env=env, capture_output=True, timeout=timeout,
                               preexec_fn=_limit_memory, stdin=subprocess.DEVNULL)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            return None, e.stdout or b"", e.stderr or b""


class ForkServer:
    """Runs nanobragg-ext in forked children of a warm interpreter (fork_server.py), one server
    per calling thread: the same program as the console script without its start-up time."""

    def __init__(self, python: str = sys.executable):
        self.python = python
        self.local = threading.local()

    def _server(self) -> subprocess.Popen:
        proc = getattr(self.local, "proc", None)
        if proc is None or proc.poll() is not None:
            proc = subprocess.Popen([self.python, str(Path(__file__).with_name("fork_server.py"))],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                    env=dict(os.environ, OMP_NUM_THREADS="1", LC_ALL="C"))
            self.local.proc = proc
        return proc

    def __call__(self, argv: List[str], folder: Path, timeout: float):
        out, err = folder.with_suffix(".stdout"), folder.with_suffix(".stderr")
        proc = self._server()
        proc.stdin.write(json.dumps({"argv": argv, "cwd": str(folder), "stdout": str(out), "stderr": str(err),
                                     "timeout": timeout, "memory": MEMORY_LIMIT}) + "\n")
        proc.stdin.flush()
        reply = proc.stdout.readline()
        rc = json.loads(reply)["rc"] if reply else -9  # the server itself died: count it as a crash
        read = lambda p: p.read_bytes() if p.exists() else b""  # noqa: E731
        return rc, read(out), read(err)


def run_in(program, case: Case, folder: Path, timeout: float) -> Run:
    """Run program (Subprocess or ForkServer) on case.argv in folder (which gets the case's files first)."""
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    before = _snapshot(folder)
    rc, out, err = program(case.argv, folder, timeout)
    after = _snapshot(folder)
    changed = {n: (folder / n).read_bytes() for n, h in after.items() if before.get(n) != h}
    return Run(rc, out.decode("latin-1")[-20000:], err.decode("latin-1")[-4000:], changed)


def c_outcome(run: Run, argv: List[str]) -> str:
    if run.rc is None:
        return "hang"
    if run.rc < 0:
        return f"crash(signal {-run.rc})"
    if run.rc == 9:
        return "usage" if "usage:" in run.stdout else "error"
    if run.rc != 0:
        return f"exit {run.rc}"
    data = run.changed.get(float_file(argv))
    if data is None or len(data) % 4:
        return "no float image"
    img = np.frombuffer(data, dtype="<f4")
    if not np.all(np.isfinite(img)):
        return "NaN/Inf image"
    if np.any(img < 0):
        return "negative image"
    return "physical"


def _message_class(stderr: str) -> str:
    """Our error line without its specifics (names, numbers), to group refusals."""
    line = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    line = line.removeprefix("nanobragg-ext: error: ")
    line = re.sub(r"'[^']*'", "'…'", line)
    line = re.sub(r"(?<![\w-])-[A-Za-z][\w]*", "-OPT", line)
    line = re.sub(r"-?\d[\d.e+-]*", "#", line)
    return line[:120]


def ours_outcome(run: Run) -> str:
    if run.rc is None:
        return "hang"
    if run.rc < 0:
        return f"crash(signal {-run.rc})"
    if "Traceback" in run.stderr:
        return "traceback"
    if run.rc in (2, 9):
        # Warnings about other options (one skipped at the end of the line, as the C skips it) and
        # the long-run note (policy 3: at the start, before a refusal only the set-up or the render
        # finds, such as no sources left or a NaN image) come before the error; the refusal itself
        # is one line.
        lines = [ln for ln in run.stderr.splitlines() if ln.strip() and not ln.startswith(
            ("nanobragg-ext: warning:", "nanobragg-ext: this run makes"))]
        what = "refused" if run.rc == 2 else "usage"
        if run.changed:
            return f"{what} but wrote files"
        if run.rc == 2 and len(lines) != 1:
            return f"refused with {len(lines)} stderr lines"
        return what
    if run.rc != 0:
        return f"exit {run.rc}"
    return "rendered"


def compare_files(c: Run, ours: Run, argv: List[str]) -> List[str]:
    """Differences between the files both programs wrote (the float image within tolerance)."""
    problems = []
    fname = float_file(argv)
    for name in sorted(set(c.changed) | set(ours.changed)):
        a, b = c.changed.get(name), ours.changed.get(name)
        if a is None or b is None:
            problems.append(f"{name}: only {'ours' if a is None else 'the C'} wrote it")
        elif name == fname and len(a) == len(b) and len(a) % 4 == 0:
            x, y = np.frombuffer(a, "<f4").astype(np.float64), np.frombuffer(b, "<f4").astype(np.float64)
            err = float(np.max(np.abs(x - y))) if x.size else 0.0
            if not np.all(np.isfinite(y)) or err > FLOAT_TOLERANCE * max(float(np.max(x)) if x.size else 0.0, 0.0):
                problems.append(f"{name}: float image differs (max |d| {err:g}, C max {x.max() if x.size else 0:g})")
        elif a != b:
            diff = sum(p != q for p, q in zip(a, b)) + abs(len(a) - len(b))
            problems.append(f"{name}: {diff} bytes differ")
    return problems


def _clamped_only(a: bytes, b: bytes) -> bool:
    """Whether SMV image b (ours) differs from a (the C's) only by pixels that are 0 in b: the C casts
    a negative noise count (-adc below 0) to unsigned short, which wraps; ours clamps it at 0
    (README, "Differences from the C")."""
    m = re.search(rb"HEADER_BYTES=\s*(\d+)", a[:512])
    n = int(m.group(1)) if m else 0
    if not m or a[:n] != b[:n] or len(a) != len(b) or (len(a) - n) % 2:
        return False
    x, y = np.frombuffer(a[n:], "<u2"), np.frombuffer(b[n:], "<u2")
    return bool(np.all(y[x != y] == 0))


def judge(c: Run, ours: Run, argv: List[str]) -> Verdict:
    co, oo = c_outcome(c, argv), ours_outcome(ours)
    if oo in ("hang",) and co == "hang":
        return Verdict("inconclusive", co, oo, "both slow")
    if co == "hang" and oo in ("rendered", "refused", "usage"):
        return Verdict("inconclusive", co, oo, "the C is slow; ours finished")
    if co == "physical":
        if oo == "rendered":
            problems = compare_files(c, ours, argv)
            if problems and all(p.endswith("bytes differ") for p in problems) and all(
                    _clamped_only(c.changed[n], ours.changed[n]) for n in (p.split(":")[0] for p in problems)):
                return Verdict("deviation", co, "negative noise counts clamped at 0", "; ".join(problems)[:400])
            if problems:
                kinds = sorted({"float image" if "float image" in p else "bytes" if "bytes" in p else "file set"
                                for p in problems})
                return Verdict("violation", co, "different " + "/".join(kinds), "; ".join(problems)[:400])
            return Verdict("ok", co, oo)
        msg = _message_class(ours.stderr)
        if oo == "refused" and (any(d in msg for d in DOCUMENTED) or msg.startswith(DOCUMENTED_FILES)):
            return Verdict("deviation", co, f"refused: {msg}", ours.stderr.strip()[-300:])
        return Verdict("violation", co, f"{oo}: {msg}" if oo.startswith("refused") or oo == "usage" else oo,
                       ours.stderr.strip()[-300:])
    if co == "usage":
        if oo in ("usage", "refused"):
            return Verdict("ok", co, oo)
        return Verdict("violation", co, oo, ours.stderr.strip()[-300:])
    # The C made no physical image: ours must refuse cleanly.
    if oo == "refused":
        return Verdict("ok", co, oo)
    if oo == "rendered":
        data = ours.changed.get(float_file(argv))
        img = np.frombuffer(data, "<f4") if data and len(data) % 4 == 0 else None
        if img is None:
            state = "no float image"
        elif not np.all(np.isfinite(img)):
            state = "NaN/Inf image"
        elif np.any(img < 0):
            state = "negative image"
        else:
            state = "physical image"
        return Verdict("violation", co, f"rendered, {state}", ours.stdout.strip()[-200:])
    return Verdict("violation", co, oo if not oo.startswith("refused") else f"{oo}: {_message_class(ours.stderr)}",
                   ours.stderr.strip()[-300:])


def run_case(case: Case, c_program, ours_program, timeout: float) -> Verdict:
    """Both programs on case, each in its own empty folder; the verdict of judge()."""
    with tempfile.TemporaryDirectory(prefix="nbfuzz-") as tmp:
        cdir, odir = Path(tmp, "c"), Path(tmp, "ours")
        cdir.mkdir(), odir.mkdir()
        c = run_in(c_program, case, cdir, timeout)
        o = run_in(ours_program, case, odir, timeout)
        return judge(c, o, case.argv)
