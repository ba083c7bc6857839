"""A whole simulation in one process: a Bragg render (nanoBragg), amorphous backgrounds
(nonBragg) added to it in place, then noisify's detector chain, through the API stages on one
caller-owned array. It must equal the three command lines run one after another with float files
between them (the background float images summed into the Bragg one), each of which reproduces its
C program on the golden suites."""
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nanobragg_ext import api, pipeline
from nanobragg_ext.background import Background, Material
from nanobragg_ext.noisify import DetectorResponse
from nanobragg_ext.options import parse_args

REPO = Path(__file__).resolve().parents[2]
BRAGG = ["-cell", "60", "60", "60", "90", "90", "90", "-default_F", "50", "-N", "3", "-lambda", "1",
         "-distance", "100", "-detpixels", "64", "-pixel", "0.1", "-misset", "10", "20", "30", "-seed", "1",
         "-noprogress", "-nonoise"]
GEOMETRY = ["-detpixels", "64", "-distance", "100", "-lambda", "1", "-flux", "1e12", "-noprogress", "-nonoise"]
WATER = ["-stol", "water", "-thick", "0.1"]
AIR = ["-stol", "air", "-thick", "20", "-density", "0.0012", "-MW", "28.97"]


def cli(args, cwd):
    subprocess.run([sys.executable, "-m", "nanobragg_ext.cli"] + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL)


def test_api_stages_equal_the_three_programs_in_sequence(tmp_path):
    # The programs, with float files between them.
    cli(BRAGG + ["-floatfile", "bragg.bin"], tmp_path)
    cli(["nonbragg"] + WATER + GEOMETRY + ["-floatfile", "water.bin"], tmp_path)
    cli(["nonbragg"] + AIR + GEOMETRY + ["-floatfile", "air.bin"], tmp_path)
    files = [np.fromfile(tmp_path / f, dtype="<f4") for f in ("bragg.bin", "water.bin", "air.bin")]
    (files[0] + files[1] + files[2]).astype("<f4").tofile(tmp_path / "sum.bin")
    cli(["noisify", "-floatfile", "sum.bin", "-seed", "7", "-noisefile", "noise.img", "-intfile", "int.img",
         "-pgmfile", "p.pgm"], tmp_path)
    noise_file = np.frombuffer((tmp_path / "noise.img").read_bytes()[512:], dtype="<u2").reshape(64, 64)

    # One process, one array.
    req = parse_args(BRAGG)
    sim = pipeline.load_request(req, [])
    image = np.zeros((64, 64), dtype=np.float32)
    api.render(sim, image)
    assert np.array_equal(image.ravel(), files[0])
    Background(GEOMETRY, [Material("water", thickness_mm=0.1),
                          Material("air", thickness_mm=20, density=0.0012, molecular_weight=28.97)]).add_to(image)
    assert np.array_equal(image.ravel(), files[0] + files[1] + files[2])
    noise = DetectorResponse().apply(image, seed=7)
    assert noise.dtype == np.uint16 and np.array_equal(noise, noise_file)
    assert image.sum() > files[0].sum()  # the backgrounds are there


def test_compose_command_equals_the_three_programs_in_sequence(tmp_path):
    seq, one = tmp_path / "sequence", tmp_path / "compose"
    seq.mkdir(), one.mkdir()
    cli(BRAGG + ["-floatfile", "bragg.bin"], seq)
    cli(["nonbragg"] + WATER + GEOMETRY + ["-floatfile", "water.bin"], seq)
    cli(["nonbragg"] + AIR + GEOMETRY + ["-floatfile", "air.bin"], seq)
    files = [np.fromfile(seq / f, dtype="<f4") for f in ("bragg.bin", "water.bin", "air.bin")]
    (files[0] + files[1] + files[2]).astype("<f4").tofile(seq / "sum.bin")
    detector = ["-seed", "7", "-readout", "3", "-psf", "gauss", "-noisefile", "noise.img", "-intfile", "int.img",
                "-pgmfile", "p.pgm"]
    cli(["noisify", "-floatfile", "sum.bin"] + detector, seq)
    cli(["compose"] + BRAGG + ["-background"] + WATER + GEOMETRY + ["-background"] + AIR + GEOMETRY +
        ["-noisify", "-floatfile", "sum.bin"] + detector, one)
    for name in ("sum.bin", "noise.img", "int.img", "p.pgm"):
        assert (one / name).read_bytes() == (seq / name).read_bytes(), name
    assert sorted(p.name for p in one.iterdir()) == ["int.img", "noise.img", "p.pgm", "sum.bin"]


def test_compose_refuses_mismatched_sizes(tmp_path):
    r = subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", "compose"] + BRAGG + ["-background"] + WATER +
                       ["-detpixels", "32", "-flux", "1e12"] + ["-noisify", "-seed", "1"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "32x32" in r.stderr and list(tmp_path.iterdir()) == []
