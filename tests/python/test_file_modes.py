"""Every output file (float, int, noise, PGM, Fdump, PNG; CLI and API writers) gets mode 0666 less
the umask, as fopen() gives, under umask 022 and 077 and with two threads writing at once; the
writers never change the process umask (the old one set it to 0 and back, racing other threads)."""
import os
import subprocess
import sys

import pytest

GOOD = ("-cell 60 60 60 90 90 90 -N 3 -lambda 1 -distance 100 -detpixels 16 -pixel 0.1 "
        "-seed 1 -noprogress -hkl p1.hkl -pngfile preview.png").split()
CLI_OUTPUTS = ("floatimage.bin", "intimage.img", "noiseimage.img", "image.pgm", "Fdump.bin", "preview.png")

# Two threads, each writing every kind of output 20 times, then the umask as the kernel reports it.
THREADS = r"""
import threading
import numpy as np
from nanobragg_ext import _core, api
from nanobragg_ext import io as nbio

image = np.arange(64, dtype=np.float32).reshape(8, 8)
table = _core.read_hkl("p1.hkl", 0.0)

def write(t):
    for i in range(20):
        api.write_float(f"f{t}_{i}.bin", image)
        api.write_smv(f"s{t}_{i}.img", image)
        api.write_pgm(f"p{t}_{i}.pgm", image)
        api.write_png(f"g{t}_{i}.png", image)
        _core.write_fdump(f"d{t}_{i}.bin", table)

threads = [threading.Thread(target=write, args=(t,)) for t in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print([l for l in open("/proc/self/status") if l.startswith("Umask:")][0].split()[1])
"""


def _run(args, cwd, mask):
    (cwd / "p1.hkl").write_text("0 0 0 10\n1 0 0 5\n0 1 0 5\n")
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: os.umask(mask))


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_cli_outputs_get_0666_less_the_umask(mask, tmp_path):
    r = _run(["-m", "nanobragg_ext.cli", *GOOD], tmp_path, mask)
    assert r.returncode == 0, r.stderr
    for name in CLI_OUTPUTS:
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask, name
    # A second run replaces the files (the swap path); the modes stay.
    r = _run(["-m", "nanobragg_ext.cli", *GOOD], tmp_path, mask)
    assert r.returncode == 0, r.stderr
    for name in CLI_OUTPUTS:
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask, name
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".nanobragg-")]


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_two_threads_writing_get_the_mode_and_keep_the_umask(mask, tmp_path):
    r = _run(["-c", THREADS], tmp_path, mask)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[-1], 8) == mask, "a writer changed the process umask"
    written = [p for p in tmp_path.iterdir() if p.name != "p1.hkl"]
    assert len(written) == 2 * 20 * 5
    for p in written:
        assert p.stat().st_mode & 0o777 == 0o666 & ~mask, p.name
