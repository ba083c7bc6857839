"""nonBragg on the CUDA backend (`nanobragg-ext nonbragg ... -device cuda`, Background(backend=...)).

Everywhere: without a usable GPU `-device cuda` exits 2 with the reason on stderr and writes nothing,
and the API raises RuntimeError saying why. Marked gpu (skipped unless "cuda" is in backends()):
every golden nonBragg case the CUDA backend takes gives the CPU backend's files, and a table whose
look-ups tie with its points (the C's walk state then matters) gives the CPU's image too.

Tolerance: the amorphous kernel is float64 compiled with --fmad=false, like the CPU's
-ffp-contract=off, and without a Kahn factor it uses only + - * / and sqrt (IEEE-rounded on both),
so the images are compared bit for bit; with -polar the factor's acos/cos/sin may differ by an ulp
from glibc's, so float images there are compared within 1e-9 of the maximum (SMV, PGM and noise
images, rounded to integers, stay identical).
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nanobragg_ext import nonbragg
from nanobragg_ext.backends import backends, cuda_unavailable_reason

from test_nonbragg_parity import ROOT, suite_root  # noqa: F401 (the same golden-suite search)

CASES = json.loads((ROOT / "manifest.json").read_text())["cases"] if ROOT else []
needs_gpu = pytest.mark.skipif("cuda" not in backends(), reason=f"CUDA backend not usable: {cuda_unavailable_reason()}")
OUTPUTS = ("floatimage.bin", "intimage.img", "image.pgm", "noiseimage.img")
# What the CUDA backend refuses, by design (the README says why): a table whose stol goes back
# (serial look-up) and the per-pixel record of -printout and -img.
REFUSED = ("the CUDA backend needs a table whose stol never decreases", "need the CPU backend")


def cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", "nonbragg", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif("cuda" in backends(), reason="checks the refusal on a host without a usable GPU")
def test_device_cuda_without_a_gpu_exits_2_with_the_reason_and_writes_nothing(tmp_path):
    r = cli(["-stol", "water", "-detpixels", "16", "-device", "cuda", "-noprogress"], tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "CUDA backend not available" in lines[0], r.stderr
    assert cuda_unavailable_reason() in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif("cuda" in backends(), reason="checks the refusal on a host without a usable GPU")
def test_background_on_cuda_without_a_gpu_raises_saying_why():
    from nanobragg_ext.background import Background, Material

    bg = Background(["-detpixels", "8"], [Material("water")], backend="cuda")
    with pytest.raises(RuntimeError, match="CUDA backend not available"):
        bg.render()


def test_device_option_takes_cpu_cuda_or_auto(tmp_path):
    r = cli(["-stol", "water", "-detpixels", "8", "-device", "gpu"], tmp_path)
    assert r.returncode == 2 and "expected 'cpu', 'cuda' or 'auto', got 'gpu'" in r.stderr
    (tmp_path / "auto").mkdir(), (tmp_path / "cpu").mkdir()
    auto = cli(["-stol", "water", "-detpixels", "8", "-device", "auto", "-seed", "1", "-noprogress"], tmp_path / "auto")
    cpu = cli(["-stol", "water", "-detpixels", "8", "-seed", "1", "-noprogress"], tmp_path / "cpu")
    assert auto.returncode == cpu.returncode == 0, auto.stderr + cpu.stderr
    for name in OUTPUTS:
        assert (tmp_path / "auto" / name).read_bytes() == (tmp_path / "cpu" / name).read_bytes(), name


def run_case(args, workdir: Path, monkeypatch):
    (workdir / "inputs").symlink_to(ROOT / "inputs")
    monkeypatch.chdir(workdir)
    out, err = io.StringIO(), io.StringIO()
    try:
        rc = nonbragg.run(list(args), out, err)
    except (ValueError, RuntimeError, OSError) as e:
        return 2, str(e)
    return rc, out.getvalue()


def same_outputs(cpu_dir: Path, gpu_dir: Path, polarized: bool):
    for name in OUTPUTS:
        a, b = cpu_dir / name, gpu_dir / name
        assert a.exists() == b.exists(), name
        if not a.exists():
            continue
        if name == "floatimage.bin" and polarized:
            x, y = np.fromfile(a, "<f4"), np.fromfile(b, "<f4")
            assert np.array_equal(np.isnan(x), np.isnan(y))
            scale = np.nanmax(np.abs(x)) if np.isfinite(x).any() else 1.0
            assert np.nanmax(np.abs(x - y)) <= 1e-9 * scale
        else:
            assert a.read_bytes() == b.read_bytes(), name


@needs_gpu
@pytest.mark.gpu
@pytest.mark.skipif(ROOT is None, reason="nonBragg golden suite not found (NANOBRAGG_GOLDEN_SUITE)")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_cuda_gives_the_cpu_files_on_golden_cases(case, tmp_path, monkeypatch):
    cpu_dir, gpu_dir = tmp_path / "cpu", tmp_path / "gpu"
    cpu_dir.mkdir(), gpu_dir.mkdir()
    rc_cpu, out_cpu = run_case(case["args"], cpu_dir, monkeypatch)
    rc_gpu, out_gpu = run_case(list(case["args"]) + ["-device", "cuda"], gpu_dir, monkeypatch)
    if rc_cpu == 0 and rc_gpu == 2 and any(r in out_gpu for r in REFUSED):
        return  # refused by design, with its reason
    assert rc_gpu == rc_cpu, out_gpu
    if rc_cpu == 0:
        assert out_gpu == out_cpu  # the console too: solid angle, max_I, mean, rms, photons
    same_outputs(cpu_dir, gpu_dir, polarized=any(a in ("-polar", "-polarization") for a in case["args"]))


@needs_gpu
@pytest.mark.gpu
def test_cuda_follows_the_walk_state_on_tied_look_ups():
    """A table whose points sit exactly at stol values of pixels: those look-ups depend on the C's
    walk state, which the CUDA path leaves to the CPU's in-order pass."""
    from nanobragg_ext import _core, _cuda
    from nanobragg_ext.nonbragg_options import parse_nonbragg_args

    req = parse_nonbragg_args(["-stol", "water", "-detpixels", "64", "-distance", "50", "-noprogress"])
    setup = nonbragg.prepare(req, lambda w: None)
    probe = np.zeros(setup.shape, np.float32)
    _, last = setup.render(probe, 1, False, True)
    # The pixels' own stol values (1/m) as the table's points (multiplier 1), F rising with stol.
    points = sorted({last.at(i)[0] for i in range(0, probe.size, 97)})
    tied = _core.prepare_amorphous(req.options, req.amorphous, points, [1.0 + 0.5 * i for i in range(len(points))], 1.0)
    cpu, gpu = np.zeros(setup.shape, np.float32), np.zeros(setup.shape, np.float32)
    st_cpu, _ = tied.render(cpu, 2, False, False)
    st_gpu = _cuda.render_amorphous(tied, gpu, False)
    assert st_cpu["serial_rows"] > 0  # the case does exercise the in-order pass
    assert np.array_equal(cpu.view(np.uint32), gpu.view(np.uint32))
    assert st_gpu["omega_sum"] == st_cpu["omega_sum"] and st_gpu["rendered"] == st_cpu["rendered"]


@needs_gpu
@pytest.mark.gpu
def test_background_on_cuda_equals_cpu():
    from nanobragg_ext.background import Background, Material

    args = ["-detpixels", "96", "-distance", "80", "-flux", "1e12", "-divergence", "0.5", "-divsteps", "3"]
    mats = [Material("water", thickness_mm=0.1), Material("air", thickness_mm=50, density=0.0012,
                                                          molecular_weight=28.97)]
    bragg = np.linspace(0, 50, 96 * 96, dtype=np.float32).reshape(96, 96)
    cpu = Background(args, mats).add_to(bragg.copy())
    gpu = Background(args, mats, backend="cuda").add_to(bragg.copy())
    assert np.array_equal(cpu.view(np.uint32), gpu.view(np.uint32))
