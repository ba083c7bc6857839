"""Multi-panel detectors: CrystFEL .geom and DIALS .expt round trips, presets, per-panel rendering
against one-panel nanoBragg runs, and the errors for bad geometry."""
import json

import numpy as np
import pytest

from nanobragg_ext import cli
from nanobragg_ext.detector import Detector, GeometryError, Panel
from nanobragg_ext.detector.crystfel_geom import read_geom, write_geom
from nanobragg_ext.detector.dials_expt import read_expt, write_expt
from nanobragg_ext.detector.presets import PRESETS, preset_detector
from nanobragg_ext.detector.render import render_detector
from nanobragg_ext.options import parse_args
from nanobragg_ext.pipeline import load_request

# A small still: 64 x 64 pixels, one sub-pixel, a few strong spots.
BASE = ["-cell", "40", "40", "40", "90", "90", "90", "-default_F", "100", "-N", "4", "-lambda", "1.0",
        "-distance", "50", "-detpixels", "64", "-pixel", "0.4", "-misset", "10", "20", "30", "-oversample", "1",
        "-seed", "1", "-noprogress", "-nonoise", "-nopgm"]


def run_cli(args, capsys=None):
    rc = cli.main(args)
    return rc


def read_float(path, shape):
    return np.fromfile(path, dtype="<f4").reshape(shape)


def assert_close_images(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.max() > 0, "the test image has no signal"
    assert np.max(np.abs(a - b)) <= 1e-6 * a.max()


@pytest.mark.parametrize("extra", [[], ["-xds", "-twotheta", "8", "-detector_rotz", "3"],
                                   ["-Xbeam", "11", "-Ybeam", "14", "-detector_rotx", "4"]],
                         ids=["mosflm", "xds-twotheta", "beam-offset-rotx"])
def test_write_geom_then_geom_renders_the_same_image(tmp_path, monkeypatch, extra):
    monkeypatch.chdir(tmp_path)
    assert run_cli(BASE + extra + ["-floatfile", "plain.bin", "-write_geom", "d.geom", "-write_expt", "d.expt"]) == 0
    assert run_cli(BASE + extra + ["-floatfile", "geom.bin", "-geom", "d.geom"]) == 0
    assert run_cli(BASE + extra + ["-floatfile", "expt.bin", "-expt", "d.expt"]) == 0
    plain = read_float("plain.bin", (64, 64))
    assert_close_images(plain, read_float("geom.bin", (64, 64)))
    assert_close_images(plain, read_float("expt.bin", (64, 64)))


def _plain(args):
    """(the native run object of a plain run, its rendered image)."""
    from nanobragg_ext import api

    sim = load_request(parse_args(args))
    image = np.zeros((sim.prepared.geometry["spixels"], sim.prepared.geometry["fpixels"]))
    api.render(sim, image)
    return sim, image


def test_one_panel_cut_into_quadrants_renders_the_same_pixels():
    from nanobragg_ext import api

    sim, image = _plain(BASE + ["-Xbeam", "13", "-Ybeam", "12"])
    whole = Detector.from_prepared(sim.prepared).panels[0]
    f, s, o = np.asarray(whole.fast), np.asarray(whole.slow), np.asarray(whole.origin)
    quads = [Panel(f"q{j}{i}", f, s, o + whole.pixel_size * 32 * (i * f + j * s), 32, 32, whole.pixel_size)
             for j in range(2) for i in range(2)]
    det = Detector(quads, sim.prepared.geometry["beam"])
    det.check_overlaps()
    stack = render_detector(sim, det)
    assert stack.shape == (4, 32, 32)
    rebuilt = np.block([[stack[0], stack[1]], [stack[2], stack[3]]])
    assert_close_images(image, rebuilt)
    again = np.zeros_like(image)  # the run object is back on the plain run
    api.render(sim, again)
    np.testing.assert_array_equal(again, image)


GEOM_TWO = """; two panels, the second tilted 30 degrees about the CrystFEL y axis
res = 2500
clen = 0.05
coffset = 0
photon_energy = 12398.4
flat/min_fs = 0
flat/max_fs = 31
flat/min_ss = 0
flat/max_ss = 23
flat/corner_x = -40
flat/corner_y = -12
flat/fs = +1.0x
flat/ss = +1.0y
tilt/min_fs = 0
tilt/max_fs = 31
tilt/min_ss = 24
tilt/max_ss = 47
tilt/corner_x = 4
tilt/corner_y = -12
tilt/fs = +0.8660254037844387x +0.5z
tilt/ss = +1.0y
"""


def test_rotated_panel_renders_what_a_custom_detector_with_its_vectors_renders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "two.geom").write_text(GEOM_TWO)
    assert run_cli(BASE + ["-floatfile", "two.bin", "-geom", "two.geom", "-pngfile", "two.png"]) == 0
    stack = read_float("two.bin", (2, 24, 32))
    assert (tmp_path / "two.png").stat().st_size > 0
    # The CrystFEL frame of a MOSFLM run (beam +x): x_c = -z_lab, y_c = +y_lab, z_c = +x_lab.
    to_lab = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])  # columns: x_c, y_c, z_c in lab
    res, clen = 2500.0, 0.05
    panels = [((1.0, 0, 0), (0, 1.0, 0), (-40, -12)), ((0.8660254037844387, 0, 0.5), (0, 1.0, 0), (4, -12))]
    for k, (fs, ss, corner) in enumerate(panels):
        f, s = to_lab @ np.asarray(fs), to_lab @ np.asarray(ss)
        o = to_lab @ np.array([corner[0] / res, corner[1] / res, clen])
        n = np.cross(f, s)
        num = lambda x: repr(float(x))  # noqa: E731
        args = BASE + ["-fdet_vector", *map(num, f), "-sdet_vector", *map(num, s), "-odet_vector", *map(num, n),
                       "-beam_vector", "1", "0", "0", "-polar_vector", "0", "0", "1", "-spindle_axis", "0", "0", "1",
                       "-Xclose", num(-1e3 * o @ f), "-Yclose", num(-1e3 * o @ s),
                       "-close_distance", num(1e3 * o @ n), "-detpixels_f", "32", "-detpixels_s", "24",
                       "-floatfile", f"custom{k}.bin"]
        assert run_cli(args) == 0
        assert_close_images(read_float(f"custom{k}.bin", (24, 32)), stack[k])


