"""dxtbx as the judge: every file kind we write, opened by dxtbx (the reader DIALS uses) and
compared with the simulation that wrote it.

dxtbx runs in its own environment: set ``NANOBRAGG_DXTBX_PYTHON`` to its python
(``../shared/tools/build-dxtbx.sh`` builds one); each test writes its files here, runs
``dxtbx_probe.py`` there and reads back JSON and the raw pixels. The expected values come from the
geometry in use (``formats.setup.Setup`` of the run, the Detector of the .geom), never typed in:
direct-beam position on each panel within 0.01 pixel, distance within 1e-4 mm, panel axes and
origins, wavelength, pixel size and count, panel sizes, scans (start, width) or stills, pixels.
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

DXTBX_PYTHON = os.environ.get("NANOBRAGG_DXTBX_PYTHON")
pytestmark = pytest.mark.skipif(
    not DXTBX_PYTHON, reason="dxtbx is not available: set NANOBRAGG_DXTBX_PYTHON to the python of an environment "
                             "with dxtbx (../shared/tools/build-dxtbx.sh builds one)")
for _mod in ("h5py", "fabio"):
    pytest.importorskip(_mod, reason=f"{_mod} is not installed (pip install -e '.[test]')")

from nanobragg_ext import _core  # noqa: E402
from nanobragg_ext.cli import main  # noqa: E402
from nanobragg_ext.detector.crystfel_geom import geom_text, read_geom  # noqa: E402
from nanobragg_ext.detector.panels import Detector  # noqa: E402
from nanobragg_ext.formats.nxmx import panel_rows  # noqa: E402
from nanobragg_ext.formats.setup import Setup  # noqa: E402
from nanobragg_ext.options import parse_args  # noqa: E402

PROBE = Path(__file__).with_name("dxtbx_probe.py")
BASE = ("-cell 70 80 90 90 90 90 -default_F 100 -N 4 -lambda 1.3 -distance 120 -pixel 0.172 -detpixels 48 "
        "-Xbeam 4.3 -Ybeam 5.1 -seed 1 -noprogress").split()
MCSTAS_TO_IMGCIF = np.diag([-1.0, 1.0, -1.0])  # dxtbx's frame from NeXus's (dxtbx.nexus)
PIXEL_TOL = 0.01   # direct-beam position, pixels
MM_TOL = 1e-4      # distances, mm


def dxtbx_open(out: Path, *paths):
    """What dxtbx makes of each file: (JSON dict, {(image, panel): raw pixels})."""
    raw_dir = out / "dxtbx_raw"
    raw_dir.mkdir(exist_ok=True)
    run = subprocess.run([DXTBX_PYTHON, str(PROBE), str(raw_dir)] + [str(p) for p in paths],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    opened = []
    for n, r in enumerate(results):
        pixels = {}
        for f in raw_dir.glob(f"{n}_*_*.npy"):
            _, i, j = f.stem.split("_")
            pixels[(int(i), int(j))] = np.load(f)
        opened.append((r, pixels))
    return opened


def run_cli(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 0


def setup_of(args, detector=None):
    """The Setup of a command line (its placed detector, or detector placed for its beam)."""
    return Setup.of_run(_core.Simulator(parse_args(args).options).prepared, detector)


def to_dxtbx(setup):
    """Lab vector of the run -> dxtbx's lab frame, for files that carry the full geometry (NXmx)."""
    return MCSTAS_TO_IMGCIF @ setup.mcstas


def check_panels(info, setup, full_geometry):
    """dxtbx's panels against the simulated detector."""
    det = setup.detector
    assert len(info["panels"]) == len(det.panels)
    assert info["wavelength"] == pytest.approx(setup.wavelength_A, rel=1e-9)
    R = to_dxtbx(setup)
    for i, (p, got) in enumerate(zip(det.panels, info["panels"])):
        assert got["image_size"] == [p.fpixels, p.spixels]
        assert got["pixel_size"] == pytest.approx([p.pixel_size * 1e3] * 2, rel=1e-9)
        close_mm = abs(float(np.dot(p.origin, p.normal))) * 1e3
        assert abs(got["distance"] - close_mm) < MM_TOL
        bf, bs = setup.beam_spot(i)
        np.testing.assert_allclose(got["beam_centre_px"], [bf / p.pixel_size, bs / p.pixel_size], atol=PIXEL_TOL)
        if full_geometry:
            np.testing.assert_allclose(got["origin"], R @ np.asarray(p.origin) * 1e3, atol=MM_TOL)
            np.testing.assert_allclose(got["fast"], R @ np.asarray(p.fast), atol=1e-9)
            np.testing.assert_allclose(got["slow"], R @ np.asarray(p.slow), atol=1e-9)
    if full_geometry:
        spindle = np.asarray(setup.spindle) / np.linalg.norm(setup.spindle)
        np.testing.assert_allclose(info["rotation_axis"], R @ spindle, atol=1e-9)
        np.testing.assert_allclose(np.asarray(info["s0"]) * setup.wavelength_A, R @ np.asarray(det.beam), atol=1e-9)
    else:  # dxtbx's simple detector: fast along its rotation axis, as the header says
        assert np.dot(info["rotation_axis"], info["panels"][0]["fast"]) == pytest.approx(1.0)


