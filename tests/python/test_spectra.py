"""Spectra (beyond the C): source weights, spectrum files, the SASE-like generator and two colours.

Equal weights give today's image bit for bit, weights off are the C (the golden parity tests check
that path); a two-line spectrum is the weighted sum of the two single-wavelength images; the SASE
generator is deterministic per seed and has the requested statistics."""
import math

import numpy as np
import pytest

from nanobragg_ext import api, spectra
from nanobragg_ext.cli import main
from nanobragg_ext.config import BeamConfig, SimulationConfig
from nanobragg_ext.io import InputError
from nanobragg_ext.options import OptionError, parse_args

# Small, with spots off the axes; the oversampling is fixed so it does not follow the wavelength.
BASE = ("-cell 50 60 70 90 90 90 -default_F 100 -N 4 -detpixels 40 -pixel 0.3 -distance 60 -lambda 1.0 "
        "-misset 10 20 30 -oversample 2").split()


def image(args, tmp_path=None):
    return api.simulate(SimulationConfig.from_cli_args(BASE + args))


def sourcefile(tmp_path, rows, name="sources.txt"):
    path = tmp_path / name
    path.write_text("".join(" ".join(repr(float(x)) for x in r) + "\n" for r in rows))
    return str(path)


def test_equal_weights_reproduce_the_unweighted_image_bit_for_bit(tmp_path):
    # Three directions, two wavelengths, every weight 0.37: weight / mean weight is exactly 1.
    rows = [(-10, 0, 0, 0.37, 1.0e-10), (-10, 0.001, 0, 0.37, 1.02e-10), (-10, 0, 0.001, 0.37, 0.98e-10)]
    src = sourcefile(tmp_path, rows)
    plain = image(["-sourcefile", src])
    weighted = image(["-sourcefile", src, "-use_source_weights"])
    assert np.array_equal(plain, weighted)
    # The generated divergence/dispersion sources have equal weights too.
    grid = ["-dispersion", "2", "-dispsteps", "3", "-divergence", "0.5", "-divsteps", "3"]
    assert np.array_equal(image(grid), image(grid + ["-use_source_weights"]))


def test_weights_off_ignore_the_file_weights_as_the_c(tmp_path):
    a = sourcefile(tmp_path, [(-10, 0, 0, 1.0, 1.0e-10), (-10, 0, 0, 5.0, 1.1e-10)], "a.txt")
    b = sourcefile(tmp_path, [(-10, 0, 0, 3.0, 1.0e-10), (-10, 0, 0, 0.2, 1.1e-10)], "b.txt")
    assert np.array_equal(image(["-sourcefile", a]), image(["-sourcefile", b]))
    assert not np.array_equal(image(["-sourcefile", a, "-use_source_weights"]),
                              image(["-sourcefile", b, "-use_source_weights"]))


def weighted_sum(l1_A, l2_A, w1, w2):
    one = image(["-lambda", repr(l1_A)]).astype(np.float64)
    two = image(["-lambda", repr(l2_A)]).astype(np.float64)
    return (w1 * one + w2 * two) / (w1 + w2)


def test_a_two_line_spectrum_is_the_weighted_sum_of_the_single_wavelength_images(tmp_path):
    # The weights normalise to a mean of 1 and the image divides by the source count, so a two-line
    # image is (w1 I1 + w2 I2) / (w1 + w2). Polarization is that of the first source, whose direction
    # both lines share; only the order of the double sums differs (1e-12 relative).
    spec = tmp_path / "two.txt"
    spec.write_text("# two lines\nwavelength_A weight\n1.0 3\n1.05 1\n")
    got = image(["-spectrum", str(spec)])
    want = weighted_sum(1.0, 1.05, 3.0, 1.0)
    assert want.max() > 0 and not np.allclose(image(["-lambda", "1.0"]), want)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * want.max())


def test_two_colour_mode_is_the_same_two_lines_in_energy():
    e1, e2 = 12398.42 / 1.0, 12398.42 / 1.05
    got = image(["-two_colour", repr(e1), repr(e2), "0.5"])
    want = weighted_sum(12398.42 / e1, 12398.42 / e2, 1.0, 0.5)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * want.max())