def test_geom_reader_reads_panels_defaults_and_bad_regions(tmp_path):
    text = GEOM_TWO + "bad_edge/min_fs = 0\nbad_edge/max_fs = 3\nbad_edge/min_ss = 24\nbad_edge/max_ss = 25\n" \
                      "bad_edge/panel = tilt\n"
    (tmp_path / "g.geom").write_text(text)
    det, glob = read_geom(str(tmp_path / "g.geom"))
    assert glob["photon_energy"] == 12398.4
    flat, tilt = det.panels
    assert (flat.fpixels, flat.spixels, flat.pixel_size) == (32, 24, 1 / 2500)
    np.testing.assert_allclose(flat.origin, [0.05, -12 / 2500, 40 / 2500])  # lab = (z_c, y_c, -x_c)
    assert flat.mask is None
    assert tilt.mask[:2, :4].sum() == 0 and tilt.mask.sum() == 32 * 24 - 8
    # written and read back: the same panels and mask
    write_geom(str(tmp_path / "back.geom"), det)
    again, _ = read_geom(str(tmp_path / "back.geom"))
    for a, b in zip(det.panels, again.panels):
        np.testing.assert_allclose(a.origin, b.origin, atol=1e-15)
        np.testing.assert_allclose(a.fast, b.fast, atol=1e-15)
        np.testing.assert_allclose(a.slow, b.slow, atol=1e-15)
        assert (a.fpixels, a.spixels, a.pixel_size) == (b.fpixels, b.spixels, b.pixel_size)
    np.testing.assert_array_equal(again.panels[1].mask, tilt.mask)


def test_masked_pixels_are_not_rendered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = GEOM_TWO + "bad_a/min_fs = 0\nbad_a/max_fs = 31\nbad_a/min_ss = 0\nbad_a/max_ss = 23\nbad_a/panel = flat\n"
    (tmp_path / "m.geom").write_text(text)
    assert run_cli(BASE + ["-floatfile", "m.bin", "-geom", "m.geom"]) == 0
    stack = read_float("m.bin", (2, 24, 32))
    assert not stack[0].any() and stack[1].any()


