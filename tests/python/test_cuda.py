"""CUDA backend: argument checks (any host where `_cuda` was built) and CPU-vs-GPU parity over a few
golden cases (marked gpu; skipped unless "cuda" is in backends() and CuPy imports).

The CPU backend is the reference. Tolerances:
- float64 kernels: the GPU build uses --fmad=false like the CPU's -ffp-contract=off, and + - * / sqrt
  are IEEE-rounded on both, so only CUDA's sin/cos/exp/atan2 (within 1-2 ulp of glibc's) differ:
  rtol 1e-11 with atol 1e-12 of the image maximum; statistics must agree (omega_sum to 1e-12).
- float32 kernels: the GPU contracts to FMA and rounds differently; phases of sincg amplify the
  float32 index error, so compare images against the maximum: max |diff| <= 2e-3 * max |cpu|.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from nanobragg_ext import api, options
from nanobragg_ext.backends import backends, cuda_status, cuda_unavailable_reason

try:
    from nanobragg_ext import _cuda
except (ImportError, OSError):  # built without CUDA
    _cuda = None

GOLDEN = Path(os.environ.get("NANOBRAGG_GOLDEN", Path(__file__).resolve().parents[3] / "shared" / "golden"))

# Small cases that between them cover what the CUDA scheduler must get right: the serial
# interpolation switch-off (f_interp_*), the stale-phi first evaluation (multi-step phi, mosaic),
# ROI and mask, the curved detector and point pixels (rotations and solid angles), sub-pixel
# oversampling with sensor thickness, the crystal shapes and an HKL table with holes.
GPU_CASES = [
    "at001_detpixels_64",
    "at021_multi_step_phi",
    "f_interp_auto_N1",
    "f_interp_forced_N4",
    "f_nointerp_N1",
    "f_roi",
    "f_mask",
    "f_curved_det",
    "f_point_pixel_hkl",
    "f_mosaic_domains",
    "f_shape_gauss_xtal",
    "f_shape_round_xtal",
    "f_sample_thick_width_height",
    "f_N_aniso",
    "at011_polarized",
]

needs_cuda_module = pytest.mark.skipif(_cuda is None, reason="nanobragg_ext._cuda not built (NANOBRAGG_CUDA=OFF)")


def _gpu_skip_reason():
    if "cuda" not in backends():
        return f"CUDA backend not usable: {cuda_unavailable_reason()}"
    try:
        import cupy  # noqa: F401
    except ImportError:
        return "CuPy is not installed (pip install nanobragg-ext[cuda12])"
    return None


def _require_gpu():
    reason = _gpu_skip_reason()
    if reason:
        pytest.skip(reason)


def _manifest_cases():
    path = GOLDEN / "manifest.json"
    if not path.exists():
        return {}
    return {c["id"]: c for c in json.loads(path.read_text())["cases"]}


@pytest.fixture(scope="module")
def manifest():
    cases = _manifest_cases()
    if not cases:
        pytest.skip(f"golden manifest not found under {GOLDEN} (set NANOBRAGG_GOLDEN)")
    return cases


def _prepare(case, workdir: Path):
    """The native run object of a golden case (mask included), read in workdir (dump files land there)."""
    (workdir / "inputs").symlink_to(GOLDEN / "inputs", target_is_directory=True)
    old = os.getcwd()
    os.chdir(workdir)
    try:
        return api.load_request(options.parse_args(list(case["args"])))
    finally:
        os.chdir(old)


def _shape(sim):
    g = sim.prepared.geometry
    return (g["spixels"], g["fpixels"])


class _FakeDeviceArray:
    """Only the interface dict; enough for the argument checks, which run before any device call."""

    def __init__(self, shape=(4, 4), **entries):
        iface = dict(shape=shape, typestr="<f8", data=(0x1000, False), version=3, strides=None)
        iface.update(entries)
        self.__cuda_array_interface__ = iface


# ---- any host with the _cuda module ------------------------------------------------------------


def test_backends_lists_cpu_first():
    b = backends()
    assert b[0] == "cpu"
    assert set(b) <= {"cpu", "cuda"}


@needs_cuda_module
def test_backends_reports_cuda_exactly_when_a_device_is_visible():
    status = cuda_status()
    assert status is not None and status["runtime_version"] > 0
    assert ("cuda" in backends()) == (status["device_count"] > 0)
    if status["device_count"] == 0:
        assert cuda_unavailable_reason()  # says why, for skip messages


@needs_cuda_module
def test_no_device_raises_runtime_error(tmp_path, manifest):
    if _cuda.device_count() > 0:
        pytest.skip("a CUDA device is visible")
    sim = _prepare(manifest["at001_detpixels_64"], tmp_path)
    with pytest.raises(RuntimeError, match="no usable CUDA device"):
        _cuda.DeviceSimulator(sim)


@needs_cuda_module
@pytest.mark.parametrize(
    "entries, error, match",
    [
        (dict(typestr="<i4"), TypeError, "typestr"),
        (dict(typestr="<f2"), TypeError, "typestr"),
        (dict(data=(0x1000, True)), TypeError, "writable"),
        (dict(strides=(8, 8 * 64)), TypeError, "C-contiguous"),
        (dict(mask=object()), TypeError, "masked"),
        (dict(stream=0), ValueError, "disallows"),
        (dict(shape=(3, 64)), TypeError, "shape"),
    ],
)
def test_bad_device_arrays_are_rejected_before_any_device_call(tmp_path, manifest, entries, error, match):
    sim = _prepare(manifest["at001_detpixels_64"], tmp_path)
    out = _FakeDeviceArray(**{"shape": _shape(sim), **entries})
    with pytest.raises(error, match=match):
        _cuda.check_output(out, *_shape(sim))


@needs_cuda_module
def test_host_arrays_and_bad_arguments_are_rejected(tmp_path, manifest):
    sim = _prepare(manifest["at001_detpixels_64"], tmp_path)
    with pytest.raises(TypeError, match="__cuda_array_interface__"):
        _cuda.check_output(np.zeros(_shape(sim)), *_shape(sim))
    with pytest.raises(TypeError, match="stream"):
        _cuda.check_output(_FakeDeviceArray(shape=_shape(sim)), *_shape(sim), stream="fast")
    with pytest.raises(ValueError, match="precision"):  # checked before the device is asked for
        _cuda.DeviceSimulator(sim, precision="half")


# ---- GPU: CPU-vs-CUDA parity -------------------------------------------------------------------


def _render_both(sim, precision, dtype):
    import cupy as cp

    cpu = np.empty(_shape(sim), dtype=dtype)
    cpu_stats = api.render(sim, cpu, precision)
    gpu = cp.full(_shape(sim), np.nan, dtype=dtype)  # NaN: an unwritten pixel cannot pass
    gpu_stats = api.render(sim, gpu, precision, device=_cuda.DeviceSimulator(sim, precision))
    return cpu, cp.asnumpy(gpu), cpu_stats, gpu_stats


@pytest.mark.gpu
@pytest.mark.parametrize("case_id", GPU_CASES)
def test_cuda_matches_cpu_float64(tmp_path, manifest, case_id):
    _require_gpu()
    if case_id not in manifest:
        pytest.skip(f"{case_id} not in the golden manifest")
    sim = _prepare(manifest[case_id], tmp_path)
    cpu, gpu, cpu_stats, gpu_stats = _render_both(sim, "double", np.float64)
    assert np.isfinite(gpu).all()
    np.testing.assert_allclose(gpu, cpu, rtol=1e-11, atol=1e-12 * float(np.abs(cpu).max()))
    assert gpu_stats["rendered"] == cpu_stats["rendered"]
    assert gpu_stats["interpolation_switched_off"] == cpu_stats["interpolation_switched_off"]
    assert gpu_stats["switch_hkl"] == pytest.approx(cpu_stats["switch_hkl"], rel=1e-9)  # the console's warning
    assert gpu_stats["cancelled"] is False
    assert gpu_stats["omega_sum"] == pytest.approx(cpu_stats["omega_sum"], rel=1e-12)


@pytest.mark.gpu
@pytest.mark.parametrize("case_id", ["at001_detpixels_64", "f_interp_auto_N1", "f_mask", "f_mosaic_domains"])
def test_cuda_matches_cpu_float64_kernel_float32_output(tmp_path, manifest, case_id):
    """float64 arithmetic stored as float32 (the CLI's -floatfile path): equal up to the final rounding."""
    _require_gpu()
    sim = _prepare(manifest[case_id], tmp_path)
    cpu, gpu, _, _ = _render_both(sim, "double", np.float32)
    np.testing.assert_allclose(gpu, cpu, rtol=2.5e-7, atol=1e-6 * float(np.abs(cpu).max()))


@pytest.mark.gpu
@pytest.mark.parametrize("case_id", ["at001_detpixels_64", "f_interp_forced_N4", "f_roi", "f_mosaic_domains"])
def test_cuda_matches_cpu_float32(tmp_path, manifest, case_id):
    _require_gpu()
    sim = _prepare(manifest[case_id], tmp_path)
    cpu, gpu, cpu_stats, gpu_stats = _render_both(sim, "single", np.float32)
    assert np.isfinite(gpu).all()
    assert np.abs(gpu.astype(np.float64) - cpu).max() <= 2e-3 * float(np.abs(cpu).max())
    assert gpu_stats["rendered"] == cpu_stats["rendered"]


@pytest.mark.gpu
def test_device_simulator_is_reusable_on_streams(tmp_path, manifest):
    """One DeviceSimulator, several renders on a non-default stream and via the array's own stream."""
    _require_gpu()
    import cupy as cp

    run = _prepare(manifest["f_interp_auto_N1"], tmp_path)
    sim = _cuda.DeviceSimulator(run, "double")
    assert sim.shape == _shape(run) and sim.precision == "double" and sim.device_bytes > 0
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        a = cp.full(sim.shape, np.nan)
        b = cp.full(sim.shape, np.nan)
    sim.render(a, stream=stream)
    first = sim.wait()
    with stream:  # CuPy exports its current stream in __cuda_array_interface__['stream']
        sim.render(b)
    second = sim.wait()
    stream.synchronize()
    cpu = np.empty(sim.shape)
    cpu_stats = api.render(run, cpu, "double")
    np.testing.assert_array_equal(cp.asnumpy(a), cp.asnumpy(b))
    np.testing.assert_allclose(cp.asnumpy(a), cpu, rtol=1e-11, atol=1e-12 * float(np.abs(cpu).max()))
    assert first["rendered"] == second["rendered"] == cpu_stats["rendered"]
    assert first["interpolation_switched_off"] == second["interpolation_switched_off"]
    assert first["interpolation_switched_off"] == cpu_stats["interpolation_switched_off"]
    # omega_sum is summed with atomics in no fixed order: equal to rounding only.
    assert first["omega_sum"] == pytest.approx(second["omega_sum"], rel=1e-12)


@pytest.mark.gpu
def test_device_simulator_rejects_host_memory_and_wrong_dtype(tmp_path, manifest):
    _require_gpu()
    import cupy as cp

    sim = _cuda.DeviceSimulator(_prepare(manifest["at001_detpixels_64"], tmp_path))
    with pytest.raises(TypeError, match="typestr"):
        sim.render(cp.zeros(sim.shape, dtype=cp.int32))
    with pytest.raises(TypeError, match="C-contiguous"):
        sim.render(cp.zeros(sim.shape[::-1]).T)
    host = np.zeros(sim.shape)
    fake = _FakeDeviceArray(shape=sim.shape, data=(host.ctypes.data, False))
    with pytest.raises(ValueError, match="not CUDA device memory"):
        sim.render(fake)


@pytest.mark.gpu
def test_device_tables_follow_updates(tmp_path, manifest):
    """A DeviceSimulator made before an update renders the updated state (never a stale table),
    and api.Simulator(backend="cuda") gives the CPU's images through the same updates."""
    _require_gpu()
    import cupy as cp

    run = _prepare(manifest["f_mosaic_domains"], tmp_path)
    device = _cuda.DeviceSimulator(run, "double")
    opt = run.options
    opt.misset_mode, opt.misset = 1, (0.3, -0.2, 0.5)
    opt.mosaic_seed = -99
    run.update(opt)
    gpu = cp.full(_shape(run), np.nan)
    api.render(run, gpu, device=device)
    cpu = np.empty(_shape(run))
    api.render(run, cpu)
    np.testing.assert_allclose(cp.asnumpy(gpu), cpu, rtol=1e-11, atol=1e-12 * float(np.abs(cpu).max()))

    from nanobragg_ext.config import CrystalConfig, DetectorConfig, SimulationConfig

    cfg = SimulationConfig(detector=DetectorConfig(fpixels=48, spixels=40, distance_mm=60, pixel_size_mm=0.2),
                           crystal=CrystalConfig(cell=(50, 60, 70, 90, 95, 90), default_F=50, n_cells=(5, 5, 5),
                                                 mosaic_spread_deg=0.3, mosaic_domains=4))
    on_gpu, on_cpu = api.Simulator(cfg, backend="cuda"), api.Simulator(cfg)
    for kw in ({}, {"misset_deg": (10, 20, 30)}, {"phi_start_deg": 5, "osc_deg": 1, "phisteps": 2},
               {"wavelength_A": 1.3}, {"distance_mm": 80}):
        a = on_gpu.run(**kw)  # NumPy out: rendered on the device, copied back once
        b = on_cpu.run(**kw)
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12 * float(np.abs(b).max()), err_msg=str(kw))
    dev = cp.empty(on_gpu.shape)
    assert on_gpu.run(dev) is dev


