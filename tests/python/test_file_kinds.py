"""The files other programs read (formats/): NXmx from -nexus and the dataset mode, CrystFEL HDF5 +
.geom, miniCBF headers, the dials SMV header. Read back with h5py/fabio and compared with the
geometry in use (the run's Setup, the Detector of a .geom), never with typed-in numbers; errors
leave no file. tests/python/test_dxtbx_files.py has dxtbx itself judge the same files."""
import os

import numpy as np
import pytest

for _mod in ("h5py", "fabio"):
    pytest.importorskip(_mod, reason=f"{_mod} is not installed (pip install -e '.[test]')")

import fabio  # noqa: E402
import h5py  # noqa: E402

from nanobragg_ext import _core  # noqa: E402
from nanobragg_ext.cli import main  # noqa: E402
from nanobragg_ext.detector.crystfel_geom import geom_text, read_geom  # noqa: E402
from nanobragg_ext.detector.panels import Detector  # noqa: E402
from nanobragg_ext.detector.render import sensor_detector  # noqa: E402
from nanobragg_ext.formats.nxmx import GAP, MASKED, THIN_SENSOR_M, layout_shape, panel_rows, write_nexus  # noqa: E402
from nanobragg_ext.formats.setup import Setup  # noqa: E402
from nanobragg_ext.io import read_smv  # noqa: E402
from nanobragg_ext.options import RTD, parse_args  # noqa: E402

BASE = ("-cell 70 80 90 90 90 90 -default_F 100 -N 4 -lambda 1.3 -distance 120 -pixel 0.172 -detpixels 48 "
        "-Xbeam 4.3 -Ybeam 5.1 -seed 1 -noprogress -polar 0.8 -exposure 0.3 -detector_thick 320").split()


def run_cli(tmp_path, monkeypatch, args, rc=0):
    monkeypatch.chdir(tmp_path)
    assert main(args) == rc


def prepared_of(args):
    return _core.Simulator(parse_args(args).options).prepared


def chain_point(f, path):
    """The point a NeXus depends_on chain of translations (with offsets) leads to, McStas metres."""
    point = np.zeros(3)
    while path != ".":
        d = f[path]
        assert d.attrs["transformation_type"] == "translation" and d.attrs["units"] == "m"
        point += np.asarray(d.attrs["vector"]) * float(np.ravel(d[()])[0]) + np.asarray(d.attrs.get("offset", 0.0))
        dep = d.attrs["depends_on"]
        path = dep.decode() if isinstance(dep, bytes) else dep
    return point


def check_nxmx_detector(f, setup, frames):
    """The NXmx detector and beam of an open file against setup."""
    e = f["entry"]
    assert e["definition"][()] == b"NXmx"
    M = setup.mcstas
    det = e["instrument/detector"]
    modules = [k for k in det if det[k].attrs.get("NX_class") == "NXdetector_module"]
    assert len(modules) == len(setup.detector.panels)
    assert det["data"].shape == (frames,) + layout_shape(setup.detector)
    assert e["data/data"].id == det["data"].id
    for p, r0, name in zip(setup.detector.panels, panel_rows(setup.detector), modules):
        m = det[name]
        assert list(m["data_origin"][()]) == [r0, 0] and list(m["data_size"][()]) == [p.spixels, p.fpixels]
        for key, axis in (("fast_pixel_direction", p.fast), ("slow_pixel_direction", p.slow)):
            d = m[key]
            assert d[()] == pytest.approx(p.pixel_size) and d.attrs["units"] == "m"
            np.testing.assert_allclose(d.attrs["vector"], M @ np.asarray(axis), atol=1e-12)
            np.testing.assert_allclose(chain_point(f, d.attrs["depends_on"]), M @ np.asarray(p.origin), atol=1e-12)
    assert det["sensor_material"][()].decode() == setup.detector.panels[0].material
    assert det["sensor_thickness"][()] == pytest.approx(max(setup.detector.panels[0].thickness, THIN_SENSOR_M))
    assert det["sensor_thickness"].attrs["units"] == "m"
    for key in ("frame_time", "count_time"):
        assert det[key][()] == pytest.approx(setup.exposure_s) and det[key].attrs["units"] == "s"
    assert "saturation_value" in det and "underload_value" in det
    beam = e["instrument/beam"]
    assert beam["incident_wavelength"].attrs["units"] == "angstrom"
    np.testing.assert_allclose(beam["incident_polarisation_stokes"][()], setup.polarisation_stokes(), atol=1e-12)
    return det


