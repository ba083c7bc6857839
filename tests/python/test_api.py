"""The Python API (api.py): simulate() and Simulator agree with the CLI, fill out= in place,
raise TypeError instead of copying, run concurrently, and re-run cheaply with new orientations."""
import os
import sys
import threading

import numpy as np
import pytest

from conftest import golden_cases
from nanobragg_ext import _core, api, parity
from nanobragg_ext import io as nbio
from nanobragg_ext.config import CrystalConfig, DetectorConfig, SimulationConfig

CASES = {c["id"]: c for c in golden_cases()}
API_CLI_CASES = ["at001_detpixels_64", "f_printout_roi", "q_misset_seed_followed_by_args", "f_mosaic_domains"]


def small(fpixels=32, spixels=24, **crystal):
    c = dict(cell=(48, 52, 56, 88, 93, 97), default_F=100, n_cells=(4, 4, 4), misset_deg=(12, -7, 25))
    c.update(crystal)
    return SimulationConfig(detector=DetectorConfig(fpixels=fpixels, spixels=spixels, distance_mm=50,
                                                    pixel_size_mm=0.2),
                            crystal=CrystalConfig(**c), noise_seed=1)


@pytest.mark.skipif(not CASES, reason="golden data not found: set NANOBRAGG_GOLDEN or put shared/golden beside the repository")
@pytest.mark.parametrize("case_id", API_CLI_CASES)
def test_api_equals_cli(case_id, golden, tmp_path, monkeypatch):
    case = CASES[case_id]
    parity.run_case(case, golden, tmp_path)
    shape = tuple(case["shape"])
    cli = np.fromfile(tmp_path / parity.output_name(case, "float"), dtype="<f4").reshape(shape)
    monkeypatch.chdir(tmp_path)  # the case's relative input paths
    cfg = SimulationConfig.from_cli_args(case["args"])
    img = api.simulate(cfg)
    assert img.dtype == np.float64 and img.shape == shape
    np.testing.assert_array_equal(img.astype(np.float32), cli)  # the CLI writes float32 of the same render
    # and the noise image the CLI wrote, from the same Simulator state
    if "noise" in case["outputs"]:
        sim = api.Simulator(cfg)
        noisy = sim.add_noise(sim.run())
        ref = nbio.read_smv(str(tmp_path / parity.output_name(case, "noise"))).data
        np.testing.assert_array_equal(noisy, ref)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_out_filled_in_place(dtype):
    cfg = small()
    out = np.full((24, 32), -1.0, dtype=dtype)
    res = api.simulate(cfg, out=out)
    assert res is out and np.shares_memory(res, out)
    assert np.all(out >= 0) and out.max() > 0
    np.testing.assert_allclose(out, api.simulate(cfg, dtype=dtype), rtol=0, atol=0)
    sim = api.Simulator(cfg)
    assert sim.run(out) is out


@pytest.mark.parametrize("bad", [
    np.zeros((24, 32), dtype=np.int32), np.zeros((24, 32), dtype=np.float16), np.zeros((24, 32), dtype=np.complex128),
    np.zeros((24, 31)), np.zeros((24, 32, 1)), np.zeros((24, 32), order="F"), np.zeros((24, 64))[:, ::2],
    [[0.0] * 32] * 24,
])
def test_bad_out_raises_type_error(bad):
    with pytest.raises(TypeError):
        api.simulate(small(), out=bad)


def test_read_only_out_raises():
    out = np.zeros((24, 32))
    out.flags.writeable = False
    with pytest.raises(TypeError):
        api.simulate(small(), out=out)


def test_native_renderer_raises_type_error_not_copy():
    sim = api.Simulator(small())
    for bad in (np.zeros((24, 32), dtype=np.int64), np.zeros((24, 32), order="F")):
        with pytest.raises(TypeError):
            sim.native.render(bad)


def test_bad_dtype_argument():
    with pytest.raises(TypeError):
        api.simulate(small(), dtype=np.int16)
    with pytest.raises(TypeError):
        api.simulate("not a config")


def test_two_threads_equal_serial():
    cfgs = [small(misset_deg=(10, 20, 30)), small(misset_deg=(-5, 4, 90), mosaic_spread_deg=0.5, mosaic_domains=4)]
    serial = [api.simulate(c, threads=1) for c in cfgs]
    outs = [np.empty((24, 32)) for _ in cfgs]
    errors = []

    def work(i):
        try:
            for _ in range(3):
                api.simulate(cfgs[i], out=outs[i], threads=1)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for a, b in zip(outs, serial):
        np.testing.assert_array_equal(a, b)