def check_sweep(info, start_deg, width_deg, frames, first=1):
    """A scan of frames images from image number first (a one-image file's number is in its name)."""
    assert info["scan"] is not None and not info["scan"]["is_still"]
    assert info["scan"]["image_range"] == [first, first + frames - 1]
    assert info["scan"]["oscillation"] == pytest.approx([start_deg, width_deg], abs=1e-9)
    assert info["experiments"] == 1 and info["images"] == frames


def check_stills(info, frames):
    assert info["images"] == frames and info["experiments"] == frames  # one experiment per still
    assert info["scan"] is None or info["scan"]["is_still"]


def panel_pixels(detector, layout):
    """The per-panel images of one frame in the file layout (panels stacked along slow)."""
    return [layout[r0:r0 + p.spixels, :p.fpixels] for p, r0 in zip(detector.panels, panel_rows(detector))]


def two_panel_geom(tmp_path, beam=(1.0, 0.0, 0.0)):
    """A .geom of two panels of different sizes, the second tilted by 20 degrees about its slow axis
    (MOSFLM lab frame: beam +x, the panels about 100 mm downstream)."""
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    det = Detector.from_configs([
        dict(name="flat", fast=(0, 0, 1), slow=(0, -1, 0), origin=(0.1, 0.004, -0.003), fpixels=40, spixels=32,
             pixel_size=172e-6),
        dict(name="tilted", fast=(-s, 0, c), slow=(0, -1, 0), origin=(0.098, -0.002, 0.005), fpixels=24,
             spixels=36, pixel_size=172e-6),
    ], beam)
    path = tmp_path / "two.geom"
    path.write_text(geom_text(det))
    return path


def test_nxmx_sweep_of_one_panel(tmp_path, monkeypatch):
    args = BASE + ["-phi", "10", "-osc", "0.5", "-nexus", "sweep.h5"]
    run_cli(tmp_path, monkeypatch, args)
    ((info, pixels),) = dxtbx_open(tmp_path, tmp_path / "sweep.h5")
    assert info["format"] == "FormatNXmx"
    setup = setup_of(args)
    check_panels(info, setup, full_geometry=True)
    check_sweep(info, 10.0, 0.5, 1)
    image = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4").reshape(48, 48)
    np.testing.assert_array_equal(pixels[(0, 0)], image)
    assert image.sum() > 0


@pytest.mark.parametrize("geometry", [["-detector_rotx", "4", "-twotheta", "7"], ["-xds", "-ORGX", "20", "-ORGY", "30"]],
                         ids=["tilted", "xds"])
def test_nxmx_still_of_one_panel_keeps_its_geometry(tmp_path, monkeypatch, geometry):
    args = BASE + geometry + ["-nexus", "still.h5"]
    run_cli(tmp_path, monkeypatch, args)
    ((info, pixels),) = dxtbx_open(tmp_path, tmp_path / "still.h5")
    setup = setup_of(args)
    check_panels(info, setup, full_geometry=True)
    check_stills(info, 1)
    image = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4").reshape(48, 48)
    np.testing.assert_array_equal(pixels[(0, 0)], image)


def test_nxmx_of_several_panels_from_a_geom(tmp_path, monkeypatch):
    geom = two_panel_geom(tmp_path)
    args = BASE + ["-geom", str(geom), "-osc", "0.2", "-nexus", "panels.h5"]
    run_cli(tmp_path, monkeypatch, args)
    ((info, pixels),) = dxtbx_open(tmp_path, tmp_path / "panels.h5")
    rest = [a for a in args if a not in ("-geom", str(geom))]
    prepared = _core.Simulator(parse_args(rest).options).prepared
    det = read_geom(str(geom), prepared.geometry["beam"])[0]
    setup = Setup.of_run(prepared, det)
    check_panels(info, setup, full_geometry=True)
    check_sweep(info, 0.0, 0.2, 1)
    stack = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4").reshape(2, 36, 40)
    for j, p in enumerate(det.panels):
        np.testing.assert_array_equal(pixels[(0, j)], stack[j, :p.spixels, :p.fpixels])
        assert pixels[(0, j)].sum() > 0


def test_dataset_sweep_nxmx_and_cbf_frames(tmp_path):
    from nanobragg_ext.dataset import main as dataset_main
    from nanobragg_ext.dataset.nexus import read_frame

    out = tmp_path / "sweep.h5"
    cbf = tmp_path / "cbf"
    assert dataset_main(BASE + ["--sweep", "5", "0.25", "3", "--out", str(out), "--workers", "0", "--noise",
                                "--seed", "2", "--cbf", str(cbf), "--no-progress"]) == 0
    frames = sorted(cbf.glob("*.cbf"))
    assert len(frames) == 3
    opened = dxtbx_open(tmp_path, out, *frames)
    setup = setup_of(BASE)
    info, pixels = opened[0]
    assert info["format"] == "FormatNXmx"
    check_panels(info, setup, full_geometry=True)
    check_sweep(info, 5.0, 0.25, 3)
    for i, (cinfo, cpixels) in enumerate(opened[1:]):
        assert cinfo["format"] == "FormatCBFMini"
        check_panels(cinfo, setup, full_geometry=False)
        check_sweep(cinfo, 5.0 + 0.25 * i, 0.25, 1, first=i + 1)  # sweep_0000{i+1}.cbf
        frame = read_frame(str(out), i)
        np.testing.assert_array_equal(pixels[(i, 0)], frame)
        np.testing.assert_array_equal(cpixels[(0, 0)], frame)
        assert cinfo["panels"][0]["trusted_range"][1] == info["panels"][0]["trusted_range"][1] == 65534