@pytest.mark.gpu
def test_device_simulator_follows_a_detector_size_change(tmp_path, manifest):
    """One DeviceSimulator renders the run object's new size after an update that changes it, with
    a mask of the new size and back to the old size (its tables and images grow or are reused)."""
    _require_gpu()
    import cupy as cp

    run = _prepare(manifest["at001_detpixels_64"], tmp_path)
    device = _cuda.DeviceSimulator(run, "double")
    base = run.options
    bigger = type(base)(base)  # a copy of the native Options
    bigger.fpixels, bigger.spixels = 96, 80
    mask = np.ones((80, 96), dtype=np.uint16)
    mask[10:30, 20:50] = 0
    for opt, m in ((bigger, None), (bigger, mask), (base, None)):
        run.set_mask(None)
        run.update(opt)
        run.set_mask(m)
        assert tuple(device.shape) == _shape(run)
        cpu = np.empty(_shape(run))
        api.render(run, cpu)
        gpu = cp.full(_shape(run), np.nan)
        api.render(run, gpu, device=device)
        host = np.full(_shape(run), np.nan)
        api.render(run, host, device=device)  # through render_to_host's device image
        for image in (cp.asnumpy(gpu), host):
            np.testing.assert_allclose(image, cpu, rtol=1e-11, atol=1e-12 * float(np.abs(cpu).max()))
        if m is not None:
            assert not host[10:30, 20:50].any()


def test_one_device_simulator_serves_every_panel_size(monkeypatch):
    """render_detector makes one device mirror for panels of two sizes (it follows the size
    changes) and renders each panel from the run object's current state: checked on any host with
    a stand-in device that renders on the CPU."""
    from nanobragg_ext.detector.render import simulate_detector
    from test_panels import _small_config, _two_sizes_detector

    made = []

    class CpuDevice:
        def __init__(self, sim):
            self.sim = sim

    def device_simulator(sim, precision="double"):
        made.append(sim)
        return CpuDevice(sim)

    real_render = api.render

    def render(sim, out, precision="double", threads=0, controls=None, catch_sigint=False, device=None):
        assert device is not None and device.sim is sim
        return real_render(sim, out, precision, threads)

    expected = simulate_detector(_small_config(), _two_sizes_detector())
    monkeypatch.setattr(api, "resolve_backend", lambda backend: backend)  # "cuda" without asking the runtime
    monkeypatch.setattr(api, "device_simulator", device_simulator)
    monkeypatch.setattr(api, "render", render)
    stack = simulate_detector(_small_config(), _two_sizes_detector(), backend="cuda")
    assert len(made) == 1
    np.testing.assert_array_equal(stack, expected)
