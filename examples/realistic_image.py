"""The README's realistic image: a still of a nanocrystal of examples/P1.hkl (30 cells a side,
mosaic 1 degree) in a 0.2 um beam (an XFEL-like focus), 1 um of water and 1 mm of air in the beam,
then noisify's detector chain (calibration error, Poisson noise, a Gaussian point-spread function,
gain, read-out noise, adc offset), in one `nanobragg-ext compose` run.

    python examples/realistic_image.py [out.png]     (default: docs/img/realistic.png)

Run from the repository root (the command reads examples/P1.hkl); it works in a temporary folder
and writes only the PNG: a linear preview of the noise image (realistic.img), 256 x 256.
COMMAND is the README's "A realistic image" command, word for word (tests/python/test_examples.py
checks that they agree).
"""
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GEOMETRY = "-detpixels 256 -pixel 0.4 -distance 120 -lambda 1 -flux 1e12 -beamsize 0.0002"
COMMAND = (
    "nanobragg-ext compose -hkl examples/P1.hkl -cell 48 52 56 88 93 97 -misset 12 -7 25 -N 30 -mosaic 1 "
    "-mosaic_domains 20 "
    f"{GEOMETRY} -seed 1 -nonoise "
    f"-background -stol water -thick 0.001 {GEOMETRY} -nonoise "
    f"-background -stol air -thick 1 -density 0.0012 -MW 28.97 {GEOMETRY} -nonoise "
    "-noisify -seed 3 -psf gauss -psf_fwhm 100 -readout 3 -gain 1 -adc 10 -noisefile realistic.img"
)


def main(argv) -> int:
    from nanobragg_ext.io import read_smv
    from nanobragg_ext.preview import write_png

    out = Path(argv[1]) if len(argv) > 1 else REPO / "docs" / "img" / "realistic.png"
    words = shlex.split(COMMAND)
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(REPO / "examples", Path(tmp) / "examples")
        r = subprocess.run([sys.executable, "-m", "nanobragg_ext.cli"] + words[1:], cwd=tmp, capture_output=True,
                           text=True)
        if r.returncode != 0:
            print(r.stdout[-2000:] + r.stderr[-2000:], file=sys.stderr)
            return r.returncode
        counts = read_smv(str(Path(tmp) / "realistic.img")).data
    write_png(str(out), counts.astype("float32"), percentile=99.97, log=False)
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
