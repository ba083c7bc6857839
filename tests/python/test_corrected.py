"""The one switch for corrected physics (-corrected) against the default, which keeps the C's quirks."""
import json
from pathlib import Path

import numpy as np
import pytest

from nanobragg_ext import api
from nanobragg_ext.options import parse_args

BASE = ("-cell 50 60 70 90 90 90 -default_F 100 -N 4 -lambda 1 -distance 80 -detpixels 48 -pixel 0.2 "
        "-misset 10 20 30 -oversample 1 -seed 1").split()


@pytest.fixture(autouse=True)
def clean_cwd(tmp_path, monkeypatch):
    # Without -hkl nanoBragg reads a Fdump.bin left in the working folder (Q19): use an empty one.
    monkeypatch.chdir(tmp_path)


def render(args):
    req = parse_args(args)
    p = api.load_request(req)
    img = np.zeros((p.prepared.geometry["spixels"], p.prepared.geometry["fpixels"]))
    api.render(p, img)
    return img


def test_corrected_phi_sweep_averages_its_steps():
    # A two-step sweep from phi = 0 is the mean of the two single-step images when corrected.
    sweep = render(BASE + "-phi 0 -osc 2 -phisteps 2 -corrected".split())
    first = render(BASE + "-phi 0 -osc 0 -phisteps 1".split())
    second = render(BASE + "-phi 1 -osc 0 -phisteps 1".split())
    np.testing.assert_allclose(sweep, (first + second) / 2, rtol=1e-12, atol=0)


def test_default_phi_sweep_keeps_the_stale_orientation():
    # Same as nanoBragg.c (Q1): after the first pixel the phi = 0 step reuses the phi = 1 deg
    # orientation, so every later pixel equals the phi = 1 deg image.
    sweep = render(BASE + "-phi 0 -osc 2 -phisteps 2".split())
    second = render(BASE + "-phi 1 -osc 0 -phisteps 1".split())
    np.testing.assert_allclose(sweep.ravel()[1:], second.ravel()[1:], rtol=1e-12, atol=0)
    first = render(BASE + "-phi 0 -osc 0 -phisteps 1".split())
    assert sweep.ravel()[0] == pytest.approx((first.ravel()[0] + second.ravel()[0]) / 2, rel=1e-12)


@pytest.mark.parametrize("corrected, dual_error", [(False, 2.031157838804e-4), (True, 0.0)])
def test_triclinic_cell_duality(corrected, dual_error):
    args = "-cell 70 80 90 75 85 95 -default_F 1".split() + (["-corrected"] if corrected else [])
    c = api.load_request(parse_args(args)).prepared.crystal
    a = np.array(c["a"]) * 1e10
    a_star = np.array(c["a_star"])
    # Same as nanoBragg.c without the switch: a.a* = 1.000203 for this cell (Q31).
    assert a @ a_star - 1 == pytest.approx(dual_error, abs=1e-12)
    if corrected:
        assert c["cell"][3:] == pytest.approx([75, 85, 95], abs=1e-9)


BASELINE = json.loads((Path(__file__).resolve().parents[2] / "golden_data" / "corrected_physics.json").read_text())


@pytest.mark.parametrize("name", sorted(BASELINE))
def test_corrected_physics_matches_its_baseline(name):
    """Regression check of -corrected images against figures recorded by this project
    (rtol 1e-9: room for summation-order differences only; a physics change moves them far more)."""
    b = BASELINE[name]
    img = render(b["args"].split())
    assert img.sum() == pytest.approx(b["sum"], rel=1e-9)
    assert img.max() == pytest.approx(b["max"], rel=1e-9)
    assert img[20, 30] == pytest.approx(b["pixel_20_30"], rel=1e-9)
