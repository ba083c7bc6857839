"""-spectrum_bins: a spectrum file's lines grouped into N bins, each one source per divergence
direction at the bin's weighted mean wavelength with the bin's total weight (docs/spectra.md)."""
import math

import numpy as np
import pytest

from nanobragg_ext import api, pipeline, preflight, spectra
from nanobragg_ext.cli import main
from nanobragg_ext.config import BeamConfig, SimulationConfig
from nanobragg_ext.io import InputError
from nanobragg_ext.options import parse_args

BASE = ("-cell 50 60 70 90 90 90 -default_F 100 -N 4 -detpixels 40 -pixel 0.3 -distance 60 -lambda 1.0 "
        "-misset 10 20 30 -oversample 2").split()


def measured_spectrum(path, lines=2000, unit="energy_eV", seed=3):
    """A spectrometer-like trace: a noisy Gaussian over 9000-9100 eV (or the same in angstrom)."""
    rng = np.random.default_rng(seed)
    energies = np.linspace(9000.0, 9100.0, lines)
    weights = np.exp(-0.5 * ((energies - 9050.0) / 15.0) ** 2) * rng.uniform(0.5, 1.5, lines) + 1e-3
    column = energies if unit == "energy_eV" else spectra.HC_EV_A / energies
    path.write_text(f"# measured\n{unit} weight\n" + "".join(f"{float(x)!r} {float(w)!r}\n" for x, w in zip(column, weights)))
    return str(path), column, weights


def test_rebin_keeps_the_total_weight_and_the_weighted_mean_wavelength():
    rng = np.random.default_rng(1)
    energies = np.sort(rng.uniform(8000.0, 8200.0, 5000))
    lam = list(spectra.HC_EV_A / energies * 1e-10)
    weights = list(rng.exponential(1.0, 5000))
    got_lam, got_w = spectra.rebin(list(energies), lam, weights, 37)
    assert len(got_lam) == 37  # 5000 uniform draws leave no bin empty
    assert math.isclose(sum(got_w), sum(weights), rel_tol=1e-13)
    mean = sum(w * x for w, x in zip(weights, lam)) / sum(weights)
    assert math.isclose(sum(w * x for w, x in zip(got_w, got_lam)) / sum(got_w), mean, rel_tol=1e-13)
    # Each bin's wavelength lies inside its own energy range (the bins split the column evenly).
    width = (energies.max() - energies.min()) / 37
    edges = energies.min() + width * np.arange(38)
    bin_e = spectra.HC_EV_A / (np.array(got_lam) * 1e10)
    np.testing.assert_array_equal(np.searchsorted(edges, bin_e), np.arange(1, 38))  # bin k in [edge k, edge k+1)


def test_each_bin_carries_the_weight_of_its_own_lines():
    # Lines 0..9 in 5 bins of width 1.8: [0,1] [2,3] [4,5] [6,7] [8,9]; weights 1..10.
    values = [float(i) for i in range(10)]
    lam = [1e-10 * (1 + 0.01 * i) for i in range(10)]
    weights = [float(i + 1) for i in range(10)]
    got_lam, got_w = spectra.rebin(values, lam, weights, 5)
    assert got_w == [3.0, 7.0, 11.0, 15.0, 19.0]
    assert got_lam[0] == pytest.approx((1 * lam[0] + 2 * lam[1]) / 3, rel=1e-15)
    assert spectra.rebin(values, lam, weights, 10) == (lam, weights)  # as many bins as lines: unchanged
    assert spectra.rebin([5.0] * 3, lam[:3], weights[:3], 2)[1] == [6.0]  # one value: one bin


@pytest.mark.parametrize("unit", ["energy_eV", "wavelength_A"])
def test_a_file_is_rebinned_in_its_own_column(tmp_path, unit):
    path, column, weights = measured_spectrum(tmp_path / "s.txt", 600, unit)
    got = spectra.read_spectrum_file(path, bins=20)
    assert len(got) == 20
    full = spectra.read_spectrum_file(path, warn=lambda line: None)
    assert len(full) == 600
    assert math.isclose(got.mean_wavelength_A, full.mean_wavelength_A, rel_tol=1e-13)
    # Equal bins of the file's own column: the energies of an energy file, the wavelengths of a
    # wavelength file (the bins' centres are evenly spaced in that column).
    values = np.array(got.energies_eV if unit == "energy_eV" else got.wavelengths_A)
    lo, hi = column.min(), column.max()
    k = np.floor((values - lo) / ((hi - lo) / 20)).astype(int)
    assert sorted(k) == list(range(20))