def check_nxmx_angles(f, setup, starts, widths):
    s = f["entry/sample"]
    assert s["depends_on"][()] == b"/entry/sample/transformations/phi"
    phi = s["transformations/phi"]
    assert phi.attrs["transformation_type"] == "rotation" and phi.attrs["depends_on"] == "."
    np.testing.assert_allclose(phi.attrs["vector"], setup.mcstas @ np.asarray(setup.spindle), atol=1e-12)
    np.testing.assert_allclose(phi[()], starts, atol=1e-12)
    np.testing.assert_allclose(s["transformations/phi_increment_set"][()], widths, atol=1e-12)
    np.testing.assert_allclose(s["transformations/phi_end"][()], np.add(starts, widths), atol=1e-12)


def two_panel_detector(beam=(1.0, 0.0, 0.0)):
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    mask = np.ones((36, 24), dtype=np.uint8)
    mask[3, 5:9] = 0
    return Detector.from_configs([
        dict(name="flat", fast=(0, 0, 1), slow=(0, -1, 0), origin=(0.1, 0.004, -0.003), fpixels=40, spixels=32,
             pixel_size=172e-6),
        dict(name="tilted", fast=(-s, 0, c), slow=(0, -1, 0), origin=(0.098, -0.002, 0.005), fpixels=24,
             spixels=36, pixel_size=172e-6, mask=mask),
    ], beam)


def test_nexus_of_a_plain_run_holds_its_geometry(tmp_path, monkeypatch):
    args = BASE + ["-phi", "10", "-osc", "0.5", "-twotheta", "5", "-roi", "2", "40", "3", "44", "-nexus", "one.h5"]
    run_cli(tmp_path, monkeypatch, args)
    prepared = prepared_of(args)
    setup = Setup.of_run(prepared)
    with h5py.File(tmp_path / "one.h5", "r") as f:
        det = check_nxmx_detector(f, setup, 1)
        check_nxmx_angles(f, setup, [prepared.sampling["phi0"] * RTD], [prepared.sampling["osc"] * RTD])
        assert f["entry/instrument/beam/incident_wavelength"][()] == pytest.approx(prepared.options.lambda0 * 1e10)
        assert det["sensor_thickness"][()] == pytest.approx(prepared.options.detector_thick)
        bf, bs = setup.beam_spot(0)
        px = setup.detector.panels[0].pixel_size
        assert det["beam_center_x"][()] == pytest.approx(bf / px) and det["beam_center_y"][()] == pytest.approx(bs / px)
        image = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4").reshape(48, 48)
        np.testing.assert_array_equal(det["data"][0], image)
        xmin, xmax, ymin, ymax = prepared.geometry["roi"]
        outside = np.ones((48, 48), dtype=bool)
        outside[ymin:ymax + 1, xmin:xmax + 1] = False
        np.testing.assert_array_equal(det["pixel_mask"][()] != 0, outside)
        assert det["saturation_value"][()] >= image.max()


def test_api_writes_the_nexus_file_the_cli_writes(tmp_path, monkeypatch):
    from nanobragg_ext import api
    from nanobragg_ext.config import SimulationConfig

    args = BASE + ["-phi", "2", "-osc", "0.3", "-roi", "1", "30", "2", "40"]
    run_cli(tmp_path, monkeypatch, args + ["-nexus", "cli.h5"])
    sim = api.Simulator(SimulationConfig.from_cli_args(args))
    api.write_nexus(str(tmp_path / "api.h5"), sim.run(), sim)
    with h5py.File(tmp_path / "cli.h5", "r") as a, h5py.File(tmp_path / "api.h5", "r") as b:
        for key in ("instrument/detector/data", "instrument/detector/pixel_mask", "sample/transformations/phi",
                    "sample/transformations/phi_end", "instrument/beam/incident_wavelength",
                    "instrument/detector/module/module_offset", "instrument/detector/transformations/detector_z"):
            np.testing.assert_array_equal(a["entry/" + key][()], b["entry/" + key][()], err_msg=key)