def test_dataset_stills_of_several_panels(tmp_path):
    from nanobragg_ext.dataset import main as dataset_main
    from nanobragg_ext.dataset.nexus import read_frame

    geom = two_panel_geom(tmp_path)
    out = tmp_path / "stills.h5"
    assert dataset_main(BASE + ["-geom", str(geom), "--stills", "3", "--seed", "4", "--out", str(out),
                                "--workers", "0", "--no-progress"]) == 0
    ((info, pixels),) = dxtbx_open(tmp_path, out)
    prepared = _core.Simulator(parse_args(BASE).options).prepared
    det = read_geom(str(geom), prepared.geometry["beam"])[0]
    check_panels(info, Setup.of_run(prepared, det), full_geometry=True)
    check_stills(info, 3)
    for i in range(3):
        for j, expected in enumerate(panel_pixels(det, read_frame(str(out), i))):
            np.testing.assert_array_equal(pixels[(i, j)], expected)


def test_smv_through_the_dials_header(tmp_path, monkeypatch):
    # dxtbx's SMV reader takes the image number from the file name: a name without one is refused.
    names = ("int_007.img", "noise_007.img")
    args = BASE + ["-phi", "3", "-osc", "0.1", "-adc", "25", "-smv_header", "dials", "-intfile", names[0],
                   "-noisefile", names[1]]
    run_cli(tmp_path, monkeypatch, args)
    opened = dxtbx_open(tmp_path, *(tmp_path / n for n in names))
    setup = setup_of(args)
    from nanobragg_ext.io import read_smv

    for (info, pixels), name in zip(opened, names):
        assert info["format"] == "FormatSMVJHSim"
        check_panels(info, setup, full_geometry=False)
        check_sweep(info, 3.0, 0.1, 1, first=7)
        assert info["panels"][0]["pedestal"] == 25.0  # ADC_OFFSET, not dxtbx's default of 1
        np.testing.assert_array_equal(pixels[(0, 0)], read_smv(str(tmp_path / name)).data.astype(np.int32))


def test_smv_default_header_is_the_c_one_that_dxtbx_misreads(tmp_path, monkeypatch):
    """Why the dials header exists: the C's header (kept byte for byte by default) puts dxtbx's beam
    centre elsewhere for an off-centre beam."""
    run_cli(tmp_path, monkeypatch, BASE + ["-intfile", "int_001.img"])
    ((info, _),) = dxtbx_open(tmp_path, tmp_path / "int_001.img")
    setup = setup_of(BASE)
    p = setup.detector.panels[0]
    bf, bs = setup.beam_spot(0)
    off = np.subtract(info["panels"][0]["beam_centre_px"], [bf / p.pixel_size, bs / p.pixel_size])
    assert np.abs(off).max() > 1.0
    assert info["panels"][0]["pedestal"] == 1.0  # FormatSMVJHSim's default without ADC_OFFSET; the C added 40


def test_nxmx_per_frame_wavelengths_and_spectra(tmp_path):
    """What the dataset mode's per-frame spectra become in dxtbx's NXmx reader: a wavelength per
    image, or the weighted spectrum (dxtbx weights in energy: sum(w) / sum(w / lambda)). (dxtbx's
    experiment list of a still sequence then gives every experiment the first image's beam.)"""
    from nanobragg_ext import api
    from nanobragg_ext.config import SimulationConfig

    sim = api.Simulator(SimulationConfig.from_cli_args(BASE))
    frames = np.stack([sim.run(), sim.run()])
    lam = np.array([[1.28, 1.30, 1.33], [1.25, 1.30, 1.31]])
    w = np.array([[0.2, 0.5, 0.3], [0.1, 0.6, 0.3]])
    api.write_nexus(str(tmp_path / "spectra.h5"), frames, sim, wavelengths_A=lam, weights=w)
    api.write_nexus(str(tmp_path / "per_frame.h5"), frames, sim, wavelengths_A=lam[:, 0])
    (spectra, _), (per_frame, _) = dxtbx_open(tmp_path, tmp_path / "spectra.h5", tmp_path / "per_frame.h5")
    np.testing.assert_allclose(spectra["image_wavelengths"], w.sum(1) / (w / lam).sum(1), rtol=1e-12)
    np.testing.assert_allclose(per_frame["image_wavelengths"], lam[:, 0], rtol=1e-12)
    check_stills(spectra, 2)
