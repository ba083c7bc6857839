"""Parity with the original C on every golden case: the float image within 1e-6 of the C's maximum
(Pearson >= 0.999999), and the int, noise, PGM and Fdump files byte for byte. Each case's
undefined_pixels (they depend on the C's OpenMP thread layout) are left out."""
import numpy as np
import pytest

from conftest import golden_cases
from nanobragg_ext import parity

CASES = golden_cases()


@pytest.mark.skipif(not CASES, reason="golden data not found: set NANOBRAGG_GOLDEN or put shared/golden beside the repository")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_matches_c(case, golden, tmp_path):
    parity.run_case(case, golden, tmp_path)
    shape = tuple(case["shape"])
    ours = np.fromfile(tmp_path / parity.output_name(case, "float"), dtype="<f4").reshape(shape)
    ref = np.frombuffer(parity.read_gz(golden / case["outputs"]["float"]), dtype="<f4").reshape(shape)
    cmp = parity.compare_float(ours, ref, case.get("undefined_pixels", []))
    assert cmp.passes(), (
        f"max|d| = {cmp.max_abs:g} vs 1e-6 x max {cmp.ref_max:g}; pearson {cmp.pearson:.9f}; "
        f"sum ratio {cmp.sum_ratio:.9f}; worst pixel (slow, fast, ours, C) = {cmp.worst}")
    problems = parity.compare_case_outputs(case, golden, tmp_path)
    assert not problems, "; ".join(problems)


def test_manifest_has_all_cases(golden):
    assert len(CASES) == 197
    assert sum("at-parallel" in c["features"] for c in CASES) == 81


EXACT_IDS = ["at012_triclinic_p1_512", "at020_comprehensive", "at023_triclinic_misset_15_20p5_30p25",
             "f_shape_gauss_xtal", "f_shape_round_xtal", "f_water", "f_div_round", "f_dispersion_steps",
             "f_curved_det", "f_thick_layers", "f_sourcefile", "f_interp_forced_N4", "f_mosaic_domains"]
EXACT = [c for c in CASES if c["id"] in EXACT_IDS]


@pytest.mark.skipif(not EXACT, reason="golden data not found: set NANOBRAGG_GOLDEN or put shared/golden beside the repository")
@pytest.mark.parametrize("case", EXACT, ids=[c["id"] for c in EXACT])
def test_exact_math_is_bit_identical(case, golden, tmp_path):
    """-exact_math follows the C's libm calls in the C's order: every float equals the C's."""
    parity.run_case(case, golden, tmp_path, extra_args=["-exact_math"])
    shape = tuple(case["shape"])
    ours = np.fromfile(tmp_path / parity.output_name(case, "float"), dtype="<f4").reshape(shape)
    ref = np.frombuffer(parity.read_gz(golden / case["outputs"]["float"]), dtype="<f4").reshape(shape)
    keep = np.ones(shape, dtype=bool)
    for s, f in case.get("undefined_pixels", []):
        keep[s, f] = False
    assert np.array_equal(ours[keep], ref[keep]), parity.compare_float(ours, ref, case.get("undefined_pixels", []))
