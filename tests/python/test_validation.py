"""Refusing input that makes no physical sense (README, Bad input): each class on the command line
(one line naming the option and the reason, exit 2, nothing written), the same words from the
config objects and the dataset mode; the C's argument-position rules; the long-run note."""
import math
import subprocess
import sys

import numpy as np
import pytest

from nanobragg_ext import pipeline, preflight
from nanobragg_ext.config import BeamConfig, CrystalConfig, DetectorConfig, SimulationConfig
from nanobragg_ext.options import OptionError, parse_args

GOOD = ("-cell 60 60 60 90 90 90 -default_F 10 -N 3 -lambda 1 -distance 100 -detpixels 16 -pixel 0.1 "
        "-seed 1 -noprogress").split()
OUTPUTS = ("floatimage.bin", "intimage.img", "noiseimage.img", "image.pgm", "Fdump.bin")


def cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def assert_refused(result, cwd, *words):
    assert result.returncode == 2, result.stdout + result.stderr
    err = result.stderr.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    for w in words:
        assert w in err, f"'{w}' not in: {err}"
    left = [p.name for p in cwd.iterdir()]
    assert not left, f"a refused run left {left}"


REFUSED = [
    # number tokens the C reads as NaN, infinity or an overflow
    ("-distance nan", "'nan' is not a finite number"),
    ("-lambda inf", "'inf' is not a finite number"),
    ("-phi 1e400", "'1e400' is not a finite number"),
    ("-polar 1e308", "-polar: must be between -1 and 1"),
    ("-detpixels 1e12", "-detpixels: '1e12' is out of range"),
    ("-seed 1e30", "-seed: '1e30' is out of range"),
    ("-mosaic 1e9", "-mosaic: must be between 0 and 100000"),
    # negative photons, negative sizes and times
    ("-fluence -1", "-fluence: must be between 0 and 1e+40"),
    ("-flux -1e12", "-flux: must be between 0 and 1e+30"),
    ("-exposure -1", "-exposure: must be >= 0"),
    ("-water -5", "-water: must be between 0 and 1e+07 (um)"),
    ("-beamsize 0", "-beamsize: must be positive"),
    ("-sample_x -0.1", "-sample_x: must be between 0 and 10 (mm)"),
    ("-detector_thick -10", "-detector_thick: must be >= 0"),
    ("-detector_abs -5", "-detector_abs: an attenuation length must be positive"),
    ("-dispersion 250", "-dispersion: must be between 0 and 200"),
    ("-default_F -3", "-default_F: must be between 0 and 1e+10"),
    # past any experiment, where the C's images overflow or its arithmetic breaks down
    ("-fluence 1e41", "-fluence: must be between 0 and 1e+40"),
    ("-default_F 1e11", "-default_F: must be between 0 and 1e+10"),
    ("-pixel 2e6", "-pixel: must be positive and at most 1e+06 (mm)"),
    ("-hdivrange 2e6", "-hdivrange: must be between 0 and 1e+06 (mrad)"),
    ("-lambda 1e-5", "-lambda: must be between 0.0001 and 100000 (A)"),
    ("-energy 1e9", "-energy: the wavelength 12398.42 / energy must be between 0.0001 and 100000 (A)"),
    ("-energy 1e-300", "-energy: the wavelength 12398.42 / energy must be between 0.0001 and 100000 (A)"),
    ("-lambda 1e6", "-lambda: must be between 0.0001 and 100000 (A)"),
    ("-sample_x 11", "-sample_x: must be between 0 and 10 (mm)"),
    ("-N 2000000", "-N: must be between 0 and 1000000"),
    # vectors without a direction
    ("-beam_vector 0 0 0", "-beam_vector: a zero-length vector has no direction"),
    ("-polar_vector 0 0 0", "-polar_vector: a zero-length vector"),
    ("-spindle_axis 0 0 0", "-spindle_axis: a zero-length vector"),
    ("-fdet_vector 0 0 0", "-fdet_vector: a zero-length vector"),
    ("-twotheta_axis 0 0 0", "-twotheta_axis: a zero-length vector"),
    # cells no crystal can have
    ("-cell 60 60 60 10 10 170", "-cell: no cell has the angles 10 10 170"),
    ("-cell 60 60 60 120 120 120", "-cell: no cell has the angles 120 120 120"),
    ("-cell 60 60 60 90 190 90", "-cell: beta must be between 0 and 180"),
    ("-cell -N 3", "-cell: needs at least the cell length a"),
    # our own options
    ("-threads -1", "-threads: must be >= 0"),
    # a detector behind the sample: the C gives negative photons on every pixel
    ("-twotheta 120", "detector: its plane lies behind the sample"),
    # outputs that cannot be written, found before anything is read or written
    ("-floatfile nothere/x.bin", "-floatfile: cannot write 'nothere/x.bin': folder 'nothere' does not exist"),
    ("-noisefile nothere/n.img", "-noisefile: cannot write"),
    ("-pngfile nothere/p.png", "-pngfile: cannot write"),
    # values missing, or an option where a value should be
    ("-detector_abs", "-detector_abs needs 1 value"),  # the C's guard lets it read argv[argc]: crash
    ("-thicksteps", "-thicksteps needs 1 value"),
    ("-distance -N 5", "-distance: '-N' is not a number"),
]