def test_the_same_weights_through_a_sourcefile_and_a_spectrum_agree(tmp_path):
    src = sourcefile(tmp_path, [(-10, 0, 0, 2.0, 1.0e-10), (-10, 0, 0, 1.0, 1.03e-10)])
    spec = tmp_path / "s.txt"
    spec.write_text("wavelength_A weight\n1.0 2\n1.03 1\n")
    np.testing.assert_allclose(image(["-sourcefile", src, "-use_source_weights"]), image(["-spectrum", str(spec)]),
                               rtol=1e-12, atol=0)


def test_a_spectrum_gives_one_source_per_line_for_every_divergence_direction(tmp_path):
    spec = tmp_path / "s.txt"
    spec.write_text("energy_eV weight\n12000 1\n12100 2\n12200 1\n")
    sim = api.Simulator(SimulationConfig.from_cli_args(BASE + ["-spectrum", str(spec), "-divergence", "0.4",
                                                                "-divsteps", "3", "-square_div"]))
    p = sim.prepared
    assert len(p.source_wavelengths) == 9 * 3
    np.testing.assert_allclose(sorted(set(p.source_wavelengths)),
                               [12398.42 / e / 1e10 for e in (12200, 12100, 12000)], rtol=1e-15)
    assert p.source_kernel_weights[:3] == pytest.approx([0.75, 1.5, 0.75])


@pytest.mark.parametrize("text, words", [
    ("", "no spectrum lines (and no header)"),
    ("energy_eV weight\n", "no spectrum lines"),
    ("1000 1\n", "line 1: expected the header"),
    ("energy_keV weight\n9 1\n", "line 1: expected the header"),
    ("energy_eV weight\n9000 1\n9100 x\n", "line 3: not a number in '9100 x'"),
    ("energy_eV weight\n9000 0\n", "line 2: the weight must be positive"),
    ("energy_eV weight\n9000 -1\n", "line 2: the weight must be positive"),
    ("energy_eV weight\n-9000 1\n", "line 2: the energy must be positive"),
    ("wavelength_A weight\n0 1\n", "line 2: the wavelength must be positive"),
    ("wavelength_A weight\n1.0 1 2\n", "line 2: expected 2 columns"),
])
def test_bad_spectrum_files_are_one_clear_error(tmp_path, text, words):
    spec = tmp_path / "bad.txt"
    spec.write_text(text)
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        spectra.read_spectrum_file(str(spec))


def test_a_bad_spectrum_on_the_command_line_is_exit_2_and_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "bad.txt"
    spec.write_text("energy_eV weight\n9000 0\n")
    assert main(BASE + ["-spectrum", str(spec), "-noprogress"]) == 2
    err = capsys.readouterr().err
    assert "line 2: the weight must be positive" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]


@pytest.mark.parametrize("extra, words", [
    (["-two_colour", "9000", "9100", "1", "-sase_bandwidth", "0.3"], "-sase_bandwidth and -two_colour"),
    (["-sase_bandwidth", "0.3", "-dispersion", "1"], "-sase_bandwidth and -dispersion"),
])
def test_two_sources_of_wavelengths_are_refused(extra, words):
    with pytest.raises(InputError, match=words):
        api.Simulator(SimulationConfig.from_cli_args(BASE + extra))


def test_two_colour_values_must_be_positive():
    with pytest.raises(OptionError, match="-two_colour"):
        parse_args(BASE + ["-two_colour", "9000", "0", "1"])
    with pytest.raises(ValueError, match="two_colour"):
        BeamConfig(two_colour=(9000, 9100, -1))


def test_negative_sourcefile_weights_are_refused_when_used(tmp_path):
    src = sourcefile(tmp_path, [(-10, 0, 0, -1.0, 1.0e-10), (-10, 0, 0, 1.0, 1.1e-10)])
    image(["-sourcefile", src])  # ignored, as the C
    with pytest.raises(ValueError, match="source weights"):
        image(["-sourcefile", src, "-use_source_weights"])


def test_sase_is_deterministic_per_seed_and_differs_between_seeds():
    a = spectra.sase(9000.0, 0.5, 0.05, 200, seed=7)
    assert a == spectra.sase(9000.0, 0.5, 0.05, 200, seed=7)
    b = spectra.sase(9000.0, 0.5, 0.05, 200, seed=8)
    assert a.wavelengths_m == b.wavelengths_m and a.weights != b.weights
    assert len(a) == 200 and math.isclose(sum(a.weights), 1.0, rel_tol=1e-12)


