"""What a noisify or nonbragg run imports: none of NumPy (~0.2 s of CPU to import here), Dask, h5py,
PIL, gemmi or the CUDA module, so a small image is not dominated by start-up (bench/bench_nonbragg.py
and bench/bench_noisify.py time it; this only checks the imports). Options that need one
(-pngfile, -img) still import it when given."""
from __future__ import annotations

import subprocess
import sys
from array import array

import numpy as np

HEAVY = ("numpy", "dask", "distributed", "h5py", "hdf5plugin", "PIL", "gemmi", "fabio", "tqdm",
         "nanobragg_ext._cuda")

PROBE = """
import sys
from nanobragg_ext.cli import main
rc = main(sys.argv[1:])
heavy = [m for m in {heavy!r} if m in sys.modules]
print("RC", rc, "HEAVY", ",".join(heavy))
"""


def modules_after(args, cwd):
    r = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], cwd=cwd, capture_output=True,
                       text=True, timeout=300)
    tail = r.stdout.strip().splitlines()[-1]
    assert tail.startswith("RC 0 "), r.stdout[-1500:] + r.stderr[-1500:]
    return [m for m in tail.split("HEAVY", 1)[1].strip().split(",") if m]


def test_nonbragg_run_imports_nothing_heavy(tmp_path):
    assert modules_after(["nonbragg", "-stol", "water", "-detpixels", "32", "-seed", "1", "-noprogress"],
                         tmp_path) == []


def test_noisify_run_imports_nothing_heavy(tmp_path):
    array("f", [float(i % 50) for i in range(32 * 32)]).tofile(open(tmp_path / "in.bin", "wb"))
    assert modules_after(["noisify", "-floatfile", "in.bin", "-detpixels", "32", "-seed", "1", "-readout", "2",
                          "-psf", "gauss", "-psf_fwhm", "100"], tmp_path) == []


def test_amorphous_render_takes_a_flat_float_buffer_as_it_takes_a_numpy_image():
    from nanobragg_ext import nonbragg
    from nanobragg_ext.nonbragg_options import parse_nonbragg_args

    setup = nonbragg.prepare(parse_nonbragg_args(["-stol", "water", "-detpixels", "24", "-distance", "60"]),
                             lambda w: None)
    flat, image = nonbragg.new_image(setup.shape), np.zeros(setup.shape, np.float32)
    setup.render(flat, 1, False, False)
    setup.render(image, 1, False, False)
    assert image.max() > 0
    assert np.frombuffer(flat, np.float32).tobytes() == image.tobytes()
    assert setup.int_image(flat, 10.0, 40.0) == setup.int_image(image, 10.0, 40.0)