def test_a_rebinned_spectrum_renders_close_to_every_line(tmp_path):
    # 100 bins of 1 eV over a 100 eV wide spectrum at 9 keV. A bin's mean keeps its first moment, so
    # the error is of the second order in the bin width: 4e-4 of the spectrum's own effect on the
    # image here (measured; 20 bins give 1e-2), against 1e-3 allowed.
    path, _, _ = measured_spectrum(tmp_path / "s.txt", 400)
    cfg = SimulationConfig.from_cli_args(BASE + ["-spectrum", path, "-spectrum_bins", "100"])
    assert cfg.beam.spectrum_bins == 100
    sim = api.Simulator(cfg)
    assert len(sim.prepared.source_wavelengths) == 100
    binned = sim.run().astype(np.float64)
    every = api.simulate(SimulationConfig.from_cli_args(BASE + ["-spectrum", path])).astype(np.float64)
    mono = api.simulate(SimulationConfig.from_cli_args(BASE + ["-energy", "9050"])).astype(np.float64)
    assert np.abs(binned - every).sum() < 1e-3 * np.abs(mono - every).sum()


def test_a_long_file_without_bins_gets_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path, _, _ = measured_spectrum(tmp_path / "long.txt", 2000)
    assert main(BASE + ["-spectrum", path, "-spectrum_bins", "50", "-noprogress", "-nonoise", "-nopgm"]) == 0
    assert "warning" not in capsys.readouterr().err
    notes = []
    spectra.read_spectrum_file(path, warn=notes.append)
    assert len(notes) == 1 and "2000 lines" in notes[0] and "-spectrum_bins 100" in notes[0]
    spectra.read_spectrum_file(path, bins=100, warn=notes.append)
    short, _, _ = measured_spectrum(tmp_path / "short.txt", spectra.MANY_LINES)
    spectra.read_spectrum_file(short, warn=notes.append)
    assert len(notes) == 1


@pytest.mark.parametrize("value, words", [
    ("0", "must be between 1 and 100000"), ("-3", "must be between 1 and 100000"),
    ("2.5", "not an integer"), ("many", "not a number"), ("1000000", "must be between 1 and 100000"),
])
def test_a_bad_bin_count_is_exit_2_naming_the_option(tmp_path, monkeypatch, capsys, value, words):
    monkeypatch.chdir(tmp_path)
    path, _, _ = measured_spectrum(tmp_path / "s.txt", 10)
    assert main(BASE + ["-spectrum", path, "-spectrum_bins", value, "-noprogress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "-spectrum_bins" in err[0] and words in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.txt"]


@pytest.mark.parametrize("extra", [[], ["-sase_bandwidth", "0.3"], ["-two_colour", "9000", "9100", "1"]])
def test_bins_without_a_spectrum_file_are_refused(tmp_path, monkeypatch, capsys, extra):
    monkeypatch.chdir(tmp_path)
    assert main(BASE + extra + ["-spectrum_bins", "10", "-noprogress"]) == 2
    err = capsys.readouterr().err
    assert "option -spectrum_bins" in err and "-spectrum file" in err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="-spectrum_bins"):
        api.Simulator(SimulationConfig.from_cli_args(BASE + extra + ["-spectrum_bins", "10"]))


def test_the_bin_count_is_a_typed_field_that_round_trips(tmp_path):
    path, _, _ = measured_spectrum(tmp_path / "s.txt", 10)
    cfg = SimulationConfig.from_cli_args(BASE + ["-spectrum", path, "-spectrum_bins", "4"])
    assert cfg.beam.spectrum_bins == 4 and "-spectrum_bins" in cfg.to_cli_args()
    assert SimulationConfig.from_cli_args(cfg.to_cli_args()) == cfg
    assert SimulationConfig.from_cli_args(BASE).beam.spectrum_bins is None
    for bad in (0, -1, 2.5, 10**6):
        with pytest.raises(ValueError, match="spectrum_bins"):
            BeamConfig(spectrum_bins=bad)


def test_the_long_run_estimate_counts_the_spectrum_lines(tmp_path):
    # The note on a long run comes before the set-up: its source count is the lines (or bins) in
    # every direction of the divergence grid, as the set-up then builds them.
    path, _, _ = measured_spectrum(tmp_path / "s.txt", 2000)
    grid = ["-spectrum", path, "-divergence", "0.4", "-divsteps", "3", "-square_div"]
    for extra, lines in (([], 2000), (["-spectrum_bins", "50"], 50)):
        req = parse_args(BASE + grid + extra)
        plan = preflight.check(req)
        table, sources, spectrum = pipeline.read_inputs(req, [])
        assert preflight.planned_sources(plan, sources[2], len(spectrum)) == 9 * lines
        assert len(pipeline.build_simulator(req, table, sources, spectrum).prepared.source_wavelengths) == 9 * lines
