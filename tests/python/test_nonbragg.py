"""nanobragg-ext nonbragg beyond the golden suite: the corrected switch (no NaN from comment
lines, a result that does not depend on the pixel order), the refusals (exit status 2, nothing
written), the shipped tables, the C's table reader, and the physics of a flat table."""
import io
import math
from pathlib import Path

import numpy as np
import pytest

from nanobragg_ext import _core, nonbragg, stol_tables

HERE = Path(__file__).resolve().parent
DATA = Path(stol_tables.__file__).resolve().parent / "data" / "stol"
SHORTWATER = "0 2.57\n0.0365 2.58\n0.07 2.8\n0.12 5\n0.162 8\n0.2 6.75\n0.18 7.32\n0.216 6.75\n0.3 4.3\n0.5 3.17\n"


def run(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    try:
        rc = nonbragg.run(list(args), out, err)
    except ValueError as e:  # OptionError, InputError: the subcommand's exit status 2
        rc = 2
        err.write(str(e))
    written = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".stol"))
    image = None
    if rc == 0:
        image = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4")
    return rc, out.getvalue(), err.getvalue(), written, image


BASE = ["-detpixels", "48", "-distance", "40", "-flux", "1e12", "-seed", "1", "-noprogress"]


def test_nanoice_comment_lines_give_nan_by_default_and_warn(tmp_path, monkeypatch):
    rc, _, err, _, image = run(["-stol", "nanoice"] + BASE, tmp_path, monkeypatch)
    assert rc == 0
    assert np.isnan(image).any()
    assert "quirk" in err and "(0, 0)" in err


def test_corrected_skips_comment_lines_no_nan(tmp_path, monkeypatch):
    rc, _, err, _, image = run(["-stol", "nanoice", "-corrected"] + BASE, tmp_path, monkeypatch)
    assert rc == 0 and err == ""
    assert np.isfinite(image).all() and (image > 0).all()


def _pieces(table, extra, tmp_path, monkeypatch):
    """Pixels of the whole image, and the same pixels rendered alone (-roi of one pixel, so the
    table look-up starts afresh). At 5 mm the ring of stol 0.18 .. 0.2 (where shortwater's column
    goes back) has a radius of 19 to 21 pixels around the beam at (23, 24)."""
    rc, _, _, _, whole = run(["-stol", table] + BASE + extra, tmp_path, monkeypatch)
    assert rc == 0
    whole = whole.reshape(48, 48)
    pixels = [(3, 24), (43, 24), (23, 4), (23, 44), (10, 10), (30, 30)]
    alone = []
    for f, s in pixels:
        rc, _, _, _, part = run(["-stol", table, "-roi", str(f), str(f), str(s), str(s)] + BASE + extra,
                                tmp_path, monkeypatch)
        alone.append(part.reshape(48, 48)[s, f])
    return np.array([whole[s, f] for f, s in pixels]), np.array(alone)


def test_nonmonotonic_table_depends_on_pixel_order_by_default(tmp_path, monkeypatch):
    (tmp_path / "short.stol").write_text(SHORTWATER)
    whole, assembled = _pieces("short.stol", ["-distance", "5"], tmp_path, monkeypatch)
    assert not np.array_equal(whole, assembled)  # the C's quirk, reproduced


def test_corrected_result_does_not_depend_on_pixel_order(tmp_path, monkeypatch):
    sorted_rows = "".join(sorted(SHORTWATER.splitlines(True), key=lambda r: float(r.split()[0])))
    (tmp_path / "sorted.stol").write_text(sorted_rows)
    whole, assembled = _pieces("sorted.stol", ["-distance", "5", "-corrected"], tmp_path, monkeypatch)
    assert np.array_equal(whole, assembled)


def test_threads_do_not_change_the_image(tmp_path, monkeypatch):
    # water.stol starts at stol 0 exactly: the beam-centre pixel ties with a table point, the
    # case the parallel look-up hands back to the serial order.
    images = [run(["-stol", "water", "-threads", str(t)] + BASE, tmp_path, monkeypatch)[4] for t in (1, 2, 3)]
    assert np.array_equal(images[0], images[1]) and np.array_equal(images[0], images[2])


def test_curved_det_as_the_last_argument_is_ignored_as_in_the_c(tmp_path, monkeypatch, capsys):
    # nonBragg.c tests argc > i+1 for -curved_det, which reads no value: as the very last argument
    # it is skipped and the detector stays flat (a differential run against the C found ours
    # curved there, 0.3 % away in every pixel).
    flat = run(["-stol", "water"] + BASE, tmp_path, monkeypatch)[4]
    curved = run(["-stol", "water", "-curved_det"] + BASE, tmp_path, monkeypatch)[4]
    capsys.readouterr()
    last = run(["-stol", "water"] + BASE + ["-curved_det"], tmp_path, monkeypatch)[4]
    assert np.array_equal(last, flat) and not np.array_equal(curved, flat)
    assert "-curved_det is ignored as the very last argument" in capsys.readouterr().err