@pytest.mark.parametrize("name, modules, module, gaps, total, pixel, sensor", [
    ("eiger2_x_16m", (4, 8), (1028, 512), (12, 38), (4148, 4362), 75e-6, 450e-6),
    ("eiger2_x_4m", (2, 4), (1028, 512), (12, 38), (2068, 2162), 75e-6, 450e-6),
    ("eiger_x_16m", (4, 8), (1030, 514), (10, 37), (4150, 4371), 75e-6, 450e-6),
    ("pilatus_6m", (5, 12), (487, 195), (7, 17), (2463, 2527), 172e-6, 320e-6),
    ("jungfrau_4m", (2, 4), (1030, 514), (36, 36), (2096, 2164), 75e-6, 320e-6),
])
def test_presets_have_the_published_pixel_counts_and_gaps(name, modules, module, gaps, total, pixel, sensor):
    lay = PRESETS[name]
    assert (lay.fpixels, lay.spixels) == total
    det = preset_detector(name, 0.2)
    per_module = lay.chips[0] * lay.chips[1]
    assert len(det.panels) == modules[0] * modules[1] * per_module
    assert {(p.thickness, p.material) for p in det.panels} == {(sensor, "Si")}
    # measured from the placed panels: gap to the next module along fast and slow, total span
    p0, p1, pn = det.panels[0], det.panels[per_module], det.panels[modules[0] * per_module]
    step = lambda a, b, axis: float(np.dot(np.subtract(b.origin, a.origin), axis)) / pixel  # noqa: E731
    assert round(step(p0, p1, p0.fast) - module[0], 6) == gaps[0]
    assert round(step(p0, pn, p0.slow) - module[1], 6) == gaps[1]
    last = det.panels[-1]
    span_f = step(p0, last, p0.fast) + last.fpixels
    span_s = step(p0, last, p0.slow) + last.spixels
    assert (round(span_f, 6), round(span_s, 6)) == total
    # every module is covered by its panels less the chip gaps
    chips_f = sum(p.fpixels for p in det.panels[:lay.chips[0]])
    assert chips_f + (lay.chips[0] - 1) * lay.chip_gap == module[0]
    assert {(p.fpixels, p.spixels, p.pixel_size) for p in det.panels} == {lay.chip_pixels + (pixel,)}
    centre = np.mean([p.centre() for p in det.panels], axis=0)
    np.testing.assert_allclose(centre, [0.2, 0, 0], atol=1e-12)  # centred on the beam


