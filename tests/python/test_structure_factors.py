"""Structure factors from NumPy arrays and from MTZ/mmCIF files (structure_factors.py): the dense
table equals read_hkl's, symmetry expansion to P1 with Friedel mates, and an MTZ in P 21 21 21
simulates exactly like the equivalent P1 HKL text file, through the API and the CLI."""
import itertools
import sys

import numpy as np
import pytest

from nanobragg_ext import api, cli
from nanobragg_ext import io as nbio
from nanobragg_ext import structure_factors as sf
from nanobragg_ext.config import CrystalConfig, DetectorConfig, SimulationConfig

try:
    import gemmi
except ImportError:
    gemmi = None
needs_gemmi = pytest.mark.skipif(gemmi is None, reason="gemmi is not installed (pip install gemmi); "
                                                       "MTZ/mmCIF reading is optional")

CELL = (30.0, 40.0, 50.0, 90.0, 90.0, 90.0)
# A few asymmetric-unit reflections of P 21 21 21 (h, k, l >= 0).
ASU = [(1, 2, 3, 100.0), (0, 1, 2, 60.0), (2, 0, 0, 80.0), (1, 1, 1, 40.0), (3, 1, 2, 20.0), (0, 0, 4, 50.0)]


def p1_equivalents():
    """Point group 222 plus Friedel mates = every sign combination of (h, k, l)."""
    rows = {}
    for h, k, l, F in ASU:
        for sh, sk, sl in itertools.product((1, -1), repeat=3):
            rows[(sh * h, sk * k, sl * l)] = F
    return rows


def write_hkl(path, rows):
    path.write_text("".join(f"{h} {k} {l} {F}\n" for (h, k, l), F in rows.items()))


def write_mtz(path, label="FP"):
    mtz = gemmi.Mtz(with_base=True)
    mtz.spacegroup = gemmi.find_spacegroup_by_name("P 21 21 21")
    mtz.set_cell_for_all(gemmi.UnitCell(*CELL))
    mtz.add_dataset("synthetic")
    mtz.add_column(label, "F")
    mtz.add_column("SIGFP", "Q")
    data = np.array([[h, k, l, F, 1.0] for h, k, l, F in ASU], dtype=np.float32)
    mtz.set_data(data)
    mtz.write_to_file(str(path))
    return mtz


def config(**kw):
    return SimulationConfig(detector=DetectorConfig(fpixels=48, spixels=48, distance_mm=40, pixel_size_mm=0.3),
                            crystal=CrystalConfig(cell=CELL, n_cells=(3, 3, 3), misset_deg=(10, 20, 30)),
                            **kw)


def test_from_arrays_equals_read_hkl(tmp_path):
    rows = p1_equivalents()
    write_hkl(tmp_path / "p1.hkl", rows)
    for default_F in (0.0, 7.5):
        ref = nbio.read_hkl(str(tmp_path / "p1.hkl"), default_F)
        hkl = np.array(list(rows.keys()))
        t = sf.from_arrays(hkl[:, 0], hkl[:, 1], hkl[:, 2], list(rows.values()), default_F)
        assert t.bounds == ref.bounds and t.hkls == ref.hkls
        np.testing.assert_array_equal(t.values, ref.values)


def test_from_arrays_validation():
    with pytest.raises(ValueError, match="same length"):
        sf.from_arrays([1, 2], [0, 0], [0, 0], [1.0])
    with pytest.raises(ValueError, match="integers"):
        sf.from_arrays([1.5], [0], [0], [1.0])
    with pytest.raises(ValueError, match="no reflections"):
        sf.from_arrays([], [], [], [])


def test_in_memory_table_simulates_like_hkl_file(tmp_path):
    rows = p1_equivalents()
    write_hkl(tmp_path / "p1.hkl", rows)
    hkl = np.array(list(rows.keys()))
    table = sf.from_arrays(hkl[:, 0], hkl[:, 1], hkl[:, 2], list(rows.values()))
    a = api.simulate(config(structure_factors=table))
    b = api.simulate(config(hkl_file=str(tmp_path / "p1.hkl")))
    assert a.max() > 0
    np.testing.assert_array_equal(a, b)


