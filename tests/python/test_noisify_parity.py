"""Every case of the noisify golden suite through ``nanobragg-ext noisify``: exit status, every
output file byte for byte (SMV headers and pixels reported apart), no other file written, and the
console text line for line (the C's stderr lines, which the suite merged in, left out).

The suite is ``$NANOBRAGG_GOLDEN_SUITE/noisify`` or ``../shared/golden-suite/noisify`` beside the
repository."""
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nanobragg_ext import cli

REPO = Path(__file__).resolve().parents[2]
# perror() text of the C: unbuffered stderr, so the suite's stdout.txt has it first.
C_STDERR_PREFIXES = ("reading input file: ", "SMV file header: ", "SMV file fread: ")


def suite_root():
    env = os.environ.get("NANOBRAGG_GOLDEN_SUITE")
    root = (Path(env) if env else REPO.parent / "shared" / "golden-suite") / "noisify"
    return root if (root / "manifest.json").exists() else None


def cases():
    root = suite_root()
    return json.loads((root / "manifest.json").read_text())["cases"] if root else []


@pytest.fixture(scope="module")
def suite():
    root = suite_root()
    if root is None:
        pytest.skip("noisify golden suite not found: set NANOBRAGG_GOLDEN_SUITE or put "
                    "shared/golden-suite/noisify beside the repository")
    return root


def run_case(suite, case, workdir, monkeypatch, capsys):
    (workdir / "inputs").symlink_to(suite / "inputs")
    for name, src in case.get("pre_copy", {}).items():
        shutil.copy(suite / src, workdir / name)
    monkeypatch.chdir(workdir)
    capsys.readouterr()
    rc = cli.main(["noisify"] + case["args"])
    return rc, capsys.readouterr().out


def expected_stdout(suite, case):
    lines = (suite / case["stdout"]).read_text().splitlines()
    return [line for line in lines if not line.startswith(C_STDERR_PREFIXES)]


@pytest.mark.parametrize("case", cases(), ids=lambda c: c["id"])
def test_case(suite, case, tmp_path, monkeypatch, capsys):
    rc, out = run_case(suite, case, tmp_path, monkeypatch, capsys)
    assert rc == case["exit_code"]
    assert out.splitlines() == expected_stdout(suite, case)
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != "inputs" and p.name not in case.get("pre_copy", {}))
    assert written == sorted(case["outputs"])
    for name, stored in case["outputs"].items():
        want = gzip.decompress((suite / stored).read_bytes())
        got = (tmp_path / name).read_bytes()
        head = case["formats"].get(name, {}).get("header_bytes", len(want))
        assert got[:head] == want[:head], f"{name}: header differs"
        assert len(got) == len(want), f"{name}: {len(got)} bytes, the C wrote {len(want)}"
        if got != want:
            size = case["formats"][name].get("bytes_per_pixel", 1)
            dtype = {1: "u1", 2: "<u2", 4: "<u4"}[size]
            import numpy as np

            a = np.frombuffer(got[head:], dtype=dtype).astype(np.int64)
            b = np.frombuffer(want[head:], dtype=dtype).astype(np.int64)
            bad = np.flatnonzero(a != b)
            pytest.fail(f"{name}: {bad.size} pixels differ (first at {bad[0]}), largest difference "
                        f"{np.abs(a - b).max()}")


def test_console_script(suite, tmp_path):
    """The installed command end to end: same files as the C for one PSF case."""
    case = next(c for c in cases() if c["id"] == "nz_all_effects")
    (tmp_path / "inputs").symlink_to(suite / "inputs")
    exe = shutil.which("nanobragg-ext")
    cmd = [exe] if exe else [sys.executable, "-m", "nanobragg_ext.cli"]
    proc = subprocess.run(cmd + ["noisify"] + case["args"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name, stored in case["outputs"].items():
        assert (tmp_path / name).read_bytes() == gzip.decompress((suite / stored).read_bytes())
