"""Parity tooling: run golden cases of the original C's outputs through nanobragg-ext and compare.

``python -m nanobragg_ext.parity [case-id-substring ...]`` prints one line per case. The golden
folder is ``$NANOBRAGG_GOLDEN`` or ``../shared/golden`` beside the repository.
"""
from __future__ import annotations

import contextlib
import gzip
import io as _io
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np


def golden_dir() -> Optional[Path]:
    env = os.environ.get("NANOBRAGG_GOLDEN")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent.parent / "shared" / "golden"
        if (parent / "pyproject.toml").exists() and cand.exists():
            return cand
    cand = Path.cwd().parent / "shared" / "golden"
    return cand if cand.exists() else None


def load_manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())


@dataclass
class FloatComparison:
    max_abs: float
    ref_max: float
    pearson: float
    sum_ratio: float
    worst: tuple  # (slow, fast, ours, C)

    def passes(self, rel: float = 1e-6, pearson: float = 0.999999) -> bool:
        return self.max_abs <= rel * self.ref_max and self.pearson >= pearson


def read_gz(path: Path) -> bytes:
    with gzip.open(path, "rb") as f:
        return f.read()


def compare_float(ours: np.ndarray, ref: np.ndarray, undefined=()) -> FloatComparison:
    ours = ours.astype(np.float64)
    ref = ref.astype(np.float64)
    keep = np.ones(ref.shape, dtype=bool)
    for s, f in undefined:
        keep[s, f] = False
    d = np.where(keep, np.abs(ours - ref), 0.0)
    k = np.unravel_index(int(np.argmax(d)), d.shape)
    a, b = ours[keep], ref[keep]
    if a.std() == 0 or b.std() == 0:
        pear = 1.0 if np.array_equal(a, b) else 0.0
    else:
        pear = float(np.corrcoef(a, b)[0, 1])
    sr = float(a.sum() / b.sum()) if b.sum() != 0 else (1.0 if a.sum() == 0 else float("inf"))
    return FloatComparison(float(d.max()), float(np.abs(b).max()), pear, sr,
                           (int(k[0]), int(k[1]), float(ours[k]), float(ref[k])))


def run_case(case: dict, root: Path, workdir: Path, extra_args: List[str] = ()) -> str:
    """Run a case's args through the CLI in workdir (with inputs/ linked); returns console text."""
    from .cli import main

    (workdir / "inputs").symlink_to(root / "inputs")
    for name, src in (case.get("pre_copy") or {}).items():
        (workdir / name).write_bytes(read_gz(root / src))
    buf = _io.StringIO()
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            # Extra options go first: appended after -misset_seed they would be read as missetting
            # angles (the C's option collision, Q13).
            rc = main(list(extra_args) + list(case["args"]))
    finally:
        os.chdir(cwd)
    if rc != 0:
        raise RuntimeError(f"case {case['id']} exited {rc}:\n{buf.getvalue()[-2000:]}")
    return buf.getvalue()


def output_name(case: dict, kind: str) -> str:
    """The file name a case's run writes for an output kind ('float', 'int', 'noise', 'pgm', 'dump')."""
    defaults = {"float": "floatimage.bin", "int": "intimage.img", "noise": "noiseimage.img",
                "pgm": "image.pgm", "dump": "Fdump.bin"}
    flags = {"float": ("-floatfile", "-floatimage"), "int": ("-intfile", "-intimage"),
             "noise": ("-noisefile", "-noiseimage"), "pgm": ("-pgmfile", "-pgmimage"), "dump": ("-dump",)}
    name = defaults[kind]
    args = case["args"]
    for i, a in enumerate(args[:-1]):
        if a.startswith("-") and any(fl in a for fl in flags[kind]):
            name = args[i + 1]
    return name


def compare_bytes(ours: bytes, ref: bytes, kind: str, case: dict) -> Optional[str]:
    """None when ours equals ref byte for byte, leaving out the case's undefined pixels
    (in SMV and PGM images); otherwise a one-line description of the first difference."""
    if kind in ("int", "noise", "pgm") and case.get("undefined_pixels") and len(ours) == len(ref):
        s, f = case["shape"]
        width = 2 if kind != "pgm" else 1
        start = len(ref) - s * f * width
        a, b = bytearray(ours), bytearray(ref)
        for ps, pf in case["undefined_pixels"]:
            off = start + (ps * f + pf) * width
            a[off:off + width] = b[off:off + width]
        ours, ref = bytes(a), bytes(b)
    if ours == ref:
        return None
    if len(ours) != len(ref):
        return f"{kind}: {len(ours)} bytes, C wrote {len(ref)}"
    k = next(i for i in range(len(ref)) if ours[i] != ref[i])
    return f"{kind}: first difference at byte {k} of {len(ref)}: ours {ours[k:k + 8]!r} C {ref[k:k + 8]!r}"


def compare_case_outputs(case: dict, root: Path, workdir: Path) -> List[str]:
    """Byte comparison of every non-float output the C kept for this case; returns problems."""
    problems = []
    for kind in ("int", "noise", "pgm", "dump"):
        if kind not in case["outputs"]:
            continue
        path = workdir / output_name(case, kind)
        if not path.exists():
            problems.append(f"{kind}: {path.name} was not written")
            continue
        diff = compare_bytes(path.read_bytes(), read_gz(root / case["outputs"][kind]), kind, case)
        if diff:
            problems.append(diff)
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = golden_dir()
    if root is None:
        print("no golden folder: set NANOBRAGG_GOLDEN")
        return 2
    cases = load_manifest(root)["cases"]
    if argv:
        cases = [c for c in cases if any(a in c["id"] or a in c.get("features", []) for a in argv)]
    n_pass = 0
    for case in cases:
        work = Path(tempfile.mkdtemp(prefix="nbparity-"))
        try:
            run_case(case, root, work)
            shape = tuple(case["shape"])
            ours = np.fromfile(work / output_name(case, "float"), dtype="<f4").reshape(shape)
            ref = np.frombuffer(read_gz(root / case["outputs"]["float"]), dtype="<f4").reshape(shape)
            cmp = compare_float(ours, ref, case.get("undefined_pixels", []))
            problems = compare_case_outputs(case, root, work)
            ok = cmp.passes() and not problems
            n_pass += ok
            print(f"{'PASS' if ok else 'FAIL'} {case['id']:45s} maxrel={cmp.max_abs / max(cmp.ref_max, 1e-300):.2e} "
                  f"pearson={cmp.pearson:.9f} worst={cmp.worst} {'; '.join(problems)}")
        except Exception as e:  # report and go on
            print(f"ERROR {case['id']}: {str(e).splitlines()[-1] if str(e) else type(e).__name__}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{n_pass}/{len(cases)} passed")
    return 0 if n_pass == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