@pytest.mark.parametrize("args,needle", [
    (["-stol", "short.stol", "-corrected"], "does not increase at line 7"),
    (["-stol", "water", "-thick", "-1"], "-thick"),
    (["-stol", "water", "-density", "-0.5"], "-density"),
    (["-stol", "water", "-MW", "0"], "-MW"),
    (["-stol", "water", "-samplesize", "-2"], "-samplesize"),
    (["-stol", "water", "-bogus", "1"], "unknown"),
    (["-stol", "water", "-distance"], "needs 1 value"),
    (["-stol", "water", "-beamsize", "0"], "-beamsize"),
    (["-stol", "water", "-intfile", "adir"], "is a directory"),
])
def test_bad_input_is_refused_with_status_2_and_nothing_written(args, needle, tmp_path, monkeypatch):
    (tmp_path / "short.stol").write_text(SHORTWATER)
    (tmp_path / "adir").mkdir()
    rc, _, err, written, _ = run(BASE + args, tmp_path, monkeypatch)
    assert rc == 2 and needle in err
    assert written == ["adir"]


def test_missing_table_keeps_the_c_status_and_names_the_shipped_tables(tmp_path, monkeypatch):
    rc, out, err, written, _ = run(["-stol", "no_such_table"] + BASE, tmp_path, monkeypatch)
    assert rc == 9 and written == []
    assert "water" in err and "no_such_table" in err


def test_usage_without_a_table(tmp_path, monkeypatch):
    rc, out, _, written, _ = run(BASE, tmp_path, monkeypatch)
    assert rc == 9 and written == [] and out.splitlines()[1] == "usage: nonBragg -stol water.stol"


def test_shipped_table_by_name_equals_the_file(tmp_path, monkeypatch):
    assert {"air", "ice", "nanoice", "water"} <= set(stol_tables.shipped_tables())
    by_name = run(["-stol", "air"] + BASE, tmp_path, monkeypatch)[4]
    by_path = run(["-stol", str(DATA / "air.stol")] + BASE, tmp_path, monkeypatch)[4]
    assert np.array_equal(by_name, by_path)


def test_reader_follows_the_c(tmp_path):
    p = tmp_path / "t.stol"
    p.write_bytes(b"# stol F\n\n0.01, 3.0\n0.02;2.5 junk\n0.08\n  0.1\t-1.5\n0.5")
    t = _core.read_text_columns(str(p), 2)
    stol, F = t["columns"]
    assert t["rows"] == 6 and t["non_numeric_rows"] == [0]
    assert stol[:5] == [0.0, 0.01, 0.02, 0.08, 0.1] and F[0] == 0.0 and F[1:3] == [3.0, 2.5]
    assert math.isnan(F[3]) and F[4] == -1.5
    assert stol[5] == 0.5 and F[5] == 0.0  # last line without a newline: the missing F reads as 0


def test_flat_table_gives_the_thomson_scattering_of_the_sample(tmp_path, monkeypatch):
    """F = 1 everywhere, no polarization: a pixel holds r_e^2 * fluence * molecules * solid angle."""
    (tmp_path / "one.stol").write_text("0 1\n0.5 1\n1 1\n2 1\n")
    rc, _, _, _, image = run(["-stol", "one.stol", "-nopolar", "-corrected"] + BASE, tmp_path, monkeypatch)
    assert rc == 0
    px, d, n = 0.1e-3, 40e-3, 48
    fluence = 1e12 / 1e-4 / 1e-4
    molecules = (1e-4) ** 3 * 1e6 * 6.02214179e23 / 18
    for f, s in ((0, 0), (23, 24), (47, 10)):
        # nonBragg's beam centre: fast (N-1)/2 - 0.5 ... the pixel's centre relative to the beam
        y = (f + 0.5) * px - (n * px - px) / 2
        z = (s + 0.5) * px - (n * px + px) / 2
        R = math.sqrt(d * d + y * y + z * z)
        omega = px * px / R / R * d / R
        expected = 7.94079248018965e-30 * fluence * molecules * omega
        assert image[s * n + f] == pytest.approx(expected, rel=1e-6)


GEOMETRY = ["-detpixels", "48", "-distance", "40", "-flux", "1e12"]


def test_background_equals_nonbragg_runs_summed(tmp_path, monkeypatch):
    from nanobragg_ext.background import Background, Material

    water = run(["-stol", "water", "-thick", "0.2"] + BASE, tmp_path, monkeypatch)[4].reshape(48, 48)
    air = run(["-stol", "air", "-thick", "30", "-density", "0.0012", "-MW", "28.97"] + BASE, tmp_path,
              monkeypatch)[4].reshape(48, 48)
    bg = Background(GEOMETRY, [Material("water", thickness_mm=0.2),
                               Material("air", thickness_mm=30, density=0.0012, molecular_weight=28.97)])
    bragg = np.linspace(0, 100, 48 * 48, dtype=np.float32).reshape(48, 48)
    image = bragg.copy()
    assert bg.add_to(image) is image
    assert np.array_equal(image, (bragg + water) + air)
    assert np.array_equal(bg.render(), np.float32(0) + water + air)


def test_background_checks_its_inputs():
    from nanobragg_ext.background import Background, Material
    from nanobragg_ext.options import OptionError

    with pytest.raises(OptionError, match="thickness"):
        Material("water", thickness_mm=-1)
    with pytest.raises(OptionError, match="molecular_weight"):
        Material("water", molecular_weight=0)
    bg = Background(GEOMETRY, [Material("water")])
    with pytest.raises(TypeError, match="float32"):
        bg.add_to(np.zeros((48, 48), dtype=np.float64))
    with pytest.raises(ValueError, match="shape"):
        bg.add_to(np.zeros((48, 47), dtype=np.float32))


def test_help_lists_the_options_and_the_additions(capsys):
    assert nonbragg.main(["-h"]) == 0
    out = capsys.readouterr().out
    assert "-stol filename.stol" in out and "-corrected" in out and "water" in out