@pytest.mark.parametrize("extra, words", REFUSED, ids=[r[0] for r in REFUSED])
def test_command_line_refuses(tmp_path, extra, words):
    assert_refused(cli(GOOD + extra.split(), tmp_path), tmp_path, words)


def test_refusal_writes_no_dump_file(tmp_path):
    """-hkl writes Fdump.bin while loading; a refusal found after parsing comes first."""
    (tmp_path / "P1.hkl").write_text("1 0 0 10\n0 1 0 10\n")
    args = [a for a in GOOD if a not in ("-default_F", "10")] + ["-hkl", "P1.hkl", "-twotheta", "120"]
    r = cli(args, tmp_path)
    assert r.returncode == 2 and not (tmp_path / "Fdump.bin").exists(), r.stderr


# The same refusals from the typed configs, in the same words.
SAME_WORDS = [
    ("-polar 1.5", lambda: BeamConfig(polarization=1.5), "must be between -1 and 1"),
    ("-fluence -1", lambda: BeamConfig(fluence_per_m2=-1.0), "must be between 0 and 1e"),
    ("-exposure -2", lambda: BeamConfig(exposure_s=-2.0), "must be >= 0"),
    ("-beamsize 0", lambda: BeamConfig(beamsize_mm=0.0), "must be positive"),
    ("-water -1", lambda: CrystalConfig(water_size_um=-1.0), "must be between 0 and 1e"),
    ("-N 2000000", lambda: CrystalConfig(n_cells=(2000000, 1, 1)), "between 0 and 1000000"),
    ("-lambda 1e-5", lambda: BeamConfig(wavelength_A=1e-5), "must be between 0.0001 and 100000"),
    ("-lambda 1e6", lambda: BeamConfig(wavelength_A=1e6), "must be between 0.0001 and 100000"),
    ("-mosaic 1e6", lambda: CrystalConfig(mosaic_spread_deg=1e6), "must be between 0 and 100000"),
    ("-beam_vector 0 0 0", lambda: BeamConfig(beam_vector=(0, 0, 0)), "zero-length vector has no direction"),
    ("-spindle_axis 0 0 0", lambda: CrystalConfig(spindle_axis=(0, 0, 0)), "zero-length vector"),
    ("-cell 60 60 60 10 10 170", lambda: CrystalConfig(cell=(60, 60, 60, 10, 10, 170)), "no cell has the angles"),
    ("-distance -1", lambda: DetectorConfig(distance_mm=-1.0), "must be positive"),
    ("-detpixels -1", lambda: DetectorConfig(fpixels=-1), "must be >= 0"),  # 0: from the detector size
]


@pytest.mark.parametrize("extra, build, words", SAME_WORDS, ids=[s[0] for s in SAME_WORDS])
def test_configs_refuse_what_the_command_line_refuses_in_the_same_words(extra, build, words):
    with pytest.raises(OptionError, match=words):
        parse_args(GOOD + extra.split())
    with pytest.raises(OptionError, match=words):
        SimulationConfig.from_cli_args(GOOD + extra.split())
    with pytest.raises(ValueError, match=words):
        build()


