"""Classes of bad input found by the differential fuzzer (tests/fuzz) that the readers and writers
handle: each is refused with one line naming the file (exit 2) and leaves no file at all, the
Fdump cache included, or, where the C makes a physical image, runs as the C does."""
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

BASE = "-cell 60 60 60 90 90 90 -N 3 -lambda 1 -distance 100 -detpixels 8 -pixel 0.1 -seed 1 -noprogress".split()
HKL = "0 0 0 10\n1 0 0 5\n0 1 0 5\n"


def cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def smv(width, height, **fields):
    head = {"HEADER_BYTES": 512, "DIM": 2, "BYTE_ORDER": "little_endian", "TYPE": "unsigned_short",
            "SIZE1": width, "SIZE2": height, "PIXEL_SIZE": 0.1, "DISTANCE": 100, "WAVELENGTH": 1}
    head.update(fields)
    text = ("{\n" + "".join(f"{k}={v};\n" for k, v in head.items()) + "}\n").encode().ljust(512, b" ")
    return text + struct.pack(f"<{width * height}H", *([1] * (width * height)))


def assert_refused_without_files(r, folder, inputs, *words):
    assert r.returncode == 2, r.stdout[-500:] + r.stderr
    err = r.stderr.strip()
    assert "\n" not in err and "Traceback" not in err, err
    err.encode("ascii")  # printable: no raw bytes of the input file
    for w in words:
        assert w in err, err
    left = sorted(set(os.listdir(folder)) - set(inputs))
    assert not left, f"files left behind: {left}"


@pytest.mark.parametrize("name, args, files, words", [
    # the Fdump cache used to be written before these were checked
    ("mask of another size", ["-hkl", "p1.hkl", "-mask", "m.img"], {"m.img": smv(3, 5)}, ["m.img"]),
    ("bad source file", ["-hkl", "p1.hkl", "-sourcefile", "s.txt"], {"s.txt": b"-10 0 \x85\x00x 1\n"}, ["s.txt"]),
    ("missing S(Q) file", ["-hkl", "p1.hkl", "-stol", "missing.stol"], {}, ["missing.stol"]),
    # the float image used to be in place before the rename of the int image failed
    ("output name too long", ["-hkl", "p1.hkl", "-intfile", "a" * 300], {}, []),
    ("empty output name", ["-hkl", "p1.hkl", "-intimage", ""], {}, []),
    # raw bytes of an HKL file used to end up in the message (a UnicodeDecodeError, not naming it)
    ("binary HKL file", ["-hkl", "b.hkl"], {"b.hkl": b"0 0 0 1\n\xbc\xff\x00 2 3 4\n"}, ["b.hkl", "not a number"]),
])
def test_refused_with_one_line_and_no_files(name, args, files, words, tmp_path):
    (tmp_path / "p1.hkl").write_text(HKL)
    for f, data in files.items():
        (tmp_path / f).write_bytes(data)
    r = cli(BASE + args, tmp_path)
    assert_refused_without_files(r, tmp_path, ["p1.hkl", *files], *words)


def test_zero_wavelength_from_img_header_is_refused(tmp_path):
    """WAVELENGTH=0 in an -img header (no -lambda): NaN indices, with which the kernel used to read
    outside the F table (SIGSEGV, as the C). Refused before anything is read, naming the header."""
    (tmp_path / "p1.hkl").write_text(HKL)
    (tmp_path / "h.img").write_bytes(smv(8, 8, WAVELENGTH=0))
    i = BASE.index("-lambda")
    r = cli(BASE[:i] + BASE[i + 2:] + ["-hkl", "p1.hkl", "-N", "1", "-img", "h.img"], tmp_path)
    assert_refused_without_files(r, tmp_path, ["p1.hkl", "h.img"], "-img", "WAVELENGTH", "must be positive")


def test_unphysical_image_is_refused(tmp_path):
    """A negative fluence gives negative photons (the C writes them): refused, nothing written."""
    r = cli(BASE + ["-default_F", "10", "-fluence", "-1e24"], tmp_path)
    assert_refused_without_files(r, tmp_path, [])