def test_simulator_rerun_equals_fresh_simulate():
    base = small(mosaic_spread_deg=0.4, mosaic_domains=3, mosaic_seed=11, phi_start_deg=0, osc_deg=1.0)
    sim = api.Simulator(base)
    first = sim.run().copy()
    np.testing.assert_array_equal(first, api.simulate(base))
    changes = [
        dict(misset_deg=(30, -10, 5)),
        dict(misset_deg="random"),
        dict(phi_start_deg=20.0, osc_deg=0.5),
        dict(mosaic_seed=999),
        dict(misset_deg=(1, 2, 3), phi_start_deg=5.0, mosaic_seed=7),
    ]
    fields = {"misset_deg": "misset_deg", "phi_start_deg": "phi_start_deg", "osc_deg": "osc_deg",
              "mosaic_seed": "mosaic_seed"}
    for ch in changes:
        cfg = base.replace(crystal={fields[k]: v for k, v in ch.items()})
        if ch.get("misset_deg") == "random":
            cfg = cfg.replace(crystal={"misset_seed": 5})
            sim5 = api.Simulator(base.replace(crystal={"misset_seed": 5}))
            np.testing.assert_array_equal(sim5.run(**ch), api.simulate(cfg))
            continue
        np.testing.assert_array_equal(sim.run(**ch), api.simulate(cfg), err_msg=str(ch))
    # back to the config's own settings
    np.testing.assert_array_equal(sim.run(), first)


def _axes(cfg):
    """Real-space axes (rows, Angstrom) that prepare() derives for a config."""
    c = api.Simulator(cfg).prepared.crystal
    return np.array([c["a"], c["b"], c["c"]]) * 1e10


def test_simulator_orientation():
    base = small()
    sim = api.Simulator(base)
    axes = _axes(small(misset_deg=(40, 5, -20)))
    img = sim.run(orientation=axes)
    # the same as a fresh run configured with that orientation ...
    np.testing.assert_array_equal(img, api.simulate(base.replace(crystal={"orientation": axes})))
    # ... and (to rounding) as the misset that produced the axes
    np.testing.assert_allclose(img, api.simulate(small(misset_deg=(40, 5, -20))), rtol=1e-6, atol=1e-12 * img.max())
    # a, b, c given as three vectors; then back to the config's misset
    np.testing.assert_array_equal(sim.run(orientation=(axes[0], axes[1], axes[2])), img)
    np.testing.assert_array_equal(sim.run(), api.simulate(base))


def test_run_batch():
    sim = api.Simulator(small())
    orients = [_axes(small(misset_deg=(a, 0, 0))) for a in (0, 15, 30)]
    out = np.empty((3, 24, 32), dtype=np.float32)
    assert sim.run_batch(orients, out=out) is out
    for i, o in enumerate(orients):
        np.testing.assert_array_equal(out[i], sim.run(orientation=o).astype(np.float32))
    with pytest.raises(TypeError):
        sim.run_batch(orients, out=np.empty((2, 24, 32)))
    with pytest.raises(ValueError):
        sim.run_batch(np.zeros((3, 2, 3)))


def test_usage_errors():
    with pytest.raises(api.UsageError):
        api.simulate(SimulationConfig(crystal=CrystalConfig(default_F=1)))
    with pytest.raises(api.UsageError):
        api.simulate(SimulationConfig(crystal=CrystalConfig(cell=(50, 50, 50, 90, 90, 90)), dump_file=None))