@needs_gemmi
def test_expand_to_p1_p212121():
    hkl = np.array([r[:3] for r in ASU])
    F = np.array([r[3] for r in ASU])
    got_hkl, got_F = sf.expand_to_p1(hkl, F, gemmi.find_spacegroup_by_name("P 21 21 21"))
    got = {tuple(int(x) for x in h): f for h, f in zip(got_hkl, got_F)}
    assert got == p1_equivalents()
    # without Friedel mates only the four 222 operations
    got_hkl, _ = sf.expand_to_p1(hkl[:1], F[:1], gemmi.find_spacegroup_by_name("P 21 21 21"), friedel=False)
    assert {tuple(h) for h in got_hkl.tolist()} == {(1, 2, 3), (-1, -2, 3), (1, -2, -3), (-1, 2, -3)}


@needs_gemmi
def test_mtz_simulates_like_p1_hkl(tmp_path, monkeypatch):
    write_mtz(tmp_path / "x.mtz")
    write_hkl(tmp_path / "p1.hkl", p1_equivalents())
    t = sf.read_reflections(str(tmp_path / "x.mtz"))
    ref = nbio.read_hkl(str(tmp_path / "p1.hkl"))
    assert t.bounds == ref.bounds and t.hkls == ref.hkls
    np.testing.assert_array_equal(t.values, ref.values)

    img_p1 = api.simulate(config(hkl_file=str(tmp_path / "p1.hkl")))
    img_mtz = api.simulate(config(hkl_file=str(tmp_path / "x.mtz"), mtz_column="FP"))
    assert img_p1.max() > 0
    np.testing.assert_array_equal(img_mtz, img_p1)

    # the CLI: -hkl x.mtz -mtz_column FP gives the same float image as -hkl p1.hkl
    monkeypatch.chdir(tmp_path)
    base = config().to_cli_args() + ["-noprogress", "-nonoise", "-nopgm"]
    assert cli.main(base + ["-hkl", "p1.hkl", "-floatfile", "p1.bin"]) == 0
    assert cli.main(base + ["-hkl", "x.mtz", "-mtz_column", "FP", "-floatfile", "mtz.bin"]) == 0
    assert (tmp_path / "p1.bin").read_bytes() == (tmp_path / "mtz.bin").read_bytes()
    cfg = SimulationConfig.from_cli_args(["-hkl", "x.mtz", "-mtz_column", "FP"] + config().to_cli_args())
    assert cfg.mtz_column == "FP" and cfg.hkl_file == "x.mtz"
    np.testing.assert_array_equal(api.simulate(cfg), img_p1)


@needs_gemmi
def test_mmcif_reflections(tmp_path):
    mtz = write_mtz(tmp_path / "x.mtz")  # gemmi's mmCIF writer maps FP to _refln.F_meas_au
    try:
        text = gemmi.MtzToCif().write_cif_to_string(mtz)
    except (AttributeError, RuntimeError) as e:
        pytest.skip(f"this gemmi cannot write mmCIF reflections: {e}")
    (tmp_path / "x.cif").write_text(text)
    t = sf.read_reflections(str(tmp_path / "x.cif"))
    assert t.hkls > len(ASU)
    ref = sf.read_reflections(str(tmp_path / "x.mtz"), "FP")
    assert t.bounds == ref.bounds
    np.testing.assert_array_equal(t.values, ref.values)


@needs_gemmi
def test_missing_column_is_input_error(tmp_path):
    write_mtz(tmp_path / "x.mtz")
    with pytest.raises(nbio.InputError, match="no column 'F'"):
        sf.read_reflections(str(tmp_path / "x.mtz"), "F")
    with pytest.raises(nbio.InputError, match="no such file"):
        sf.read_reflections(str(tmp_path / "missing.mtz"))


def test_without_gemmi_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gemmi", None)
    with pytest.raises(ImportError, match=r"pip install 'nanobragg-ext\[mtz\]'"):
        sf.read_reflections(str(tmp_path / "x.mtz"))