def test_preset_renders_and_assembles_with_gaps(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from nanobragg_ext.detector import presets
    from nanobragg_ext.detector.render import assemble

    monkeypatch.setitem(presets.PRESETS, "tiny", presets.ModuleLayout(2, 2, 16, 8, 3, 5, 4e-4, 3e-4, "Si"))
    assert run_cli(BASE + ["-floatfile", "t.bin", "-detector", "tiny", "-write_geom", "t.geom"]) == 0
    stack = read_float("t.bin", (4, 8, 16))
    assert stack.any()
    det, _ = read_geom("t.geom")
    picture = assemble(det, stack)
    assert picture.shape == (8 * 2 + 5, 16 * 2 + 3)
    assert not picture[8:13].any() and not picture[:, 16:19].any()  # the gaps
    assert np.isclose(picture.sum(), stack.sum(), rtol=1e-6)


def test_expt_reads_back_a_detector_it_wrote(tmp_path):
    det, _ = read_geom(_write(tmp_path, "two.geom", GEOM_TWO))
    write_expt(str(tmp_path / "d.expt"), det, 1.0)
    doc = json.loads((tmp_path / "d.expt").read_text())
    assert len(doc["detector"][0]["panels"]) == 2
    back = read_expt(str(tmp_path / "d.expt"))
    for a, b in zip(det.panels, back.panels):
        assert a.name == b.name and (a.fpixels, a.spixels) == (b.fpixels, b.spixels)
        np.testing.assert_allclose(b.origin, a.origin, atol=1e-15)
        np.testing.assert_allclose(b.fast, a.fast, atol=1e-15)
        np.testing.assert_allclose(b.slow, a.slow, atol=1e-15)
        assert b.pixel_size == pytest.approx(a.pixel_size, rel=1e-15)


def test_expt_hierarchy_is_composed_down_to_the_panels(tmp_path):
    # A group 100 mm from the sample (dxtbx frame: beam along -z), turned 90 degrees in plane;
    # its panel sits 5 mm along the group's fast axis.
    doc = {"beam": [{"direction": [0, 0, 1], "wavelength": 1.0}],
           "detector": [{"panels": [{"name": "a", "fast_axis": [1, 0, 0], "slow_axis": [0, 1, 0],
                                     "origin": [5, 0, 0], "image_size": [10, 20], "pixel_size": [0.1, 0.1]}],
                         "hierarchy": {"fast_axis": [1, 0, 0], "slow_axis": [0, 1, 0], "origin": [0, 0, -100],
                                       "children": [{"fast_axis": [0, 1, 0], "slow_axis": [-1, 0, 0],
                                                     "origin": [0, 0, 0], "children": [{"panel": 0}]}]}}]}
    det = read_expt(_write(tmp_path, "h.expt", json.dumps(doc)))
    p = det.panels[0]
    # dxtbx (x_d, y_d, z_d) = (z_lab, y_lab, -x_lab) for a MOSFLM-frame run
    np.testing.assert_allclose(p.origin, [0.1, 0.005, 0.0], atol=1e-15)  # 5 mm along group fast = +y_d
    np.testing.assert_allclose(p.fast, [0, 1, 0], atol=1e-15)            # group fast = +y_d
    np.testing.assert_allclose(p.slow, [0, 0, -1], atol=1e-15)           # group slow = -x_d
    assert (p.fpixels, p.spixels, p.pixel_size) == (10, 20, 1e-4)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _panel_lines(name, fs="+1.0x", ss="+1.0y", min_ss=0, clen=None):
    lines = [f"{name}/min_fs = 0", f"{name}/max_fs = 7", f"{name}/min_ss = {min_ss}", f"{name}/max_ss = {min_ss + 7}",
             f"{name}/corner_x = -4", f"{name}/corner_y = -4", f"{name}/fs = {fs}", f"{name}/ss = {ss}",
             f"{name}/res = 2500"]
    return lines + ([f"{name}/clen = {clen}"] if clen is not None else [])


@pytest.mark.parametrize("text, words", [
    ("clen = 0.05\n" + "\n".join(_panel_lines("a")) + "\na/corner_x\n", ["line 11", "key = value"]),
    ("clen = 0.05\n" + "\n".join(_panel_lines("a")) + "\na/res = abc\n", ["line 11", "'a/res'", "number"]),
    ("clen = 0.05\n" + "\n".join(_panel_lines("a", fs="+1.0q")), ["line 8", "'a/fs'", "vector"]),
    ("clen = 0.05\n" + "\n".join(_panel_lines("a")) + "\na/colour = red\n", ["line 11", "'a/colour'", "unknown key"]),
    ("clen = 0.05\n" + "\n".join(_panel_lines("a") + _panel_lines("b", min_ss=4)), ["a and b", "overlapping"]),
    ("clen = 0.05\n" + "\n".join(_panel_lines("a", fs="0x")), ["panel a", "zero-length fs"]),
    ("clen = 0.05\n" + "\n".join(_panel_lines("a", ss="+2.0x", fs="+2.0x")), ["panel a", "parallel"]),
    ("clen = -0.05\n" + "\n".join(_panel_lines("a")), ["panel a", "behind the sample"]),
    ("clen = /LCLS/detector_1/EncoderValue\n" + "\n".join(_panel_lines("a")), ["line 1", "'clen'", "not a number"]),
    ("\n".join(_panel_lines("a")), ["panel a", "no 'clen'"]),
])
def test_bad_geometry_files_exit_2_and_write_nothing(tmp_path, monkeypatch, capsys, text, words):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "bad.geom", text)
    hkl = tmp_path.parent / f"{tmp_path.name}.hkl"  # outside tmp_path: -hkl would write Fdump.bin here
    hkl.write_text("0 0 1 100\n1 0 0 100\n")
    args = BASE + ["-hkl", str(hkl), "-floatfile", "out.bin", "-geom", "bad.geom", "-write_geom", "w.geom"]
    assert run_cli(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.geom" in err
    for w in words:
        assert w in err, (w, err)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bad.geom"]  # nothing written


def test_bad_expt_and_unknown_preset_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "bad.expt", '{"detector": [{"panels": [ {"name": "x",}]}]}')
    assert run_cli(BASE + ["-floatfile", "out.bin", "-expt", "bad.expt"]) == 2
    err = capsys.readouterr().err
    assert "bad.expt" in err and "line 1" in err
    _write(tmp_path, "nopx.expt", '{"detector": [{"panels": [{"fast_axis": [1,0,0], "slow_axis": [0,1,0], '
                                  '"origin": [0,0,-50], "image_size": [8, 8], "pixel_size": [0.1, 0.2]}]}]}')
    assert run_cli(BASE + ["-floatfile", "out.bin", "-expt", "nopx.expt"]) == 2
    assert "pixel_size" in capsys.readouterr().err
    assert run_cli(BASE + ["-floatfile", "out.bin", "-detector", "eiger9000"]) == 2
    err = capsys.readouterr().err
    assert "eiger9000" in err and all(k in err for k in PRESETS)
    assert run_cli(BASE + ["-geom", "a.geom", "-detector", "pilatus_6m"]) == 2
    assert "one detector" in capsys.readouterr().err
    assert run_cli(BASE + ["-floatfile", "out.bin", "-detector", "pilatus_6m", "-roi", "0", "9", "0", "9"]) == 2
    assert "-roi" in capsys.readouterr().err
    assert not (tmp_path / "out.bin").exists()