def test_noise_and_writers(tmp_path):
    cfg = small().replace(beam={"fluence_per_m2": 1e32})
    sim = api.Simulator(cfg)
    img = sim.run()
    noisy = api.add_noise(img, seed=3)
    assert noisy.dtype == np.uint16 and noisy.shape == img.shape
    np.testing.assert_array_equal(noisy, api.add_noise(img, seed=3))
    assert not np.array_equal(noisy, api.add_noise(img, seed=4))
    api.write_float(str(tmp_path / "f.bin"), img)
    np.testing.assert_array_equal(nbio.read_float_image(str(tmp_path / "f.bin"), img.shape), img.astype(np.float32))
    api.write_smv(str(tmp_path / "i.img"), img, sim)
    smv = nbio.read_smv(str(tmp_path / "i.img"))
    assert smv.data.shape == img.shape and smv.value("DISTANCE") == pytest.approx(50)
    api.write_smv(str(tmp_path / "n.img"), noisy)
    np.testing.assert_array_equal(nbio.read_smv(str(tmp_path / "n.img")).data, noisy)
    api.write_pgm(str(tmp_path / "p.pgm"), img)
    assert nbio.read_pgm(str(tmp_path / "p.pgm")).shape == img.shape


def _has_png_backend():
    try:
        import PIL  # noqa: F401
        return True
    except ImportError:
        try:
            import matplotlib  # noqa: F401
            return True
        except ImportError:
            return False


@pytest.mark.skipif(not _has_png_backend(), reason="PNG previews need Pillow or matplotlib (pip install pillow)")
def test_png_preview_and_cli_pngfile(tmp_path, monkeypatch):
    from nanobragg_ext import cli, preview

    img = api.simulate(small())
    api.write_png(str(tmp_path / "a.png"), img)
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    preview.write_montage(str(tmp_path / "m.png"), [img, img * 2, img])
    monkeypatch.chdir(tmp_path)
    rc = cli.main(small().to_cli_args() + ["-noprogress", "-pngfile", "cli.png"])
    assert rc == 0 and (tmp_path / "cli.png").read_bytes()[:4] == b"\x89PNG"


def test_png_preview_without_backend_says_what_to_install(tmp_path, monkeypatch):
    from nanobragg_ext import preview

    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install pillow"):
        preview.write_png(str(tmp_path / "x.png"), np.ones((4, 4)))
    assert not os.listdir(tmp_path)


def _render_args(args, threads):
    from nanobragg_ext.options import parse_args

    p = api.load_request(parse_args(args))
    img = np.zeros((p.prepared.geometry["spixels"], p.prepared.geometry["fpixels"]))
    stats = api.render(p, img, threads=threads)
    return img, stats


@pytest.mark.parametrize("beam", [("-Xbeam", "20", "-Ybeam", "20"), ("-Xbeam", "0.25", "-Ybeam", "0.25")])
def test_interpolation_switch_counts_every_pixel_once(beam, tmp_path, monkeypatch):
    # N=1 turns tricubic interpolation on; a small table puts the first out-of-range evaluation
    # at the first pixel (beam at the far corner) or mid-image (beam at the first pixel). Rows
    # after the switch are skipped in the first pass and rendered again without interpolation:
    # counts and solid angles must still cover each pixel once, for any thread count.
    monkeypatch.chdir(tmp_path)
    hkl = tmp_path / "small.hkl"
    hkl.write_text("".join(f"{h} {k} {l} {10 + h + 2 * k + 3 * l}\n"
                           for h in range(-4, 5) for k in range(-4, 5) for l in range(-4, 5)))
    args = ["-hkl", str(hkl), "-cell", "20", "20", "20", "90", "90", "90", "-N", "1", "-lambda", "1",
            "-distance", "50", "-detpixels", "40", "-pixel", "0.5", "-oversample", "1", *beam]
    img1, s1 = _render_args(args, threads=1)
    img2, s2 = _render_args(args, threads=2)
    ref, sref = _render_args(args + ["-nointerpolate"], threads=1)
    assert s1["interpolation_switched_off"] and s2["interpolation_switched_off"]
    assert not sref["interpolation_switched_off"]
    np.testing.assert_array_equal(img1, img2)
    assert s1["rendered"] == s2["rendered"] == sref["rendered"] == 40 * 40
    assert s1["omega_sum"] == s2["omega_sum"]  # rows are summed in order, whatever the threads
    assert s1["omega_sum"] == pytest.approx(sref["omega_sum"], rel=1e-13)
    # Everything from the switch on is the non-interpolated render; before it, interpolated.
    first = int(np.flatnonzero((img1 != ref).ravel()).max()) + 1 if (img1 != ref).any() else 0
    np.testing.assert_array_equal(img1.ravel()[first:], ref.ravel()[first:])
    if beam[1] == "0.25":
        assert 0 < first < img1.size // 2  # the switch came mid-image, after interpolated pixels