def test_nexus_and_crystfel_of_several_panels(tmp_path, monkeypatch):
    det0 = two_panel_detector()
    geom = tmp_path / "in.geom"
    geom.write_text(geom_text(det0))
    args = BASE + ["-geom", str(geom), "-nexus", "panels.h5", "-crystfel", "cf.h5"]
    run_cli(tmp_path, monkeypatch, args)
    prepared = prepared_of(BASE)
    # the panels as rendered: the command line's -detector_thick is every panel's sensor
    det = sensor_detector(read_geom(str(geom), prepared.geometry["beam"])[0], parse_args(BASE).options)
    assert all(p.thickness == pytest.approx(320e-6) for p in det.panels)
    setup = Setup.of_run(prepared, det)
    stack = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4").reshape(2, 36, 40)
    with h5py.File(tmp_path / "panels.h5", "r") as f:
        d = check_nxmx_detector(f, setup, 1)
        check_nxmx_angles(f, setup, [0.0], [0.0])
        data, mask = d["data"][0], d["pixel_mask"][()]
    rows = panel_rows(det)
    for j, p in enumerate(det.panels):
        np.testing.assert_array_equal(data[rows[j]:rows[j] + p.spixels, :p.fpixels], stack[j, :p.spixels, :p.fpixels])
        block = mask[rows[j]:rows[j] + p.spixels]
        assert np.all(block[:, p.fpixels:] == GAP)  # columns no sensor covers
        expected = np.zeros((p.spixels, p.fpixels), dtype=bool) if p.mask is None else p.mask == 0
        np.testing.assert_array_equal(block[:, :p.fpixels] == MASKED, expected)
    assert (mask == MASKED).sum() == 4
    # CrystFEL: the .geom beside the HDF5 file reads back to the same panels and points at its data.
    back, values = read_geom(str(tmp_path / "cf.geom"), prepared.geometry["beam"])
    assert values["photon_energy"] == pytest.approx(setup.photon_energy_eV)
    for p, q in zip(det.panels, back.panels):
        assert (p.name, p.fpixels, p.spixels) == (q.name, q.fpixels, q.spixels)
        np.testing.assert_allclose(q.origin, p.origin, atol=1e-12)
        np.testing.assert_allclose(q.fast, p.fast, atol=1e-12)
        np.testing.assert_allclose(q.slow, p.slow, atol=1e-12)
    text = (tmp_path / "cf.geom").read_text().splitlines()
    assert "data = /data/data" in text and "mask = /data/mask" in text and "adu_per_photon = 1" in text
    with h5py.File(tmp_path / "cf.h5", "r") as f:
        np.testing.assert_array_equal(f["data/data"][()], data)
        np.testing.assert_array_equal(f["data/mask"][()], (mask != 0).astype(np.uint16))


def test_crystfel_of_a_plain_run_reads_back_to_its_panel(tmp_path, monkeypatch):
    args = BASE + ["-xds", "-crystfel", "one.h5"]
    run_cli(tmp_path, monkeypatch, args)
    prepared = prepared_of(args)
    panel = Detector.from_prepared(prepared).panels[0]
    back = read_geom(str(tmp_path / "one.geom"), prepared.geometry["beam"])[0].panels[0]
    np.testing.assert_allclose(back.origin, panel.origin, atol=1e-12)
    np.testing.assert_allclose(back.fast, panel.fast, atol=1e-12)
    np.testing.assert_allclose(back.slow, panel.slow, atol=1e-12)
    with h5py.File(tmp_path / "one.h5", "r") as f:
        np.testing.assert_array_equal(f["data/data"][()], np.fromfile(tmp_path / "floatimage.bin", "<f4").reshape(48, 48))


