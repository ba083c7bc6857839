"""Datasets with spectra and stages: each frame's own SASE spectrum (seed + index) rendered and
written to NXmx as incident_wavelength with incident_wavelength_weights, and the background and
detector stages of ``compose`` applied per frame with the frame's own noise seed, so frame i is
the same with 0, 1 or 2 workers and any chunking."""
import numpy as np
import pytest

for _mod in ("dask", "distributed", "h5py", "hdf5plugin"):
    pytest.importorskip(_mod, reason=f"{_mod} is not installed (pip install -e '.[test]')")

import h5py  # noqa: E402
import hdf5plugin  # noqa: E402,F401  (registers the bitshuffle filter for reading)

from nanobragg_ext import api, spectra  # noqa: E402
from nanobragg_ext.background import Background, Material  # noqa: E402
from nanobragg_ext.config import SimulationConfig  # noqa: E402
from nanobragg_ext.dataset import Dataset, RotationSweep, StillSeries, main  # noqa: E402
from nanobragg_ext.noisify import DetectorResponse  # noqa: E402

GEOMETRY = "-detpixels 32 -pixel 0.4 -distance 90 -lambda 1.2".split()
FLAGS = "-cell 60 60 60 90 90 90 -default_F 10 -N 3 -mosaic 0.5 -mosaic_domains 3 -misset 10 20 30".split() + GEOMETRY
SASE = "-sase_bandwidth 0.5 -sase_samples 64 -sase_seed 40".split()


def stages():
    background = Background(GEOMETRY + ["-flux", "1e12"], [Material("water", thickness_mm=0.05)])
    detector = DetectorResponse(readout=2.0, flicker=0.02, psf="gauss", psf_fwhm_um=60, pixel_mm=0.4)
    return background, detector


def read(path, key):
    with h5py.File(path, "r") as f:
        return f[key][()]


def test_each_frame_has_its_own_sase_spectrum_rendered_and_written(tmp_path):
    cfg = SimulationConfig.from_cli_args(FLAGS + SASE)
    ds = Dataset(cfg, RotationSweep(start_deg=0.0, width_deg=0.5, frames=3, seed=1))
    path = str(tmp_path / "sase.h5")
    ds.write(path, workers=0)
    data = read(path, "entry/instrument/detector/data")
    wl = read(path, "entry/instrument/beam/incident_wavelength")
    w = read(path, "entry/instrument/beam/incident_wavelength_weights")
    assert wl.shape == w.shape == (3, 64)
    for i in range(3):
        own = spectra.from_request(cfg.to_request(), 40 + i)
        assert ds.frame(i).sase_seed == 40 + i
        np.testing.assert_array_equal(wl[i], own.wavelengths_A)
        np.testing.assert_array_equal(w[i], own.weights)
        # The same frame from a run whose -sase_seed is the frame's.
        alone = api.Simulator(cfg.replace(beam={"sase_seed": 40 + i}), dtype=np.float32)
        np.testing.assert_array_equal(data[i], alone.run(phi_start_deg=0.5 * i, osc_deg=0.5))
    assert not np.array_equal(w[0], w[1])
    with h5py.File(path, "r") as f:
        assert f["entry/instrument/beam/incident_wavelength"].attrs["units"] == "angstrom"


def test_a_fixed_spectrum_is_written_for_every_frame(tmp_path):
    cfg = SimulationConfig.from_cli_args(FLAGS + ["-two_colour", "10000", "10100", "0.5"])
    ds = Dataset(cfg, StillSeries(count=2, seed=3))
    path = str(tmp_path / "two.h5")
    ds.write(path, workers=0)
    w = read(path, "entry/instrument/beam/incident_wavelength_weights")
    np.testing.assert_allclose(w, [[2 / 3, 1 / 3]] * 2, rtol=1e-15)
    assert ds.frame(0).sase_seed is None


def test_without_a_spectrum_the_file_keeps_one_wavelength(tmp_path):
    ds = Dataset(SimulationConfig.from_cli_args(FLAGS), StillSeries(count=1, seed=3))
    path = str(tmp_path / "mono.h5")
    ds.write(path, workers=0)
    assert read(path, "entry/instrument/beam/incident_wavelength") == pytest.approx(1.2)
    with h5py.File(path, "r") as f:
        assert "incident_wavelength_weights" not in f["entry/instrument/beam"]


