"""``nanobragg-ext noisify`` beyond the golden suite: refused input (one line, exit 2, nothing
written), -corrected against the C's quirks (the physics, not the bytes), the options we add
(hot and dead pixels, saturation, binning: their statistics), and the DetectorResponse API
(equal to the command line, thread count irrelevant)."""
import gzip
import json
import math

import numpy as np
import pytest

from nanobragg_ext import cli
from nanobragg_ext.noisify import DetectorResponse
from test_noisify_parity import suite_root

HEADER = 512


def run(tmp_path, monkeypatch, capsys, *args):
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    rc = cli.main(["noisify"] + [str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def pixels(path, dtype="<u2"):
    return np.frombuffer(path.read_bytes()[HEADER:], dtype=dtype)


def write_floats(path, values):
    np.ascontiguousarray(values, dtype="<f4").tofile(path)
    return path


@pytest.fixture
def flat(tmp_path):
    """A 64 x 64 image of 50 photons per pixel."""
    return write_floats(tmp_path / "flat.bin", np.full((64, 64), 50.0))


# ---- refused input ---------------------------------------------------------------------------

BAD = {
    "psf_radius_exceeds_image": ["-psf", "gauss", "-psf_radius", "65"],
    "wrong_size_corrected": ["-detpixels", "80", "-corrected"],
    "non_number": ["-gain", "abc"],
    "negative_readout": ["-readout", "-1"],
    "zero_pixel": ["-pixel", "0"],
    "psf_without_value": ["-psf"],
    "unknown_option": ["-gian", "2"],
    "stray_argument": ["-nonoise", "5"],
    "bits8_corrected": ["-bits", "8", "-corrected"],
    "negative_radius_corrected": ["-psf", "fiber", "-psf_radius", "-2", "-corrected"],
    "missing_header": ["-header", "nothere.img"],
    "rebin_not_dividing": ["-rebin", "3"],
    "hot_fraction_above_1": ["-hot_pixels", "1.5"],
    "hot_pixels_without_noise": ["-hot_pixels", "0.1", "-nonoise"],
    "output_in_missing_folder": ["-noisefile", "no/such/dir/x.img"],
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
def test_refused(tmp_path, monkeypatch, capsys, flat, args):
    rc, out, err = run(tmp_path, monkeypatch, capsys, "-floatfile", flat.name, "-seed", 1, *args)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("nanobragg-ext noisify: error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat.bin"]


def test_refused_files(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "notsmv.img").write_bytes(b"x" * 600)
    write_floats(tmp_path / "nan.bin", np.where(np.arange(4096) == 7, np.nan, 20.0))
    write_floats(tmp_path / "tiny.bin", np.full(4096, 0.005))
    for args in (["-floatfile", "empty.bin"],
                 ["-floatfile", "nan.bin", "-header", "notsmv.img"],
                 ["-floatfile", "nan.bin", "-psf", "gauss", "-psf_radius", "2"],  # C: NaN over the whole image
                 ["-floatfile", "nan.bin", "-corrected"],
                 ["-floatfile", "tiny.bin", "-nonoise", "-psf", "gauss"]):  # C: NaN radius, crash
        rc, out, err = run(tmp_path, monkeypatch, capsys, *args, "-seed", 1)
        assert rc == 2, args
        assert err.count("\n") == 1 and "error:" in err, args
        assert not {"intimage.img", "image.pgm", "noiseimage.img"} & {p.name for p in tmp_path.iterdir()}, args


def test_help(capsys):
    assert cli.main(["noisify", "-h"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: noisify") and "-rebin" in out


def test_usage_exit9_names_the_file(tmp_path, monkeypatch, capsys):
    """An input that cannot be opened gets the C's usage text and exit 9, plus a line saying why."""
    (tmp_path / "folder.bin").mkdir()
    for name in ("missing.bin", "folder.bin"):
        rc, out, err = run(tmp_path, monkeypatch, capsys, "-floatfile", name)
        assert rc == 9 and out.startswith("noisify - add noise") and "usage: noisify" in out
        assert name in err and err.count("\n") == 1


# ---- -corrected: the physics where the C's arithmetic fails -------------------------------------

def test_negative_adu_wrap_vs_clamp(tmp_path, monkeypatch, capsys, flat):
    write_floats(flat, np.full((64, 64), 2.0))
    args = ["-floatfile", flat.name, "-adc", 0, "-readout", 4, "-calibration", 0, "-seed", 9, "-nopgm"]
    rc, _, err = run(tmp_path, monkeypatch, capsys, *args)
    assert rc == 0 and "quirk N9" in err
    wrapped = pixels(tmp_path / "noiseimage.img").astype(int)
    rc, _, err = run(tmp_path, monkeypatch, capsys, *args, "-corrected")
    assert rc == 0 and "quirk" not in err
    clamped = pixels(tmp_path / "noiseimage.img").astype(int)
    high = wrapped > 60000  # a count of 2 photons with 4 ADU of read noise: wrap-around only
    assert high.sum() > 100
    assert (clamped[high] == 0).all() and (clamped[~high] == wrapped[~high]).all() and clamped.max() < 100


def test_psf_edge_no_wraparound():
    img = np.zeros((32, 32), np.float32)
    img[10, 31] = 5000.0  # on the right edge
    kw = dict(psf="fiber", psf_fwhm_um=120, pixel_mm=0.1, psf_radius=6, adc=0, calibration=0)
    quirk = DetectorResponse(**kw).images(img, seed=1, noise=False)
    fixed = DetectorResponse(corrected=True, **kw).images(img, seed=1, noise=False)
    a, b = quirk.array("int16").astype(int), fixed.array("int16").astype(int)
    assert quirk.noiseless_psf["edge_wrapped"] > 0 and fixed.noiseless_psf["edge_wrapped"] == 0
    assert a[11, 0] > 10 and b[11, 0] < a[11, 0]            # the C puts edge light on the next row
    assert (a[:, 1:31] == b[:, 1:31]).all()                  # elsewhere identical
    assert b[:, 0].sum() < b[:, 30].sum()                    # corrected: the far side stays darker


def test_first_mean_minus1_and_large_means():
    img = np.full((4, 4), 3.0, np.float32)
    img[0, 0] = -1.0
    quirk = DetectorResponse(calibration=0, adc=5).apply(img, seed=25)
    fixed = DetectorResponse(calibration=0, adc=5, corrected=True).apply(img, seed=25)
    assert quirk[0, 0] > 60 and fixed[0, 0] == 5             # N18: a count from the unset cache
    big = np.full((2, 2), 2.5e6, np.float32)
    q = DetectorResponse(calibration=0, adc=0, bits=32).apply(big, seed=3).astype(np.int64)
    c = DetectorResponse(calibration=0, adc=0, bits=32, corrected=True).apply(big, seed=3).astype(np.int64)
    assert (np.abs(q - c) <= 1).all() and abs(c.mean() - 2.5e6) < 5 * math.sqrt(2.5e6)


def test_noiseless_bits32_not_clipped_when_corrected():
    img = np.array([[1e5, 10.0]], np.float32)
    assert DetectorResponse(adc=0, bits=32).noiseless(img).tolist() == [[65535, 10]]
    assert DetectorResponse(adc=0, bits=32, corrected=True).noiseless(img).tolist() == [[100000, 10]]


# ---- options beyond noisify: statistics -------------------------------------------------------

def test_hot_and_dead_pixels(tmp_path, monkeypatch, capsys, flat):
    base = ["-floatfile", flat.name, "-seed", 3, "-calibration", 0, "-nopgm"]
    run(tmp_path, monkeypatch, capsys, *base)
    clean = pixels(tmp_path / "noiseimage.img").copy()
    rc, out, _ = run(tmp_path, monkeypatch, capsys, *base, "-hot_pixels", 0.02, "-dead_pixels", 0.05)
    assert rc == 0
    img = pixels(tmp_path / "noiseimage.img")
    hot, dead = img == 65535, img == 0
    n = img.size
    for k, f in ((hot.sum(), 0.02 * (1 - 0.05)), (dead.sum(), 0.05)):  # dead wins where both fall
        assert abs(k - f * n) < 5 * math.sqrt(n * f * (1 - f)), (k, f * n)
    assert f"{hot.sum()} hot and {dead.sum()} dead pixels" in out
    assert (img[~hot & ~dead] == clean[~hot & ~dead]).all()  # the noise draws are untouched
    run(tmp_path, monkeypatch, capsys, *base, "-hot_pixels", 0.02, "-dead_pixels", 0.05)
    assert (pixels(tmp_path / "noiseimage.img") == img).all()  # same seeds, same pixels
    run(tmp_path, monkeypatch, capsys, *base, "-hot_pixels", 0.02, "-hotpix_seed", 99)
    other = pixels(tmp_path / "noiseimage.img") == 65535
    assert abs(other.sum() - 0.02 * n) < 5 * math.sqrt(n * 0.02)
    assert (other & hot).sum() < 0.1 * other.sum()           # another seed, another (independent) set


def test_saturation(tmp_path, monkeypatch, capsys, flat):
    base = ["-floatfile", flat.name, "-seed", 4, "-nopgm", "-readout", 3]
    run(tmp_path, monkeypatch, capsys, *base)
    free = pixels(tmp_path / "noiseimage.img").astype(int)
    rc, out, _ = run(tmp_path, monkeypatch, capsys, *base, "-saturation", 95)
    assert rc == 0
    sat = pixels(tmp_path / "noiseimage.img").astype(int)
    assert (sat == np.minimum(free, 95)).all()
    # An overload is an ADU value above 95 before truncation: between the truncated counts > 95 and >= 95.
    overloads = int(out.split(" overloads)")[0].rsplit("(", 1)[1])
    assert (free > 95).sum() <= overloads <= (free >= 95).sum() and overloads > 100
    assert pixels(tmp_path / "intimage.img").max() <= 95


def test_binning(tmp_path, monkeypatch, capsys, flat):
    rc, out, _ = run(tmp_path, monkeypatch, capsys, "-floatfile", flat.name, "-seed", 5, "-calibration", 0,
                     "-rebin", 2, "-adc", 10)
    assert rc == 0
    head = (tmp_path / "noiseimage.img").read_bytes()[:HEADER].decode()
    assert "SIZE1=32;" in head and "SIZE2=32;" in head and "PIXEL_SIZE=0.2;" in head
    noise = pixels(tmp_path / "noiseimage.img").astype(float)
    assert noise.size == 32 * 32
    assert abs(noise.mean() - (200 + 10)) < 5 * math.sqrt(200 / noise.size)   # 4 pixels x 50 photons
    assert abs(noise.var() / 200 - 1) < 5 * math.sqrt(2 / noise.size)           # Poisson of the sum
    assert (pixels(tmp_path / "intimage.img") == 210).all()
    assert (tmp_path / "image.pgm").read_bytes().startswith(b"P5\n32 32\n")


# ---- the API stage ----------------------------------------------------------------------------

def test_api_equals_golden_cli_case():
    root = suite_root()
    if root is None:
        pytest.skip("noisify golden suite not found (NANOBRAGG_GOLDEN_SUITE)")
    case = next(c for c in json.loads((root / "manifest.json").read_text())["cases"] if c["id"] == "nz_all_effects")
    img = np.fromfile(root / "inputs" / "nonbragg_water_128.bin", dtype="<f4").reshape(128, 128)
    resp = DetectorResponse(scale=0.5, flicker=0.01, calibration=0.02, calib_seed=3, psf="gauss", psf_fwhm_um=80,
                            psf_radius=2, readout=2, gain=1.5, adc=20)
    want = np.frombuffer(gzip.decompress((root / case["outputs"]["noiseimage.img"]).read_bytes())[HEADER:], "<u2")
    assert (resp.apply(img, seed=35).ravel() == want).all()


def test_api_threads_and_inputs():
    rng = np.random.default_rng(0)
    img = rng.gamma(2.0, 30.0, (96, 80)).astype(np.float32)
    kw = dict(psf="fiber", psf_fwhm_um=90, calibration=0.02)
    one = DetectorResponse(threads=1, **kw).apply(img, seed=7)
    assert (DetectorResponse(threads=4, **kw).apply(img, seed=7) == one).all()
    assert one.shape == (96, 80) and one.dtype == np.uint16
    with pytest.raises(TypeError):
        DetectorResponse().apply(img.astype(np.float64), seed=1)
    with pytest.raises(ValueError):
        DetectorResponse(psf="lorentz")
    with pytest.raises(ValueError):
        DetectorResponse(psf="gauss", psf_radius=200).apply(img, seed=1)


def test_files_written_by_the_chain_all_or_none(tmp_path, monkeypatch, capsys, flat):
    # The command's files come from the chain (noiseless ones staged beside the draws): equal to
    # what ResponseImages.write gives, and where one cannot be written none is left, temporaries
    # included.
    from nanobragg_ext import _core

    rc, _, _ = run(tmp_path, monkeypatch, capsys, "-floatfile", flat, "-seed", "3", "-threads", "2")
    assert rc == 0
    req_params = DetectorResponse().params
    floats = np.fromfile(flat, dtype="<f4")
    head = (tmp_path / "intimage.img").read_bytes()[:HEADER]
    for threads in (1, 2):
        req_params.threads = threads
        out = tmp_path / f"t{threads}"
        out.mkdir()
        r = _core.noisify_response(floats, 64, 64, req_params, -3, True,
                                   [("int16", str(out / "i.img"), head), ("pgm", str(out / "p.pgm"), b"")],
                                   [("noise16", str(out / "n.img"), head)])
        assert (out / "i.img").read_bytes() == (tmp_path / "intimage.img").read_bytes()
        assert (out / "p.pgm").read_bytes() == (tmp_path / "image.pgm").read_bytes()
        assert (out / "n.img").read_bytes() == (tmp_path / "noiseimage.img").read_bytes()
        r.write("noise16", str(out / "again.img"), head)
        assert (out / "again.img").read_bytes() == (out / "n.img").read_bytes()
        bad = tmp_path / f"bad{threads}"
        bad.mkdir()
        with pytest.raises(ValueError):
            _core.noisify_response(floats, 64, 64, req_params, -3, True, [("int16", str(bad / "i.img"), head)],
                                   [("noise16", str(bad / "missing" / "n.img"), head)])
        with pytest.raises(ValueError):  # a noiseless file that fails on the side thread
            _core.noisify_response(floats, 64, 64, req_params, -3, True,
                                   [("int16", str(bad / "missing" / "i.img"), head)],
                                   [("noise16", str(bad / "n.img"), head)])
        assert list(bad.iterdir()) == []
