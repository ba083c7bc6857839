"""The shipped helium table (data/stol/helium.stol): it is what tools/make_helium_stol.py writes,
its values are the published ones, it is a table nonBragg's look-up can use, and
`nanobragg-ext nonbragg -stol helium` scales as the physics says."""
import importlib.util
import math
from pathlib import Path

import gemmi  # the [test] extra
import numpy as np
import pytest

from nanobragg_ext import stol_tables
from test_nonbragg import run

REPO = Path(__file__).resolve().parents[2]
TABLE = Path(stol_tables.__file__).resolve().parent / "data" / "stol" / "helium.stol"


def generator():
    spec = importlib.util.spec_from_file_location("make_helium_stol", REPO / "tools" / "make_helium_stol.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows():
    return np.loadtxt(TABLE)


def test_shipped_file_is_what_the_generator_writes():
    assert TABLE.read_text() == generator().table_text()


def test_generator_coefficients_are_international_tables_he():
    """A second copy of ITC Vol. C Table 6.1.1.4 (gemmi's it92) holds the same numbers."""
    it92 = gemmi.Element("He").it92
    g = generator()
    assert g.IT92_A == pytest.approx(tuple(it92.a), abs=1e-6)
    assert g.IT92_B == pytest.approx(tuple(it92.b), abs=1e-6)
    assert g.IT92_C == pytest.approx(it92.c, abs=1e-6)


# Hubbell et al. (1975) for Z = 2, as in xraylib's data/FF.dat and data/SF.dat: x (1/A), F(x), S(x).
HUBBELL_FS = [(0.1, 1.8364, 0.29575), (0.2, 1.4585, 0.88056), (0.3, 1.0586, 1.3624),
              (0.5, 0.50953, 1.8175), (1.0, 0.09612, 1.9899), (2.0, 0.00964, 1.9999)]
# S(x, 2) at points of xraylib's finer grid that the generator does not hold: its interpolation.
HUBBELL_S_BETWEEN = [(0.1375, 0.50657), (0.2625, 1.2047), (0.325, 1.4519), (0.4625, 1.7687),
                     (0.75, 1.9602), (1.3594, 1.9981)]


@pytest.mark.parametrize("s, f, S", HUBBELL_FS)
def test_rows_match_the_published_form_and_incoherent_factors(s, f, S):
    """Within 0.2 %: the ITC fit differs from Hubbell's F(x, 2) by up to 0.15 % in F^2 + S here."""
    table = rows()
    F = table[np.isclose(table[:, 0], s), 1][0]
    assert F == pytest.approx(math.sqrt(f * f + S), rel=2e-3)


@pytest.mark.parametrize("s, S", HUBBELL_S_BETWEEN)
def test_interpolated_incoherent_part_matches_the_finer_tabulation(s, S):
    """Between the tabulated points the monotone cubic stays within 0.1 % of F."""
    f = gemmi.Element("He").it92.calculate_sf(stol2=s * s)
    assert generator().structure_factor(s) == pytest.approx(math.sqrt(f * f + S), rel=1e-3)


def test_forward_and_high_angle_limits():
    """F(0) = 2: two electrons, no incoherent part; the ITC coefficients sum to 1.9999, hence 1e-4.
    At s = 2 the coherent part is gone and F^2 = S = Z = 2."""
    table = rows()
    assert table[0, 0] == 0 and table[0, 1] == pytest.approx(2, abs=1e-4)
    assert table[-1, 0] == 2 and table[-1, 1] == pytest.approx(math.sqrt(2), abs=1e-4)


def test_a_table_nonbragg_reads_as_written():
    """stol strictly increasing and evenly spaced, no comment line (each would be a (0, 0) point):
    the default reader and -corrected give the same rows and no warning."""
    table = rows()
    assert np.all(np.diff(table[:, 0]) > 0)
    assert np.allclose(np.diff(table[:, 0]), 0.005)
    assert np.all(table[:, 1] > 0)
    for corrected in (False, True):
        t = stol_tables.load("helium", corrected=corrected)
        assert t.warnings == [] and len(t.stol) == len(table)
        assert np.array_equal(np.array(t.F), table[:, 1])


def test_selected_by_name_and_by_element_symbol(tmp_path, monkeypatch):
    assert "helium" in stol_tables.shipped_tables()
    args = ["-detpixels", "16", "-distance", "10", "-flux", "1e12", "-noprogress",
            "-MW", "4.0026", "-density", "0.000164"]
    by_name = run(["-stol", "helium"] + args, tmp_path, monkeypatch)
    by_symbol = run(["-stol", "He"] + args, tmp_path, monkeypatch)
    by_path = run(["-stol", str(TABLE)] + args, tmp_path, monkeypatch)
    assert by_name[0] == by_symbol[0] == by_path[0] == 0
    assert np.array_equal(by_name[4], by_symbol[4]) and np.array_equal(by_name[4], by_path[4])


N, PIXEL, DISTANCE = 24, 0.25e-3, 3e-3
GEOMETRY = ["-detpixels", str(N), "-pixel", "0.25", "-distance", "3", "-flux", "1e12", "-noprogress",
            "-nopolar", "-MW", "4.0026"]


def pixel_stol(f, s):
    """sin(theta)/lambda (1/A) at a pixel's centre, lambda = 1 A (nonBragg's beam centre)."""
    y = (f + 0.5) * PIXEL - (N * PIXEL - PIXEL) / 2
    z = (s + 0.5) * PIXEL - (N * PIXEL + PIXEL) / 2
    cos_2theta = DISTANCE / math.sqrt(DISTANCE ** 2 + y * y + z * z)
    return math.sqrt((1 - cos_2theta) / 2)


def test_nonbragg_scales_with_density_and_follows_the_table(tmp_path, monkeypatch):
    """Twice the density, twice the atoms, twice every pixel; against a flat F = 1 table with the
    same atoms each pixel is F(s)^2 (nonBragg's 4-point interpolation of the 0.005 grid: 1e-4)."""
    he = run(["-stol", "helium", "-density", "0.000164"] + GEOMETRY, tmp_path, monkeypatch)
    he2 = run(["-stol", "helium", "-density", "0.000328"] + GEOMETRY, tmp_path, monkeypatch)
    (tmp_path / "one.stol").write_text("0 1\n1 1\n2 1\n3 1\n")
    flat = run(["-stol", "one.stol", "-density", "0.000164"] + GEOMETRY, tmp_path, monkeypatch)
    assert he[0] == he2[0] == flat[0] == 0
    assert np.all(he[4] > 0)
    assert np.allclose(he2[4], 2 * he[4], rtol=1e-6, atol=0)
    ratio = (he[4] / flat[4]).reshape(N, N)
    structure_factor = generator().structure_factor
    for f, s in ((0, 0), (11, 12), (23, 5), (6, 18)):
        assert ratio[s, f] == pytest.approx(structure_factor(pixel_stol(f, s)) ** 2, rel=1e-4)
    assert pixel_stol(0, 0) > 0.4  # the corner reaches where the incoherent part dominates