def test_python_api_takes_a_list_of_panel_configs():
    from nanobragg_ext.config import CrystalConfig, DetectorConfig, SimulationConfig
    from nanobragg_ext.detector.render import simulate_detector

    cfg = SimulationConfig(detector=DetectorConfig(fpixels=16, spixels=16),
                           crystal=CrystalConfig(cell=(40, 40, 40, 90, 90, 90), default_F=10))
    det = Detector.from_configs([
        {"fast": (0, 0, 1), "slow": (0, -1, 0), "origin": (0.1, 0.002, -0.003), "fpixels": 8, "spixels": 6,
         "pixel_size": 1e-4},
        {"name": "right", "fast": (0, 0, 1), "slow": (0, -1, 0), "origin": (0.1, 0.002, 0.001), "fpixels": 8,
         "spixels": 6, "pixel_size": 1e-4}])
    assert [p.name for p in det.panels] == ["p0", "right"]
    image = simulate_detector(cfg, det)
    assert image.shape == (2, 6, 8) and np.all(np.isfinite(image)) and image.max() > 0
    with pytest.raises(GeometryError, match="panel config 0"):
        Detector.from_configs([{"fast": (0, 0, 1)}])


def test_python_api_orientation_renders_as_the_misset_it_equals():
    """crystal.orientation (cell axes) is kept on every panel: the axes of a misset crystal
    render that crystal's image."""
    import dataclasses

    from nanobragg_ext import api
    from nanobragg_ext.config import CrystalConfig, DetectorConfig, SimulationConfig
    from nanobragg_ext.detector.render import simulate_detector

    cfg = SimulationConfig(detector=DetectorConfig(fpixels=64, spixels=64, pixel_size_mm=0.4, distance_mm=50),
                           crystal=CrystalConfig(cell=(40, 40, 40, 90, 90, 90), default_F=100, n_cells=(4, 4, 4),
                                                 misset_deg=(10, 20, 30)))
    crystal = api.Simulator(cfg).prepared.crystal
    axes = [[1e10 * x for x in crystal[k]] for k in ("a", "b", "c")]
    turned = dataclasses.replace(cfg, crystal=dataclasses.replace(cfg.crystal, misset_deg=None, orientation=axes))
    det = Detector.from_prepared(api.Simulator(cfg).prepared)
    assert_close_images(simulate_detector(cfg, det)[0], simulate_detector(turned, det)[0])