def test_truncated_fdump_reads_as_the_c_does(tmp_path):
    """nanoBragg reads a short Fdump row by row and leaves the rest of the table 0, and skips every
    whitespace byte after the header (data bytes included): the same table, so the same image."""
    (tmp_path / "p1.hkl").write_text(HKL)
    assert cli(BASE + ["-hkl", "p1.hkl", "-nonoise", "-nopgm"], tmp_path).returncode == 0
    full = (tmp_path / "Fdump.bin").read_bytes()
    head, body = full.split(b"\n\x0c", 1)
    # Truncated: only the first rows survive; the image is that of a table with zeros elsewhere.
    (tmp_path / "Fdump.bin").write_bytes(head + b"\n\x0c" + body[:len(body) // 3])
    r = cli(BASE + ["-nonoise", "-nopgm"], tmp_path)
    assert r.returncode == 0, r.stderr
    from nanobragg_ext import io as nbio
    t = nbio.read_fdump(str(tmp_path / "Fdump.bin"))
    values = t.values.ravel()
    n = len(body) // 3 // 8
    assert np.array_equal(values[:n], np.frombuffer(body[:8 * n], "<f8"))
    assert not values[n + 1:].any()
    # A header followed by whitespace bytes: skipped like the C's "\n\f" scanf directives.
    (tmp_path / "Fdump.bin").write_bytes(head + b"\n\x0c \r\t" + body)
    t2 = nbio.read_fdump(str(tmp_path / "Fdump.bin"))
    assert np.array_equal(t2.values.ravel(), np.frombuffer(body, "<f8"))


def test_smv_header_numbers_are_read_as_atof_does(tmp_path):
    """ValueOf() in the C is atof(): 'nan' is NaN (the field counts as absent), hex and inf parse."""
    from nanobragg_ext import io as nbio
    (tmp_path / "h.img").write_bytes(smv(4, 4, BEAM_CENTER_Y="nan", BEAM_CENTER_X="0x1p1", DISTANCE="  +1.5e2x"))
    img = nbio.read_smv(str(tmp_path / "h.img"))
    assert np.isnan(img.value("BEAM_CENTER_Y"))
    assert img.value("BEAM_CENTER_X") == 2.0 and img.value("DISTANCE") == 150.0


@pytest.mark.parametrize("data", [b"", b"\n", b" \t,;:!\n\n"])
def test_empty_stol_file_is_refused(data, tmp_path):
    """An S(Q) file without a row (blank lines only): the C says "no data in input file" and exits."""
    (tmp_path / "p1.hkl").write_text(HKL)
    (tmp_path / "e.stol").write_bytes(data)
    for opt in ("-stol", "-4stol", "-Q"):
        r = cli(BASE + ["-hkl", "p1.hkl", opt, "e.stol"], tmp_path)
        assert_refused_without_files(r, tmp_path, ["p1.hkl", "e.stol"], "e.stol", "no data")


def test_stol_file_with_any_row_is_read_as_the_c_does(tmp_path):
    """The C counts any line that is not only delimiters as a row (a last line without a newline too)."""
    (tmp_path / "p1.hkl").write_text(HKL)
    (tmp_path / "t.stol").write_bytes(b"\n  x")
    r = cli(BASE + ["-hkl", "p1.hkl", "-stol", "t.stol", "-nonoise", "-nopgm"], tmp_path)
    assert r.returncode == 0, r.stderr


def test_zero_pixel_count_reads_as_from_the_detector_size(tmp_path):
    """-detpixels_f 0 (or _s, _x, _y, -detpixels): the C's "not given", so the size comes from -detsize."""
    i = BASE.index("-detpixels")
    base = BASE[:i] + BASE[i + 2:] + ["-default_F", "10", "-nopgm"]

    def image(*args):
        r = cli(base + list(args), tmp_path)
        assert r.returncode == 0, r.stderr
        return np.fromfile(tmp_path / "floatimage.bin", "<f4")

    want = image("-detsize", "0.6")
    assert want.size == 36
    for opt in ("-detpixels", "-detpixels_f", "-detpixels_x", "-detpixels_s", "-detpixels_y"):
        assert np.array_equal(image(opt, "0", "-detsize", "0.6"), want), opt
    r = cli(base + ["-detpixels_f", "-1"], tmp_path)
    assert r.returncode == 2 and "-detpixels_f" in r.stderr


def test_int_min_seed_wraps_as_in_the_c(tmp_path):
    """The C negates atoi's -2147483648 in int, which wraps to itself: the seed is -2147483648."""
    from nanobragg_ext.options import parse_args
    req = parse_args(["-seed", "-2147483648", "-mosaic_seed", "-2147483648", "-misset_seed", "-2147483648"])
    assert req.seed == -2**31 and req.options.mosaic_seed == -2**31 and req.options.misset_seed == -2**31
    assert parse_args(["-seed", "2147483647"]).seed == -2147483647
    r = cli(BASE + ["-default_F", "10", "-seed", "-2147483648", "-noisefile", "n.img"], tmp_path)
    assert r.returncode == 0, r.stderr
    r = cli(BASE + ["-default_F", "10", "-seed", "-2147483649"], tmp_path)
    assert r.returncode == 2 and "-seed" in r.stderr and "Traceback" not in r.stderr


def test_attenuation_length_that_underflows_is_infinite_absorption(tmp_path):
    """-detector_abs 1e-320: x*1e-6 underflows to 0 and the C's 1/0 is inf; no ZeroDivisionError."""
    from nanobragg_ext.options import parse_args
    assert parse_args(["-detector_abs", "1e-320"]).options.detector_mu == float("inf")
    # With a sensor thickness every photon is absorbed before the first layer: a zero image, as the C's.
    r = cli(BASE + ["-default_F", "10", "-nopgm", "-detector_abs", "1e-320", "-detector_thick", "100"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert not np.fromfile(tmp_path / "floatimage.bin", "<f4").any()


def test_more_threads_than_cores_is_the_same_image(tmp_path):
    """-threads 2147483647 made libgomp abort (no memory for the thread stacks); the C has no -threads
    and makes its image, so more threads than cores run as many as there are cores."""
    from nanobragg_ext.options import parse_args
    assert parse_args(["-threads", "2147483647"]).threads == (os.cpu_count() or 1)
    r = cli(BASE + ["-default_F", "10", "-nopgm", "-threads", "2147483647"], tmp_path)
    assert r.returncode == 0, r.stderr
    want = np.fromfile(tmp_path / "floatimage.bin", "<f4")
    assert cli(BASE + ["-default_F", "10", "-nopgm", "-threads", "1"], tmp_path).returncode == 0
    assert np.array_equal(np.fromfile(tmp_path / "floatimage.bin", "<f4"), want)


@pytest.mark.parametrize("data, words", [
    # the C reads the missing columns of a last line without a newline as 0: wavelength 0, SIGSEGV
    (b"-10 0 0", "without a newline"),
    (b"-10 0 0 1 1e-10\n  ", "without a newline"),
    # an explicit wavelength of 0 (SIGSEGV in the C) used to end in an OverflowError traceback
    (b"-10 0 0 1 0\n", "wavelength"),
])
def test_source_file_without_a_wavelength_is_refused(data, words, tmp_path):
    (tmp_path / "s.txt").write_bytes(data)
    r = cli(BASE + ["-default_F", "10", "-sourcefile", "s.txt"], tmp_path)
    assert_refused_without_files(r, tmp_path, ["s.txt"], "s.txt", words)


def test_source_file_last_line_with_all_columns_needs_no_newline(tmp_path):
    (tmp_path / "s.txt").write_bytes(b"-10 0 0 1 1e-10")
    r = cli(BASE + ["-default_F", "10", "-sourcefile", "s.txt", "-nopgm"], tmp_path)
    assert r.returncode == 0, r.stderr


def test_oversample_thick_without_a_sensor_thickness_gives_the_c_zero_image(tmp_path):
    """The C recomputes the capture fraction for every sub-pixel under -oversample_thick even with no
    thickness: exp(0) - exp(0) = 0, a zero image (the kernel used to keep the capture fraction 1)."""
    r = cli(BASE + ["-default_F", "10", "-nopgm", "-oversample_thick"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert not np.fromfile(tmp_path / "floatimage.bin", "<f4").any()


@pytest.mark.parametrize("args, option", [
    # 12398.42 / 1e-300 eV: a wavelength of ~1e304 A (the C renders it; ours came out NaN)
    (["-energy", "1e-300"], "-energy"),
    (["-lambda", "2e5"], "-lambda"),
    (["-wavelength", "1e300"], "-wavelength"),
    # the wavelengths across a dispersion: 1 -+ D/2 times the central one
    (["-lambda", "9e4", "-dispersion", "50"], "-dispersion"),
    (["-lambda", "1e-4", "-dispersion", "10"], "-dispersion"),
])
def test_wavelength_past_any_experiment_is_refused(args, option, tmp_path):
    r = cli(BASE + ["-default_F", "10"] + args, tmp_path)
    assert_refused_without_files(r, tmp_path, [], option, "must be between 0.0001 and 100000")


def test_longest_wavelength_renders(tmp_path):
    """1e5 A (0.124 eV), the longest the table takes: a finite, non-negative image."""
    r = cli(BASE + ["-default_F", "10", "-nopgm", "-lambda", "1e5", "-dispersion", "0"], tmp_path)
    assert r.returncode == 0, r.stderr
    img = np.fromfile(tmp_path / "floatimage.bin", "<f4")
    assert img.size == 64 and np.all(np.isfinite(img)) and np.all(img >= 0) and img.any()


def test_source_file_wavelength_past_any_experiment_is_refused(tmp_path):
    (tmp_path / "s.txt").write_bytes(b"-10 0 0 1 1e-10\n-10 0 0 1 1e-3\n")
    r = cli(BASE + ["-default_F", "10", "-sourcefile", "s.txt"], tmp_path)
    assert_refused_without_files(r, tmp_path, ["s.txt"], "s.txt", "line 2", "wavelength")


@pytest.mark.parametrize("args", [
    "-hdivrange 1e5 -hdivsteps 2147483647", "-vdivrange 1 -vdivsteps 2147483647", "-divergence 1 -divsteps 2147483647",
    "-dispersion 10 -dispsteps 2147483647", "-osc 1 -phisteps 2147483647", "-mosaic 1 -mosaic_domains 2147483647",
    "-oversample 2147483647", "-detector_thick 100 -thicksteps 2147483647", "-phisteps 50000 -mosaic 1 -mosaic_dom 50000",
])
def test_huge_step_counts_are_planned_before_the_set_up(args, monkeypatch):
    """A step count of 2**31 - 1 in any dimension: the evaluation count (no int overflow) gives the
    long-run note, and tables that would not fit in memory are refused, all from _core.plan, before a
    source, domain or orientation is built (the set-up used to run first: no note, or minutes
    building sources, then out of memory)."""
    from nanobragg_ext import pipeline, preflight
    from nanobragg_ext.options import OptionError, parse_args

    monkeypatch.setattr(pipeline, "available_memory", lambda: 8 << 30)
    req = parse_args(BASE + ["-default_F", "10"] + args.split())
    plan = preflight.check(req)
    sources = preflight.planned_sources(plan, [])
    try:
        preflight.check_tables(plan, sources)
    except OptionError as e:
        assert "GiB" in str(e) and "this machine has 8.0 GiB" in str(e)
        assert any(w in args for w in ("divsteps", "dispsteps", "mosaic_dom", "phisteps"))
        return
    n = preflight.evaluations(plan, sources)
    assert n >= 2147483647 * 64  # every pixel, every step
    note = preflight.long_run_note(plan, req, sources)
    assert note is not None and f"{n:.3g} evaluations" in note


def test_long_run_says_so_at_once_and_stops_on_ctrl_c(tmp_path):
    """The note comes before the set-up (here 1e5 sources on 1024^2 pixels); SIGINT then stops the
    run with status 130 and no file."""
    import signal

    p = subprocess.Popen([sys.executable, "-m", "nanobragg_ext.cli", *BASE, "-default_F", "10", "-detpixels",
                          "1024", "-hdivrange", "1", "-hdivsteps", "100000", "-threads", "1"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        assert "evaluations" in line and "Ctrl-C stops it cleanly" in line, line
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=60) == 130
    finally:
        p.kill()
        p.wait()
    assert not os.listdir(tmp_path)


def test_configs_refuse_the_dispersion_wavelengths_as_the_command_line():
    from nanobragg_ext.config import BeamConfig, SimulationConfig
    from nanobragg_ext.options import OptionError

    with pytest.raises(OptionError, match="-dispersion: the wavelengths across it reach 112500 A"):
        SimulationConfig(beam=BeamConfig(wavelength_A=9e4, dispersion_percent=50))
    SimulationConfig(beam=BeamConfig(wavelength_A=8e4, dispersion_percent=50))  # up to 1e5 A: taken


def test_smv_header_past_512_bytes_is_written_as_the_c_does(tmp_path):
    """Tilted axes and six-digit values take the header's text to 516 bytes: the C writes it whole and
    unpadded (still saying HEADER_BYTES=512), the same bytes as ours (compared with the C by hand;
    this run used to be refused after the render). A warning says so."""
    args = ("-detpixels 8 -seed 364913 -cell 74.12 54.40 84.59 110.00 100.38 65.93 -default_F 114.6 -sample_y 0.308 "
            "-oversample 1 -phi -117.406 -twotheta_axis -1.5798 1.1086 -1.1387 -flux 50004668307429.42").split()
    r = cli(args, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "SMV header is 516 bytes" in r.stderr and "HEADER_BYTES=512" in r.stderr
    for name in ("intimage.img", "noiseimage.img"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"{\nHEADER_BYTES=512;") and len(data) == 516 + 2 * 64
        assert data[514:516] == b"}\f"


@pytest.mark.parametrize("args, words", [
    # the plane ends up behind the sample; every pixel's F is 0 (off the table), so the C's image is
    # all zeros rather than negative: refused all the same (README, Bad input)
    (["-hkl", "p1.hkl", "-twotheta", "1e308"], ["behind the sample"]),
    (["-hkl", "p1.hkl", "-twotheta", "-3.052", "-Xbeam", "1e308"], ["behind the sample"]),
    # -divsteps 1: the one step lies outside the C's own ellipse, no source is left (the C: NaN pixels,
    # or an all-zero image where the ROI renders nothing)
    (["-default_F", "10", "-divsteps", "1"], ["no sources"]),
    (["-default_F", "10", "-divsteps", "1", "-roi", "18", "6", "3", "11"], ["no sources"]),
])
def test_geometry_without_photons_is_refused_even_where_the_c_image_is_zero(args, words, tmp_path):
    (tmp_path / "p1.hkl").write_text(HKL)
    r = cli(BASE + args, tmp_path)
    assert_refused_without_files(r, tmp_path, ["p1.hkl"], *words)


def test_bad_input_file_of_a_long_run_is_one_line(tmp_path):
    """The long-run note comes once the input files are read (it used to come first, so an HKL
    error made a refusal of two lines)."""
    (tmp_path / "bad.hkl").write_bytes(b"0 0 0 1\n1 x 0 2\n")
    r = cli(BASE + ["-hkl", "bad.hkl", "-detpixels", "1024", "-hdivrange", "1", "-hdivsteps", "100000"], tmp_path)
    assert_refused_without_files(r, tmp_path, ["bad.hkl"], "bad.hkl", "not a number")


def test_mask_of_another_size_in_a_long_run_is_one_line(tmp_path):
    """The mask's size is checked against the planned detector before anything is read (it used to
    be checked in the set-up, after the long-run note: a refusal of two lines)."""
    (tmp_path / "m.img").write_bytes(smv(15, 8))
    r = cli(BASE + ["-default_F", "10", "-mask", "m.img", "-detpixels", "1024", "-hdivrange", "1",
                    "-hdivsteps", "100000"], tmp_path)
    assert_refused_without_files(r, tmp_path, ["m.img"], "m.img", "15x8 pixels")


@pytest.mark.parametrize("option", ["-img", "-mask"])
def test_smv_header_without_byte_order_is_refused(option, tmp_path):
    """nanoBragg's GetFrame() finds BYTE_ORDER= with strstr() and reads from NULL + 11 when it is
    missing (SIGSEGV); the fuzzer's corrupted header had BYTE_ORDE=0. Refused, naming the file."""
    data = smv(8, 8).replace(b"BYTE_ORDER=", b"BYTE_ORDE=")
    (tmp_path / "h.img").write_bytes(data)
    r = cli(BASE + ["-default_F", "10", option, "h.img"], tmp_path)
    assert_refused_without_files(r, tmp_path, ["h.img"], "h.img", "BYTE_ORDER")


@pytest.mark.parametrize("edges", ["58.0 1e-320 36.069", "1e-3 60 60", "60 60 2e6"])
def test_cell_edges_past_any_crystal_are_refused(edges, tmp_path):
    """Fuzz case 501461 (-cell 58.0 1e-320 36.069 79.7 82.0 73.0): the C's image is finite, ours
    came out NaN (the reciprocal cell overflows); edges outside 0.01-1e6 A are refused up front."""
    args = BASE[7:] + ["-default_F", "10", "-cell", *edges.split(), "79.7", "82.0", "73.0"]
    r = cli(args, tmp_path)
    assert_refused_without_files(r, tmp_path, [], "-cell", "past any crystal")


def test_cell_edges_at_the_bounds_run(tmp_path):
    """The bounds themselves are cells the run renders (finite, non-negative photons)."""
    for edges in (["0.01", "0.01", "0.01"], ["1e6", "1e6", "1e6"]):  # 1 sub-pixel: auto picks 9000x9000 at 1e6
        r = cli(BASE[7:] + ["-default_F", "10", "-nopgm", "-oversample", "1", "-cell", *edges, "90", "90", "90"],
                tmp_path)
        assert r.returncode == 0, r.stderr
        image = np.fromfile(tmp_path / "floatimage.bin", dtype="<f4")
        assert np.all(np.isfinite(image)) and np.all(image >= 0)


def test_an_oscillation_of_zero_with_a_phi_step_is_refused(tmp_path):
    """Fuzz case 601025 (-osc 0.0 -phistep 0.5): no phi step, the C's image is NaN, ours raised
    ZeroDivisionError in the console summary; now one line, exit 2, no files."""
    r = cli(BASE + ["-default_F", "10", "-osc", "0.0", "-phistep", "0.5"], tmp_path)
    assert_refused_without_files(r, tmp_path, [], "-osc", "-phistep", "no phi step")


def test_the_config_refuses_an_oscillation_of_zero_with_a_phi_step():
    """The configs go through the same plan check (preflight.check_options) as the CLI."""
    from nanobragg_ext.config import SimulationConfig
    from nanobragg_ext.options import OptionError

    with pytest.raises(OptionError, match="no phi step"):
        SimulationConfig.from_cli_args(BASE + ["-default_F", "10", "-osc", "0", "-phistep", "0.5"])
    cfg = SimulationConfig.from_cli_args(BASE + ["-default_F", "10"])
    with pytest.raises((OptionError, ValueError), match="no phi step"):
        cfg.replace(crystal={"osc_deg": 0.0}, sampling={"phistep_deg": 0.5})
