"""Per-panel sensor physics (thickness, attenuation, layers, material tables), a .geom's photon
energy and ADU scale, and CrystFEL's conventions (frame, clen/coffset, bad regions) as its source
code has them."""
import json
import math

import numpy as np
import pytest

from nanobragg_ext import _core, api, cli
from nanobragg_ext.detector import Detector, GeometryError, Panel
from nanobragg_ext.detector.crystfel_geom import HC_EV_A, geom_text, read_geom
from nanobragg_ext.detector.panels import beam_frame
from nanobragg_ext.detector.presets import preset_detector
from nanobragg_ext.detector.render import render_detector, sensor_panel
from nanobragg_ext.detector.sensor_materials import attenuation_mu, known_materials, mass_attenuation
from nanobragg_ext.options import parse_args
from nanobragg_ext.pipeline import load_request

NO_LAMBDA = ["-cell", "40", "40", "40", "90", "90", "90", "-default_F", "100", "-N", "4", "-distance", "50",
             "-detpixels", "48", "-pixel", "0.4", "-misset", "10", "20", "30", "-oversample", "1", "-seed", "1",
             "-noprogress", "-nonoise", "-nopgm"]
BASE = NO_LAMBDA + ["-lambda", "1.0"]
# MOSFLM frame (beam +x): a panel tilted 30 degrees about lab y, and one square to the beam
TILTED = dict(fast=(-0.5, 0.0, 0.8660254037844387), slow=(0.0, -1.0, 0.0), origin=(0.05, 0.006, -0.004),
              fpixels=24, spixels=20, pixel_size=4e-4)
SQUARE = dict(fast=(0.0, 0.0, 1.0), slow=(0.0, -1.0, 0.0), origin=(0.05, 0.004, 0.003), fpixels=16, spixels=12,
              pixel_size=4e-4)


def _num(x):
    return repr(float(x))


def custom_args(panel: Panel):
    """A plain CUSTOM nanoBragg detector with the panel's vectors and origin (sample pivot)."""
    f, s, o = np.asarray(panel.fast), np.asarray(panel.slow), np.asarray(panel.origin)
    n = np.cross(f, s)
    return ["-fdet_vector", *map(_num, f), "-sdet_vector", *map(_num, s), "-odet_vector", *map(_num, n),
            "-beam_vector", "1", "0", "0", "-polar_vector", "0", "0", "1", "-spindle_axis", "0", "0", "1",
            "-Xclose", _num(-1e3 * o @ f), "-Yclose", _num(-1e3 * o @ s), "-close_distance", _num(1e3 * o @ n),
            "-detpixels_f", str(panel.fpixels), "-detpixels_s", str(panel.spixels)]


def plain_image(args):
    sim = load_request(parse_args(args))
    g = sim.prepared.geometry
    image = np.zeros((g["spixels"], g["fpixels"]))
    api.render(sim, image)
    return image