def test_per_frame_wavelengths_and_spectra(tmp_path):
    prepared = prepared_of(BASE)
    setup = Setup.of_run(prepared)
    frames = np.zeros((2, 48, 48), dtype=np.float32)
    lam = np.array([[1.29, 1.30, 1.31], [1.30, 1.31, 1.32]])
    w = np.array([[0.2, 0.5, 0.3], [0.1, 0.8, 0.1]])
    write_nexus(str(tmp_path / "s.h5"), setup, frames, phi_start_deg=[0, 0], osc_deg=[0, 0], saturation=1e9,
                wavelengths_A=lam, weights=w)
    write_nexus(str(tmp_path / "l.h5"), setup, frames, phi_start_deg=[0, 0], osc_deg=[0, 0], saturation=1e9,
                wavelengths_A=lam[:, 1])
    with h5py.File(tmp_path / "s.h5", "r") as f:
        np.testing.assert_array_equal(f["entry/instrument/beam/incident_wavelength"][()], lam)
        np.testing.assert_array_equal(f["entry/instrument/beam/incident_wavelength_weights"][()], w)
    with h5py.File(tmp_path / "l.h5", "r") as f:
        np.testing.assert_array_equal(f["entry/instrument/beam/incident_wavelength"][()], lam[:, 1])
        assert "incident_wavelength_weights" not in f["entry/instrument/beam"]
    with pytest.raises(ValueError, match="weights"):
        write_nexus(str(tmp_path / "bad.h5"), setup, frames, phi_start_deg=[0, 0], osc_deg=[0, 0], saturation=1e9,
                    wavelengths_A=lam, weights=w[:, :2])
    assert not (tmp_path / "bad.h5").exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_dataset_of_several_panels_and_its_cbf_refusal(tmp_path):
    from nanobragg_ext import api
    from nanobragg_ext.config import SimulationConfig
    from nanobragg_ext.dataset import Dataset, StillSeries, main as dataset_main
    from nanobragg_ext.dataset.nexus import read_frame
    from nanobragg_ext.formats.nxmx import to_layout

    det = two_panel_detector()
    geom = tmp_path / "in.geom"
    geom.write_text(geom_text(det))
    out = tmp_path / "st.h5"
    assert dataset_main(BASE + ["-geom", str(geom), "--stills", "2", "--seed", "4", "--out", str(out),
                                "--workers", "0", "--no-progress"]) == 0
    cfg = SimulationConfig.from_cli_args(BASE)
    ds = Dataset(cfg, StillSeries(count=2, seed=4), detector=read_geom(str(geom), (1.0, 0.0, 0.0))[0])
    sim = api.Simulator(ds.config, dtype=np.float32)
    with h5py.File(out, "r") as f:
        check_nxmx_detector(f, ds.setup, 2)
        check_nxmx_angles(f, ds.setup, [cfg.crystal.phi_start_deg] * 2, [0.0, 0.0])
    for i in range(2):
        spec = ds.frame(i)
        ref = sim.run_detector(ds.detector, orientation=spec.orientation, mosaic_seed=spec.mosaic_seed,
                               n_cells=spec.n_cells)
        np.testing.assert_array_equal(read_frame(str(out), i), to_layout(ds.detector, ref))
    # A miniCBF header describes one simple panel: refused before any file.
    assert dataset_main(BASE + ["-geom", str(geom), "--stills", "2", "--seed", "4", "--out", str(tmp_path / "c.h5"),
                                "--workers", "0", "--cbf", str(tmp_path / "cbf"), "--no-progress"]) == 2
    assert not (tmp_path / "c.h5").exists() and not (tmp_path / "cbf").exists()


def test_cbf_header_carries_the_geometry(tmp_path):
    from nanobragg_ext.dataset import main as dataset_main

    out = tmp_path / "sw.h5"
    assert dataset_main(BASE + ["--sweep", "7", "0.25", "2", "--out", str(out), "--workers", "0",
                                "--cbf", str(tmp_path / "cbf"), "--no-progress"]) == 0
    setup = Setup.of_run(prepared_of(BASE))
    p = setup.detector.panels[0]
    bf, bs = setup.beam_spot(0)
    for i, path in enumerate(sorted((tmp_path / "cbf").glob("*.cbf"))):
        img = fabio.open(str(path))
        assert img.header["_array_data.header_convention"].strip('"') == "GENERIC_MINI"
        values = {}
        for line in img.header["_array_data.header_contents"].splitlines():
            key, _, rest = line.lstrip("# ").partition(" ")
            values[key] = rest
        assert float(values["Wavelength"].split()[0]) == pytest.approx(setup.wavelength_A, rel=1e-9)
        assert float(values["Detector_distance"].split()[0]) == pytest.approx(setup.beam_distance(0), rel=1e-12)
        assert float(values["Pixel_size"].split()[0]) == pytest.approx(p.pixel_size, rel=1e-9)
        x, y = (float(t) for t in values["Beam_xy"].strip().split(")")[0].strip("(").split(","))
        assert (x, y) == pytest.approx((bf / p.pixel_size, bs / p.pixel_size), abs=1e-6)
        assert float(values["Start_angle"].split()[0]) == pytest.approx(7 + 0.25 * i)
        assert float(values["Angle_increment"].split()[0]) == pytest.approx(0.25)
        assert float(values["Exposure_time"].split()[0]) == pytest.approx(setup.exposure_s)
        assert float(values["Silicon"].split()[2]) == pytest.approx(p.thickness)