def test_left_handed_panel_renders_the_mirror_of_its_right_handed_twin(tmp_path):
    """fs = -x (fast x slow toward the sample) is rendered from the far corner and mirrored back."""
    sim, _ = _plain(BASE)
    right = "p/min_fs = 0\np/max_fs = 15\np/min_ss = 0\np/max_ss = 9\np/corner_x = -16\np/corner_y = -3\n" \
            "p/fs = +1.0x\np/ss = +1.0y\np/res = 2500\np/clen = 0.05\n"
    left = right.replace("corner_x = -16", "corner_x = 0").replace("fs = +1.0x", "fs = -1.0x")
    a = render_detector(sim, read_geom(_write(tmp_path, "r.geom", right))[0])[0]
    b = render_detector(sim, read_geom(_write(tmp_path, "l.geom", left))[0])[0]
    assert_close_images(a, b[:, ::-1])


def test_geom_reader_skips_hdf5_layout_rigid_groups_and_masks_xy_bad_regions(tmp_path):
    text = "\n".join([
        "data = /entry/data/data", "dim0 = %", "dim1 = ss", "dim2 = fs", "mask_file = mask.h5", "mask = /mask",
        "adu_per_eV = 0.0003", "photon_energy = /LCLS/photon_energy_eV", "clen = 0.05",
        *_panel_lines("a"), "a/max_adu = 10000", "a/no_index = 0",
        "rigid_group_q0 = a", "rigid_group_collection_all = q0",
        "bad_corner/min_x = -4", "bad_corner/max_x = -2", "bad_corner/min_y = -4", "bad_corner/max_y = 0"]) + "\n"
    det, glob = read_geom(_write(tmp_path, "real.geom", text))
    (p,) = det.panels
    assert "photon_energy" not in glob and p.adu_per_eV == 0.0003
    # CrystFEL tests each pixel's first corner, x = -4 + i, y = -4 + j, strictly inside the region
    # (image.c draw_bad_region_xy): column 1, rows 1-3
    expected = np.ones((8, 8), dtype=bool)
    expected[1:4, 1:2] = False
    np.testing.assert_array_equal(p.mask != 0, expected)


def _two_sizes_detector():
    """Two panels of different sizes (the GPU's image size changes between them), one masked."""
    mask = np.ones((6, 10), dtype=np.uint16)
    mask[:2, :3] = 0
    return Detector.from_configs([
        {"fast": (0, 0, 1), "slow": (0, -1, 0), "origin": (0.1, 0.002, -0.003), "fpixels": 8, "spixels": 6,
         "pixel_size": 1e-4},
        {"fast": (0, 0, 1), "slow": (0, -1, 0), "origin": (0.1, 0.002, 0.001), "fpixels": 10, "spixels": 6,
         "pixel_size": 1e-4, "mask": mask}])


def _small_config():
    from nanobragg_ext.config import CrystalConfig, DetectorConfig, SimulationConfig

    return SimulationConfig(detector=DetectorConfig(fpixels=16, spixels=16),
                            crystal=CrystalConfig(cell=(40, 40, 40, 90, 90, 90), default_F=10))


@pytest.mark.gpu
def test_cuda_renders_every_panel_as_the_cpu():
    from nanobragg_ext.backends import cuda_unavailable_reason
    from nanobragg_ext.detector.render import simulate_detector

    reason = cuda_unavailable_reason()
    if reason is not None:
        pytest.skip(f"CUDA backend not usable: {reason}")
    det = _two_sizes_detector()
    cpu = simulate_detector(_small_config(), det)
    gpu = simulate_detector(_small_config(), det, backend="cuda")
    assert cpu.max() > 0 and not cpu[1, :2, :3].any()
    np.testing.assert_allclose(gpu, cpu, rtol=1e-11, atol=1e-12 * float(cpu.max()))


def test_device_cuda_without_a_gpu_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    from nanobragg_ext.backends import cuda_unavailable_reason

    if cuda_unavailable_reason() is None:
        pytest.skip("a CUDA device is usable (test_cuda_renders_every_panel_as_the_cpu covers it)")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "two.geom").write_text(GEOM_TWO)
    assert run_cli(BASE + ["-floatfile", "two.bin", "-geom", "two.geom", "-device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CUDA" in err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["two.geom"]