def assert_close(a, b, rel=1e-9):
    """rel 1e-9: both rendered in double; 1e-6 for a float32 file of the command line."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.max() > 0, "the test image has no signal"
    assert np.max(np.abs(a - b)) <= rel * a.max()


def render(panels, args=BASE):
    return render_detector(load_request(parse_args(args)), Detector(panels, (1.0, 0.0, 0.0)))


def test_panel_sensor_renders_as_the_single_panel_run_with_detector_thick_abs_thicksteps():
    panel = Panel("t", **TILTED, thickness=100e-6, mu=1 / 50e-6, thicksteps=3)
    stack = render([panel])
    single = plain_image(BASE + custom_args(panel) + ["-detector_thick", "100", "-detector_abs", "50",
                                                      "-detector_thicksteps", "3"])
    assert_close(single, stack[0, :20, :24])
    thin = plain_image(BASE + custom_args(panel))
    assert np.max(np.abs(thin - single)) > 1e-3 * single.max()  # the sensor changes the image


@pytest.mark.parametrize("flags", [["-curved_det"], ["-point_pixel"], ["-oversample_thick"]])
def test_curved_point_pixel_and_per_subpixel_capture_use_the_panels_own_normal(flags):
    panel = Panel("t", **TILTED, thickness=200e-6, mu=1 / 80e-6)
    stack = render([panel], flags + BASE)  # -curved_det needs an argument after it (nanoBragg.c)
    single = plain_image(flags + BASE + custom_args(panel) + ["-detector_thick", "200", "-detector_abs", "80"])
    assert_close(single, stack[0])


def test_two_panels_with_different_sensors_each_match_their_own_single_panel_run():
    si = Panel("si", **TILTED, thickness=100e-6, material="Si")  # attenuation from the table at 1 A
    thick = Panel("cdte", **SQUARE, thickness=750e-6, material="CdTe", thicksteps=4)
    stack = render([si, thick])
    mu_si, mu_cdte = attenuation_mu("Si", 1e-10), attenuation_mu("CdTe", 1e-10)
    for k, (panel, mu) in enumerate([(si, mu_si), (thick, mu_cdte)]):
        args = BASE + custom_args(panel) + ["-detector_thick", _num(panel.thickness * 1e6),
                                            "-detector_abs", _num(1e6 / mu)]
        if panel.thicksteps:
            args += ["-detector_thicksteps", str(panel.thicksteps)]
        assert_close(plain_image(args), stack[k, :panel.spixels, :panel.fpixels])


def test_command_line_sensor_overrides_every_panels_own():
    base = parse_args(BASE + ["-detector_thick", "200", "-detector_abs", "30", "-detector_thicksteps", "5"]).options
    p = sensor_panel(Panel("p", **SQUARE, thickness=450e-6, material="Si", thicksteps=2), base)
    assert p.thickness == base.detector_thick == 200 * 1e-6 and p.thicksteps == 5 and math.isclose(p.mu, 1 / 30e-6)
    own = sensor_panel(Panel("p", **SQUARE, thickness=450e-6, material="Si"), parse_args(BASE).options)
    assert own.thickness == 450e-6 and math.isclose(own.mu, attenuation_mu("Si", 1e-10)) and own.thicksteps is None
    thin = sensor_panel(Panel("p", **SQUARE, thickness=450e-6), parse_args(BASE + ["-detector_abs", "inf"]).options)
    assert thin.thickness == 0.0  # as nanoBragg.c: no absorption means a thin sensor
    with pytest.raises(GeometryError, match="panel p: sensor material 'Unobtainium'.*known: CdTe, GaAs, Ge, Si"):
        sensor_panel(Panel("p", **SQUARE, thickness=1e-4, material="Unobtainium"), parse_args(BASE).options)
    # an explicit attenuation needs no table
    assert sensor_panel(Panel("p", **SQUARE, thickness=1e-4, material="Unobtainium", mu=1e4),
                        parse_args(BASE).options).mu == 1e4


def test_attenuation_tables_interpolate_log_log_and_take_the_value_above_an_edge():
    assert known_materials() == ["CdTe", "GaAs", "Ge", "Si"]
    assert math.isclose(mass_attenuation("Si", 8.0), 64.68, rel_tol=1e-12)  # a tabulated point (NIST, Z = 14)
    slope = math.log(10.34 / 33.89) / math.log(15.0 / 10.0)
    assert math.isclose(mass_attenuation("si", 12.4), 33.89 * (12.4 / 10.0) ** slope, rel_tol=1e-12)
    assert math.isclose(mass_attenuation("GaAs", 11.8667), 168.5, rel_tol=1e-12)  # the As K edge: above it
    assert mass_attenuation("GaAs", 11.86) < 100
    # Si at 12.4 keV: attenuation length about 0.24 mm (NIST), 1/mu in metres
    assert 230e-6 < 1 / attenuation_mu("Si", HC_EV_A / 12400 * 1e-10) < 240e-6
    with pytest.raises(GeometryError, match="outside the tabulated"):
        mass_attenuation("Si", 500.0)


def test_geom_carries_the_sensor_in_comments_crystfel_skips(tmp_path):
    det = Detector([Panel("p0", **SQUARE, thickness=320e-6, material="GaAs", mu=1 / 70e-6, thicksteps=3)])
    text = geom_text(det, 12000.0)
    sensor_lines = [x for x in text.splitlines() if "sensor_" in x]
    assert len(sensor_lines) == 4 and all(x.startswith("; nanobragg-ext p0/") for x in sensor_lines)
    path = tmp_path / "s.geom"
    path.write_text(text)
    (p,) = read_geom(str(path))[0].panels
    assert (p.thickness, p.material, p.thicksteps) == (320e-6, "GaAs", 3) and math.isclose(p.mu, 1 / 70e-6)


def test_preset_renders_its_sensor_unless_the_command_line_gives_one(tmp_path, monkeypatch):
    from nanobragg_ext.detector import presets

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(presets.PRESETS, "tiny", presets.ModuleLayout(1, 2, 16, 8, 0, 4, 4e-4, 300e-6, "Si"))
    assert cli.main(BASE + ["-floatfile", "own.bin", "-detector", "tiny", "-write_geom", "own.geom",
                            "-write_expt", "own.expt"]) == 0
    assert cli.main(BASE + ["-floatfile", "thin.bin", "-detector", "tiny", "-detector_abs", "0"]) == 0
    own, thin = (np.fromfile(n, "<f4").reshape(2, 8, 16) for n in ("own.bin", "thin.bin"))
    g = load_request(parse_args(BASE)).prepared.geometry
    det = preset_detector("tiny", g["distance"], g["beam"], g["fdet"], g["sdet"])
    for k, panel in enumerate(det.panels):
        args = BASE + custom_args(panel)
        assert_close(plain_image(args + ["-detector_thick", "300", "-detector_abs",
                                         _num(1e6 / attenuation_mu("Si", 1e-10))]), own[k], 1e-6)
        assert_close(plain_image(args), thin[k], 1e-6)
    written = read_geom("own.geom")[0].panels[0]
    assert written.thickness == 300e-6 and math.isclose(written.mu, attenuation_mu("Si", 1e-10))
    panel = json.loads(open("own.expt").read())["detector"][0]["panels"][0]  # dxtbx: mm and mm^-1
    assert math.isclose(panel["thickness"], 0.3) and math.isclose(panel["mu"], attenuation_mu("Si", 1e-10) * 1e-3)
    assert panel["material"] == "Si"


GEOM_ONE = """photon_energy = {energy}
adu_per_eV = 0.001
p/min_fs = 0
p/max_fs = 15
p/min_ss = 0
p/max_ss = 11
p/corner_x = -8
p/corner_y = -6
p/fs = +1.0x
p/ss = +1.0y
p/res = 2500
q/min_fs = 0
q/max_fs = 15
q/min_ss = 12
q/max_ss = 23
q/corner_x = 9
q/corner_y = -6
q/fs = +1.0x
q/ss = +1.0y
q/res = 2500
q/adu_per_photon = 7.5
q/coffset = 0.002
clen = 50 mm
"""


def test_geom_photon_energy_sets_the_wavelength_unless_the_command_line_gives_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "e.geom").write_text(GEOM_ONE.format(energy="9.5 keV"))
    (tmp_path / "n.geom").write_text(GEOM_ONE.format(energy="/LCLS/photon_energy_eV"))
    assert cli.main(NO_LAMBDA + ["-floatfile", "geom.bin", "-geom", "e.geom"]) == 0
    assert "from photon_energy = 9500 eV in e.geom" in capsys.readouterr().out
    lam = _num(HC_EV_A / 9500.0)
    assert cli.main(NO_LAMBDA + ["-lambda", lam, "-floatfile", "given.bin", "-geom", "n.geom"]) == 0
    assert cli.main(BASE + ["-floatfile", "one.bin", "-geom", "e.geom"]) == 0  # -lambda 1 wins
    assert cli.main(BASE + ["-floatfile", "one_n.bin", "-geom", "n.geom"]) == 0
    assert "from photon_energy" not in capsys.readouterr().out
    geom, given, one, one_n = (np.fromfile(n, "<f4") for n in ("geom.bin", "given.bin", "one.bin", "one_n.bin"))
    assert_close(given, geom, 1e-6)
    assert_close(one_n, one, 1e-6)
    assert np.max(np.abs(one - geom)) > 1e-3 * one.max()


def test_geom_adu_scale_clen_units_and_coffset(tmp_path):
    path = tmp_path / "e.geom"
    path.write_text(GEOM_ONE.format(energy="8000 eV"))
    det, glob = read_geom(str(path))
    p, q = det.panels
    assert glob == {"photon_energy": 8000.0}
    # clen is global even when it comes last (CrystFEL: a top-level value); coffset adds to it
    assert math.isclose(p.origin[0], 0.050) and math.isclose(q.origin[0], 0.052)
    # adu_per_eV is a default for the panels after it, scaled by the photon energy; adu_per_photon wins
    assert math.isclose(p.adu_gain(8000.0), 8.0) and q.adu_gain(8000.0) == 7.5
    assert q.adu_per_eV is None  # q's adu_per_photon replaced the default adu_per_eV
    assert Panel("x", **SQUARE).adu_gain(8000.0) == 1.0
    with pytest.raises(GeometryError, match="'photon_energy'.*unit 'MeV'"):
        path.write_text(GEOM_ONE.format(energy="8 MeV"))
        read_geom(str(path))


def test_written_geom_has_one_clen_and_a_coffset_per_panel_as_crystfel_requires(tmp_path):
    """CrystFEL 0.10+ refuses a panel's clen ("'clen' is a top-level property", datatemplate.c)
    and needs a wavelength and an ADU scale for every panel."""
    path = tmp_path / "e.geom"
    path.write_text(GEOM_ONE.format(energy="8000 eV"))
    det, _ = read_geom(str(path))
    text = geom_text(det, 8000.0)
    keys = [line.split("=")[0].strip() for line in text.splitlines() if line and not line.startswith(";")]
    assert "clen" in keys and not any(k.endswith("/clen") for k in keys)
    assert {"p/coffset", "q/coffset", "photon_energy", "adu_per_photon", "q/adu_per_photon",
            "p/adu_per_eV"} <= set(keys)
    assert "photon_energy = 8000.0 eV" in text
    back = tmp_path / "back.geom"
    back.write_text(text)
    for a, b in zip(det.panels, read_geom(str(back))[0].panels):
        np.testing.assert_allclose(a.origin, b.origin, rtol=0, atol=1e-15)
        assert (a.adu_per_eV, a.adu_per_photon) == (b.adu_per_eV, b.adu_per_photon)


def test_crystfel_frame_is_z_along_the_beam_y_up_x_completing_a_right_handed_set():
    """crystfel_geometry(5): +z along the beam, +y to the ceiling, +x completes a right-handed
    system; for nanoBragg's MOSFLM frame (beam +x, +y up) x_c is lab -z."""
    frame = beam_frame((1.0, 0.0, 0.0))
    np.testing.assert_array_equal(frame, [[0, 0, -1], [0, 1, 0], [1, 0, 0]])
    assert np.linalg.det(frame) == pytest.approx(1.0)
    np.testing.assert_allclose(np.cross(frame[1], frame[2]), frame[0])