def test_sase_statistics_are_as_requested():
    center, bw, spike = 9000.0, 0.4, 0.04
    shots = [spectra.sase(center, bw, spike, 300, seed=s) for s in range(300)]
    energies = np.array(shots[0].energies_eV)
    mean_spectrum = np.mean([s.weights for s in shots], axis=0)
    mean_e = float(np.sum(mean_spectrum * energies) / mean_spectrum.sum())
    rms = float(np.sqrt(np.sum(mean_spectrum * (energies - mean_e) ** 2) / mean_spectrum.sum()))
    sigma = center * bw / 100 / spectra.FWHM_PER_SIGMA
    # 300 shots of ~10 spikes each: the mean spectrum's centre and width are within a few percent.
    assert abs(mean_e - center) < 0.05 * sigma
    assert rms == pytest.approx(sigma, rel=0.05)
    # Chaotic light: at each energy the shot-to-shot heights are exponential (contrast std/mean 1;
    # a little less here as each shot is normalised to a sum of 1), not the smooth envelope.
    heights = np.array([s.weights for s in shots])[:, 100:200] / mean_spectrum[100:200]
    assert 0.8 < heights.std() / heights.mean() < 1.05
    one = np.array(shots[0].weights)
    assert abs(shots[0].mean_energy_eV - center) < sigma
    # Spikes: the number of local maxima is of the order of bandwidth / spike width (10).
    peaks = np.sum((one[1:-1] > one[:-2]) & (one[1:-1] > one[2:]) & (one[1:-1] > 0.05 * one.max()))
    assert 4 <= peaks <= 25


def test_sase_refuses_spikes_narrower_than_the_sampling():
    with pytest.raises(InputError, match="-sase_samples"):
        spectra.sase(9000.0, 1.0, 0.001, 100, seed=1)


def test_sase_render_follows_the_seed():
    one = image(["-sase_bandwidth", "1", "-sase_samples", "80", "-sase_seed", "3"])
    assert np.array_equal(one, image(["-sase_bandwidth", "1", "-sase_samples", "80", "-sase_seed", "3"]))
    assert not np.array_equal(one, image(["-sase_bandwidth", "1", "-sase_samples", "80", "-sase_seed", "4"]))


def test_spectrum_options_round_trip_through_the_config(tmp_path):
    spec = tmp_path / "s.txt"
    spec.write_text("energy_eV weight\n9000 1\n")
    for extra in (["-spectrum", str(spec), "-use_source_weights"],
                  ["-sase_bandwidth", "0.3", "-sase_spike_width", "0.02", "-sase_samples", "150", "-sase_seed", "9"],
                  ["-two_colour", "9000", "9050.5", "0.25"]):
        cfg = SimulationConfig.from_cli_args(BASE + extra)
        assert SimulationConfig.from_cli_args(cfg.to_cli_args()) == cfg
        assert all(tok in cfg.to_cli_args() for tok in extra if tok.startswith("-"))
    cfg = SimulationConfig.from_cli_args(BASE + ["-two_colour", "9000", "9050.5", "0.25"])
    assert cfg.beam.two_colour == (9000.0, 9050.5, 0.25)
    assert cfg.beam.sase_bandwidth_percent is None and cfg.beam.use_source_weights is False


def test_run_takes_a_spectrum_and_returns_to_the_configs():
    cfg = SimulationConfig.from_cli_args(BASE)
    sim = api.Simulator(cfg)
    plain = sim.run().copy()
    two = spectra.two_colour(12398.42, 12398.42 / 1.05, 1.0 / 3.0)
    np.testing.assert_allclose(sim.run(spectrum=two), weighted_sum(1.0, 1.05, 3.0, 1.0), rtol=1e-6,
                               atol=1e-6 * plain.max())
    assert np.array_equal(sim.run(), plain)


def test_the_command_line_renders_a_spectrum_as_the_api(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    extra = ["-two_colour", "12398.42", "11808", "0.5"]
    assert main(BASE + extra + ["-noprogress", "-nonoise", "-nopgm"]) == 0
    out = capsys.readouterr().out
    assert "lambda0 = 1e-10" in out and "lambda1 = " in out  # the two lines, as -dispersion prints its steps
    floats = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4").reshape(40, 40)
    np.testing.assert_array_equal(floats, image(extra).astype(np.float32))
