"""``nanobragg-ext hkl`` and hkl_file.py: a P1 HKL text file from an MTZ or mmCIF file holds the
same table the simulator builds from that file directly (float32 amplitudes exactly), and bad
input gives one line, exit status 2 and no output file."""
import subprocess
import sys

import numpy as np
import pytest

from nanobragg_ext import io as nbio
from nanobragg_ext import structure_factors as sf
from nanobragg_ext.hkl_file import write_hkl

gemmi = pytest.importorskip("gemmi", reason="gemmi is in the [test] extra (nanobragg-ext hkl needs it)")

CELL = (30.0, 40.0, 50.0, 90.0, 90.0, 90.0)
# Asymmetric-unit reflections of P 21 21 21; amplitudes with no short float32 decimal (100.1 ...).
ASU = [(1, 2, 3, 100.1), (0, 1, 2, 60.3), (2, 0, 0, 80.7), (1, 1, 1, 40.25), (3, 1, 2, 1e-3), (0, 0, 4, 1234.567)]

CIF = """data_r
_cell.length_a 30
_cell.length_b 40
_cell.length_c 50
_cell.angle_alpha 90
_cell.angle_beta 90
_cell.angle_gamma 90
_symmetry.space_group_name_H-M 'P 1 21 1'
loop_
_refln.index_h
_refln.index_k
_refln.index_l
_refln.F_meas_au
1 2 3 10.5
0 1 0 7.25
2 0 -1 3.125
"""


def write_mtz(path):
    mtz = gemmi.Mtz(with_base=True)
    mtz.spacegroup = gemmi.find_spacegroup_by_name("P 21 21 21")
    mtz.set_cell_for_all(gemmi.UnitCell(*CELL))
    mtz.add_dataset("synthetic")
    mtz.add_column("FP", "F")
    mtz.add_column("FC", "F")
    mtz.set_data(np.array([[h, k, l, F, 2 * F] for h, k, l, F in ASU], dtype=np.float32))
    mtz.write_to_file(str(path))


def hkl_cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", "hkl", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def assert_same_table(text_path, reflection_path, column=None):
    ours = nbio.read_hkl(str(text_path))
    direct = sf.read_reflections(str(reflection_path), column)
    assert ours.bounds == direct.bounds and ours.hkls == direct.hkls
    np.testing.assert_array_equal(ours.values.astype(np.float32), direct.values.astype(np.float32))


def test_mtz_to_p1_hkl_equals_the_direct_table(tmp_path):
    write_mtz(tmp_path / "in.mtz")
    r = hkl_cli(["in.mtz", "P1.hkl"], tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "P1.hkl").read_text().splitlines()
    # point group 222 with Friedel mates: every sign combination, each index once
    signs = {(sh * h, sk * k, sl * l) for h, k, l, _ in ASU for sh in (1, -1) for sk in (1, -1) for sl in (1, -1)}
    assert len(lines) == len(signs) == 32
    assert f"wrote P1.hkl: {len(lines)} reflections" in r.stdout
    assert "1 2 3 100.1" in lines and "-1 -2 -3 100.1" in lines  # shortest float32 decimals
    assert_same_table(tmp_path / "P1.hkl", tmp_path / "in.mtz")


def test_column_choice_and_no_friedel(tmp_path):
    write_mtz(tmp_path / "in.mtz")
    assert hkl_cli(["in.mtz", "fc.hkl", "--column", "FC"], tmp_path).returncode == 0
    assert "1 2 3 200.2" in (tmp_path / "fc.hkl").read_text().splitlines()
    assert_same_table(tmp_path / "fc.hkl", tmp_path / "in.mtz", "FC")
    # P 1 21 1 without Friedel mates: (h, k, l) and (-h, k, -l) only
    (tmp_path / "r.cif").write_text(CIF)
    assert hkl_cli(["r.cif", "nf.hkl", "--no-friedel"], tmp_path).returncode == 0
    got = {tuple(map(float, line.split())) for line in (tmp_path / "nf.hkl").read_text().splitlines()}
    assert got == {(1, 2, 3, 10.5), (-1, 2, -3, 10.5), (0, 1, 0, 7.25), (2, 0, -1, 3.125), (-2, 0, 1, 3.125)}


def test_mmcif_to_p1_hkl_equals_the_direct_table(tmp_path):
    (tmp_path / "r.cif").write_text(CIF)
    assert hkl_cli(["r.cif", "P1.hkl"], tmp_path).returncode == 0
    assert_same_table(tmp_path / "P1.hkl", tmp_path / "r.cif")


@pytest.mark.parametrize("args, words", [
    (["missing.mtz", "out.hkl"], ["missing.mtz", "no such file"]),
    (["in.mtz", "out.hkl", "--column", "NOPE"], ["no column 'NOPE'", "FP"]),
    (["in.mtz", "out.hkl", "--column"], ["--column needs"]),
    (["notes.txt", "out.hkl"], ["not an MTZ or mmCIF file"]),
    (["in.mtz"], ["expected IN and OUT"]),
    (["in.mtz", "out.hkl", "--frobnicate"], ["unknown option '--frobnicate'"]),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, words):
    write_mtz(tmp_path / "in.mtz")
    (tmp_path / "notes.txt").write_text("1 2 3 4\n")
    r = hkl_cli(args, tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    for w in words:
        assert w in err, f"'{w}' not in: {err}"
    assert not (tmp_path / "out.hkl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mtz", "notes.txt"]  # no temporary left


def test_help_lists_the_options(tmp_path):
    r = hkl_cli(["-h"], tmp_path)
    assert r.returncode == 0 and "--column" in r.stdout and "--no-friedel" in r.stdout
    r = hkl_cli([], tmp_path)  # nothing to do: the usage on stderr, exit 2
    assert r.returncode == 2 and r.stdout == "" and "usage: nanobragg-ext hkl" in r.stderr


def test_write_hkl_round_trips_float64_and_float32(tmp_path):
    hkl = [[1, 0, 0], [0, -2, 5], [3, 3, 3]]
    f64 = np.array([0.1, 123.456789012345, 7.0])
    write_hkl(str(tmp_path / "a.hkl"), hkl, f64)
    t = nbio.read_hkl(str(tmp_path / "a.hkl"))
    assert [t.values[h - t.bounds[0], k - t.bounds[2], l - t.bounds[4]] for h, k, l in hkl] == list(f64)
    write_hkl(str(tmp_path / "b.hkl"), hkl, f64.astype(np.float32))
    assert (tmp_path / "b.hkl").read_text().split("\n")[1] == "0 -2 5 123.45679"
    with pytest.raises(ValueError, match="same length"):
        write_hkl(str(tmp_path / "c.hkl"), hkl, [1.0])
    with pytest.raises(ValueError, match="non-finite"):
        write_hkl(str(tmp_path / "c.hkl"), hkl, [1.0, np.nan, 2.0])
    assert not (tmp_path / "c.hkl").exists()
