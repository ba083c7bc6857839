"""The wavelength the files and the console give with a spectrum: its weighted mean wavelength,
sum(w lambda) / sum(w), in place of -lambda (docs/spectra.md); without one, -lambda as the C."""
import re

import numpy as np
import pytest

from nanobragg_ext import api, spectra
from nanobragg_ext.cli import main
from nanobragg_ext.config import SimulationConfig

BASE = ("-cell 50 60 70 90 90 90 -default_F 100 -N 4 -detpixels 24 -pixel 0.3 -distance 60 -lambda 1.0 "
        "-misset 10 20 30 -oversample 1").split()
QUIET = ["-noprogress", "-nopgm"]
# Lines at 1.0 and 1.05 A, the second at half weight: mean (1.0 + 0.5 * 1.05) / 1.5 = 1.016667 A.
TWO = ["-two_colour", "12398.42", repr(12398.42 / 1.05), "0.5"]
MEAN_A = (1.0 + 0.5 * 1.05) / 1.5


def header_wavelength(path):
    text = path.read_bytes()[:512].decode("latin-1")
    return float(re.search(r"WAVELENGTH=([^;]*);", text).group(1))


def test_smv_headers_give_the_spectrums_weighted_mean(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(BASE + TWO + QUIET) == 0
    for name in ("intimage.img", "noiseimage.img"):
        assert header_wavelength(tmp_path / name) == float("%g" % MEAN_A) == 1.01667
    out = capsys.readouterr().out
    assert "wave=%g meters: the weighted mean of a spectrum of 2 wavelengths (-lambda 1e-10 meters)" % (
        MEAN_A * 1e-10) in out


@pytest.mark.parametrize("extra", [[], ["-dispersion", "10", "-dispsteps", "4"], ["-lambda", "1.3"]])
def test_without_a_spectrum_the_header_is_lambda_as_the_c(tmp_path, monkeypatch, capsys, extra):
    # -dispersion's grid is symmetric in wavelength around -lambda; the C's header gives -lambda.
    monkeypatch.chdir(tmp_path)
    assert main(BASE + extra + QUIET) == 0
    lam = 1.3 if "1.3" in extra else 1.0
    assert header_wavelength(tmp_path / "intimage.img") == lam
    assert "  wave=%g meters +/- " % (lam * 1e-10) in capsys.readouterr().out


def test_a_spectrum_file_and_sase_give_their_means(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "s.txt"
    spec.write_text("wavelength_A weight\n0.9 1\n0.95 2\n1.2 1\n")
    sim = api.Simulator(SimulationConfig.from_cli_args(BASE + ["-spectrum", str(spec)]))
    assert sim.prepared.record["spectrum_mean_lambda"] == pytest.approx((0.9 + 1.9 + 1.2) / 4 * 1e-10, rel=1e-15)
    cfg = SimulationConfig.from_cli_args(BASE + ["-sase_bandwidth", "1", "-sase_seed", "8"])
    shot = spectra.from_request(cfg.to_request())
    api.write_smv(str(tmp_path / "sase.img"), api.Simulator(cfg).run(), api.Simulator(cfg))
    assert header_wavelength(tmp_path / "sase.img") == float("%g" % shot.mean_wavelength_A)
    assert shot.mean_wavelength_A != pytest.approx(1.0, abs=1e-6)


def test_the_header_follows_a_spectrum_given_to_run_and_returns(tmp_path):
    sim = api.Simulator(SimulationConfig.from_cli_args(BASE))
    image = sim.run(spectrum=spectra.two_colour(12398.42, 12398.42 / 1.05, 0.5))
    api.write_smv(str(tmp_path / "two.img"), image, sim)
    assert header_wavelength(tmp_path / "two.img") == 1.01667
    api.write_smv(str(tmp_path / "mono.img"), sim.run(), sim)
    assert header_wavelength(tmp_path / "mono.img") == 1.0


def test_nexus_of_a_run_with_a_spectrum_records_its_lines_and_weights(tmp_path, monkeypatch):
    h5py = pytest.importorskip("h5py", reason="h5py is not installed (pip install -e '.[test]')")
    monkeypatch.chdir(tmp_path)
    assert main(BASE + TWO + QUIET + ["-nonoise", "-nexus", "run.h5"]) == 0
    with h5py.File(tmp_path / "run.h5", "r") as f:
        lam = f["entry/instrument/beam/incident_wavelength"][()]
        w = f["entry/instrument/beam/incident_wavelength_weights"][()]
    np.testing.assert_allclose(lam, [[1.0, 1.05]], rtol=1e-12)
    np.testing.assert_allclose(w, [[2 / 3, 1 / 3]], rtol=1e-15)
    assert float(np.sum(w * lam)) == pytest.approx(MEAN_A, rel=1e-12)
    sim = api.Simulator(SimulationConfig.from_cli_args(BASE))
    api.write_nexus(str(tmp_path / "api.h5"), sim.run(spectrum=spectra.two_colour(12398.42, 12398.42 / 1.05, 0.5)), sim)
    with h5py.File(tmp_path / "api.h5", "r") as f:
        np.testing.assert_allclose(f["entry/instrument/beam/incident_wavelength_weights"][()], w, rtol=1e-15)
    assert main(BASE + QUIET + ["-nonoise", "-nexus", "mono.h5"]) == 0
    with h5py.File(tmp_path / "mono.h5", "r") as f:
        assert f["entry/instrument/beam/incident_wavelength"][()] == 1.0
        assert "incident_wavelength_weights" not in f["entry/instrument/beam"]


def test_dataset_cbf_frames_give_each_sase_shots_mean(tmp_path):
    for mod in ("fabio", "h5py"):
        pytest.importorskip(mod, reason=f"{mod} is not installed (pip install -e '.[test]')")
    from nanobragg_ext.dataset import Dataset, StillSeries
    from nanobragg_ext.dataset.cbf import write_cbf

    cfg = SimulationConfig.from_cli_args(BASE + ["-sase_bandwidth", "1", "-sase_seed", "20"])
    ds = Dataset(cfg, StillSeries(count=2, seed=1))
    means = []
    for i in range(2):
        path = tmp_path / f"frame_{i + 1:03d}.cbf"
        write_cbf(str(path), ds.render_frame(i), ds, i)
        got = float(re.search(rb"# Wavelength (\S+) A", path.read_bytes()).group(1))
        assert got == float("%.9g" % ds.frame_spectrum(i).mean_wavelength_A)
        means.append(got)
    assert means[0] != means[1]


def test_written_geometries_give_the_spectrums_mean(tmp_path, monkeypatch):
    import json

    from nanobragg_ext.detector.crystfel_geom import HC_EV_A, read_geom

    monkeypatch.chdir(tmp_path)
    assert main(BASE + TWO + QUIET + ["-nonoise", "-write_geom", "d.geom", "-write_expt", "d.expt"]) == 0
    assert read_geom("d.geom")[1]["photon_energy"] == pytest.approx(HC_EV_A / MEAN_A, rel=1e-9)
    assert json.loads((tmp_path / "d.expt").read_text())["beam"][0]["wavelength"] == pytest.approx(MEAN_A, rel=1e-12)