def test_configs_refuse_a_detector_behind_the_sample_as_the_command_line_does():
    words = "detector: its plane lies behind the sample"
    with pytest.raises(OptionError, match=words):
        SimulationConfig.from_cli_args(GOOD + ["-twotheta", "120"])
    with pytest.raises(ValueError, match=words):
        SimulationConfig(detector=DetectorConfig(twotheta_deg=120, pivot="sample"))
    SimulationConfig(detector=DetectorConfig(twotheta_deg=120, pivot="sample", point_pixel=True))  # positive


def test_dataset_mode_refuses_the_same(tmp_path):
    r = subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", "dataset", *GOOD, "-polar", "1.5",
                        "--stills", "2", "--seed", "1", "--out", "x.h5"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert_refused(r, tmp_path, "-polar: must be between -1 and 1")


def float_image(tmp_path, args):
    r = cli(args, tmp_path)
    assert r.returncode == 0, r.stderr
    return np.fromfile(tmp_path / "floatimage.bin", dtype="<f4")


def test_curved_det_as_the_very_last_argument_is_ignored_as_in_the_c(tmp_path):
    """nanoBragg.c's -curved_det handler needs one more token (argc > i+1) though it reads none."""
    flat = float_image(tmp_path, GOOD + ["-distance", "20"])
    last = float_image(tmp_path, GOOD + ["-distance", "20", "-curved_det"])
    curved = float_image(tmp_path, GOOD + ["-curved_det", "-distance", "20"])
    assert np.array_equal(last, flat)
    assert not np.array_equal(curved, flat)


def test_a_valued_option_without_all_its_values_at_the_end_is_ignored_as_in_the_c(tmp_path):
    """nanoBragg.c runs a handler only when argc > i+count: a last option short of values is
    skipped, with its partial values (same image as without it); ours says so on stderr."""
    plain = float_image(tmp_path, GOOD)
    for tail in (["-distance"], ["-vdivsteps"], ["-fdet_vector", "0", "1"], ["-roi", "0", "5", "0"]):
        r = cli(GOOD + tail, tmp_path)
        assert r.returncode == 0, r.stderr
        assert f"option {tail[0]} needs" in r.stderr and "ignored at the end" in r.stderr
        assert np.array_equal(np.fromfile(tmp_path / "floatimage.bin", dtype="<f4"), plain)


def test_cell_as_the_very_last_argument_is_ignored_as_in_the_c():
    req = parse_args(GOOD + ["-cell"])
    assert req.options.cell[0] == 60 and req.options.user_cell


def test_negative_numbers_are_values_and_options_are_not():
    assert parse_args(GOOD + ["-Xbeam", "-5"]).options.Xbeam == -0.005
    req = parse_args(GOOD + ["-floatfile", "-x.bin"])  # a file name may start with '-', as in the C
    assert req.floatfile == "-x.bin"


def test_values_the_c_takes_as_not_given_are_accepted():
    """-oversample 0, -mosaic_domains 0, -N 0, -osc -1 ... the C reads as 'not given' or one cell."""
    cfg = SimulationConfig.from_cli_args(GOOD + "-oversample 0 -mosaic_dom 0 -thicksteps -1 -N -2".split())
    assert cfg.sampling.oversample is None and cfg.crystal.mosaic_domains is None
    assert cfg.detector.thicksteps is None and cfg.crystal.n_cells == (0, 0, 0)
    cfg = SimulationConfig.from_cli_args(GOOD + "-osc -1 -mosaic -2 -hdivrange -1 -phistep -3".split())
    assert (cfg.crystal.osc_deg, cfg.crystal.mosaic_spread_deg, cfg.beam.hdivrange_mrad) == (None, None, None)
    assert cfg.sampling.phistep_deg is None


def test_long_run_note_counts_evaluations():
    req = parse_args(GOOD + "-detpixels 1024 -mosaic 1 -mosaic_domains 4000 -oversample 3 -N 20".split())
    plan = preflight.check(req)
    assert preflight.evaluations(plan, 1) == 1024 * 1024 * 9 * 4000
    note = preflight.long_run_note(plan, req, 1)
    assert note is not None and "3.77e+10 evaluations" in note and "minutes" in note
    short = parse_args(GOOD)
    assert preflight.long_run_note(preflight.check(short), short, 1) is None


def test_huge_angles_that_the_c_renders_are_accepted():
    req = parse_args(GOOD + "-phi 1e20 -misset 1e20 0 0 -detector_rotx 1e308".split())
    assert math.isfinite(req.options.phi0) and req.options.misset_mode == 1