def test_bad_regions_follow_crystfel_corners_strictly_and_ranges_inclusively(tmp_path):
    """x/y regions test each pixel's first corner strictly (image.c draw_bad_region_xy), in units
    of 1/res even where |fs| is not 1; fs/ss ranges are inclusive; one outside its panel is refused."""
    base = GEOM_ONE.format(energy="8000 eV").replace("q/fs = +1.0x", "q/fs = +0.5x").replace("q/ss = +1.0y",
                                                                                              "q/ss = +0.5y")
    region = "bad_x/min_x = 11\nbad_x/max_x = 14\nbad_x/min_y = -7\nbad_x/max_y = -5\n" \
             "bad_r/panel = p\nbad_r/min_fs = 2\nbad_r/max_fs = 3\nbad_r/min_ss = 5\nbad_r/max_ss = 5\n"
    path = tmp_path / "b.geom"
    path.write_text(base + region)
    p, q = read_geom(str(path))[0].panels
    assert q.pixel_size == 0.5 / 2500
    # q's corners: x = 9 + 0.5 i, y = -6 + 0.5 j (1/res units): 11 < x < 14 -> i = 5..9; -7 < y < -5 -> j = 0, 1
    expected = np.ones((12, 16), dtype=bool)
    expected[0:2, 5:10] = False
    np.testing.assert_array_equal(q.mask != 0, expected)
    expected = np.ones((12, 16), dtype=bool)
    expected[5, 2:4] = False
    np.testing.assert_array_equal(p.mask != 0, expected)
    path.write_text(base + region.replace("max_fs = 3", "max_fs = 16"))
    with pytest.raises(GeometryError, match="bad region bad_r is \\(partly\\) outside panel p"):
        read_geom(str(path))


def test_jungfrau_modules_are_eight_chips_two_pixels_apart():
    det = preset_detector("jungfrau_4m", 0.1)
    assert len(det.panels) == 64 and {(p.fpixels, p.spixels) for p in det.panels} == {(256, 256)}
    a0, a1, a4 = det.panels[0], det.panels[1], det.panels[4]  # chips 0, 1 (along fast) and 4 (next row)
    px = a0.pixel_size
    assert round(float(np.dot(np.subtract(a1.origin, a0.origin), a0.fast)) / px, 9) == 258
    assert round(float(np.dot(np.subtract(a4.origin, a0.origin), a0.slow)) / px, 9) == 258
    assert sum(p.fpixels * p.spixels for p in det.panels) == 8 * 1024 * 512  # the read-out pixels


def test_options_native_defaults_mean_not_given():
    """The precedence rule reads 'not given' from these defaults (nanoBragg.c L244)."""
    o = _core.Options()
    assert (o.detector_thick, o.detector_mu, o.detector_thicksteps) == (0.0, -1.0, -1)