def by_hand(cfg, ds, index, background, detector):
    """Frame index as the stages make it: Bragg photons + background, then noisify with the frame's seed."""
    spec = ds.frame(index)
    sim = api.Simulator(cfg, dtype=np.float32)
    photons = sim.run(phi_start_deg=spec.phi_start_deg, osc_deg=spec.osc_deg, orientation=spec.orientation,
                      mosaic_seed=spec.mosaic_seed, n_cells=spec.n_cells, size_mm=spec.size_mm)
    background.add_to(photons)
    return detector.apply(photons, seed=spec.noise_seed)


def test_stages_give_the_same_frames_with_0_1_or_2_workers_and_any_chunking(tmp_path, client):
    cfg = SimulationConfig.from_cli_args(FLAGS)
    background, detector = stages()
    series = StillSeries(count=6, seed=11)
    files = []
    for name, kwargs in (("serial", {"workers": 0}), ("one", {"workers": 1}),
                         ("two", {"client": client, "max_in_flight": 1}), ("two_wide", {"client": client})):
        path = str(tmp_path / f"{name}.h5")
        Dataset(cfg, series, background=background, response=detector).write(path, **kwargs)
        files.append(read(path, "entry/instrument/detector/data"))
    for other in files[1:]:
        np.testing.assert_array_equal(files[0], other)
    assert files[0].dtype == np.uint16 and files[0].shape == (6, 32, 32)
    ds = Dataset(cfg, series, background=background, response=detector)
    for i in (0, 5):
        np.testing.assert_array_equal(files[0][i], by_hand(cfg, ds, i, background, detector))
    assert not np.array_equal(files[0][0], files[0][1])


def test_the_background_is_added_to_the_photons(tmp_path):
    cfg = SimulationConfig.from_cli_args(FLAGS)
    background, _ = stages()
    ds = Dataset(cfg, StillSeries(count=1, seed=2), background=background)
    plain = Dataset(cfg, StillSeries(count=1, seed=2)).render_frame(0)
    with_bg = ds.render_frame(0)
    np.testing.assert_array_equal(with_bg, background.add_to(plain.copy()))
    assert with_bg.dtype == np.float32 and (with_bg - plain).min() > 0


def test_bad_stage_combinations_are_refused():
    cfg = SimulationConfig.from_cli_args(FLAGS)
    background, detector = stages()
    with pytest.raises(ValueError, match="counts and response"):
        Dataset(cfg, StillSeries(count=1, seed=1), counts="uint16", response=detector)
    with pytest.raises(ValueError, match="binning"):
        Dataset(cfg, StillSeries(count=1, seed=1), response=DetectorResponse(binning=2))
    small = Background("-detpixels 16 -pixel 0.4 -distance 90".split(), [Material("water")])
    with pytest.raises(ValueError, match="background of 16x16 pixels"):
        Dataset(cfg, StillSeries(count=1, seed=1), background=small)


def test_the_dataset_command_takes_background_and_noisify_groups(tmp_path, capsys):
    path = str(tmp_path / "cli.h5")
    argv = FLAGS + ["--stills", "2", "--seed", "5", "--out", path, "--workers", "0", "--no-progress",
                    "-background", *GEOMETRY, "-flux", "1e12", "-stol", "water", "-thick", "0.05",
                    "-noisify", "-readout", "2", "-flicker", "0.02"]
    assert main(argv) == 0, capsys.readouterr().err
    data = read(path, "entry/instrument/detector/data")
    cfg = SimulationConfig.from_cli_args(FLAGS)
    background = Background.from_groups([GEOMETRY + ["-flux", "1e12", "-stol", "water", "-thick", "0.05"]])
    detector = DetectorResponse(readout=2.0, flicker=0.02)
    ds = Dataset(cfg, StillSeries(count=2, seed=5), background=background, response=detector)
    assert data.dtype == np.uint16
    np.testing.assert_array_equal(data[1], by_hand(cfg, ds, 1, background, detector))