def test_dials_smv_header_changes_only_the_beam_centre_and_adds_the_adc(tmp_path, monkeypatch):
    (tmp_path / "c").mkdir()
    (tmp_path / "d").mkdir()
    run_cli(tmp_path / "c", monkeypatch, BASE + ["-adc", "25"])
    run_cli(tmp_path / "d", monkeypatch, BASE + ["-adc", "25", "-smv_header", "dials"])
    prepared = prepared_of(BASE)
    g = prepared.geometry
    for name in ("intimage.img", "noiseimage.img"):
        c, d = read_smv(str(tmp_path / "c" / name)), read_smv(str(tmp_path / "d" / name))
        assert c.data.tobytes() == d.data.tobytes()
        cl = [x for x in c.header.split("\n") if "=" in x]
        dl = [x for x in d.header.split("\n") if "=" in x]
        changed = {x.split("=")[0] for x in set(dl) ^ set(cl)}
        assert changed == {"BEAM_CENTER_X", "BEAM_CENTER_Y", "ADC_OFFSET"}
        assert d.value("ADC_OFFSET") == 25
        # dxtbx's FormatSMVJHSim: (fast, slow) mm = (X + pixel, SIZE2 * pixel - Y + pixel).
        px = d.value("PIXEL_SIZE")
        fast = d.value("BEAM_CENTER_X") + px
        slow = d.value("SIZE2") * px - d.value("BEAM_CENTER_Y") + px
        assert (fast, slow) == pytest.approx((g["Fbeam"] * 1e3, g["Sbeam"] * 1e3), abs=1e-4)


@pytest.mark.parametrize("extra, message", [
    (["-nexus", "missing/x.h5"], "option -nexus: cannot write 'missing/x.h5': folder 'missing' does not exist"),
    (["-crystfel", "missing/x.h5"], "option -crystfel: cannot write"),
    (["-smv_header", "adsc"], "option -smv_header: expected 'nanobragg' or 'dials', got 'adsc'"),
    (["-smv_header", "dials", "-twotheta", "10"], "option -smv_header dials: dxtbx reads an SMV image as one simple"),
    (["-smv_header", "dials", "-adxv"], "tilted or mirrored"),
])
def test_refused_file_requests_write_nothing(tmp_path, monkeypatch, capsys, extra, message):
    run_cli(tmp_path, monkeypatch, BASE + extra, rc=2)
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_multi_panel_run_with_a_bad_nexus_path_writes_nothing(tmp_path, monkeypatch, capsys):
    geom = tmp_path / "in.geom"
    geom.write_text(geom_text(two_panel_detector()))
    run_cli(tmp_path, monkeypatch, BASE + ["-geom", str(geom), "-nexus", "missing/p.h5"], rc=2)
    assert "option -nexus: cannot write" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["in.geom"]


def test_a_failed_image_write_leaves_no_nexus_file(tmp_path, monkeypatch):
    """The NXmx file is staged with the images: when writing them fails, neither is left."""
    from nanobragg_ext import pipeline

    monkeypatch.chdir(tmp_path)
    os.mkdir(tmp_path / "taken")
    req = parse_args(BASE + ["-nexus", "n.h5", "-intfile", "taken"])  # a folder: the native write fails
    sim = pipeline.load_request(req)
    image, _ = sim.render_image32("double", 1, False, _core.RenderControls())
    with pytest.raises(Exception):
        pipeline.write_outputs(image, sim, req)
    assert sorted(os.listdir(tmp_path)) == ["taken"]
