"""``nanobragg-ext info`` (info.py): version, the SIMD clone the loader picked on this CPU, OpenMP
threads, CUDA compiled, GPU usable or why not, and which optional packages are present."""
import importlib.util
import platform
import subprocess
import sys

import pytest

from nanobragg_ext import _core, info
from nanobragg_ext.backends import backends, cuda_unavailable_reason


def info_cli(env_blocked=None):
    code = "import sys; from nanobragg_ext.cli import main; sys.exit(main(['info']))"
    if env_blocked:  # hide one package from the child, as in test_extras.py
        code = (f"import sys; sys.modules[{env_blocked!r}] = None; " + code)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def test_simd_level_is_the_clone_this_cpu_gets():
    level = _core.simd_level()
    dispatching = (platform.machine() == "x86_64" and sys.platform.startswith("linux")
                   and _core.build_info()["compiler"].startswith("GNU"))
    if not dispatching:
        assert level == "baseline"
        return
    flags = cpu_flags()
    assert flags is not None, "x86-64 Linux without /proc/cpuinfo"
    expected = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else "default"
    assert level == expected


def test_info_reports_every_item():
    r = info_cli()
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.splitlines()[0] == f"nanobragg-ext {_core.build_info()['version']}"
    assert f"SIMD level in use: {_core.simd_level()}" in out
    threads = subprocess.run([sys.executable, "-c", "from nanobragg_ext import _core; print(_core.openmp_max_threads())"],
                             capture_output=True, text=True, timeout=60).stdout.strip()  # a fresh process's
    assert f"openmp: compiled in, {threads} threads" in out or "openmp: not compiled in" in out
    compiled = _core.build_info()["cuda_compiled"]
    assert f"cuda compiled: {'yes' if compiled else 'no'}" in out
    gpu = next(line for line in out.splitlines() if "GPU usable:" in line)
    if "cuda" in backends():
        assert "yes" in gpu
    else:  # the reason is given
        reason = cuda_unavailable_reason() if compiled else "was not compiled"
        assert gpu.split("GPU usable: ")[1].startswith("no: ") and reason in gpu
    for module, dist, _, extra in info.OPTIONAL_PACKAGES:
        line = next(line for line in out.splitlines() if line.split()[:1] == [dist])
        present = importlib.util.find_spec(module) is not None
        assert ("missing" in line) == (not present), line
        if not present and extra is not None:
            assert f"nanobragg-ext[{extra.split()[0]}]" in line


def test_info_names_a_missing_package_and_its_extra():
    pytest.importorskip("gemmi", reason="gemmi is in the [test] extra")
    r = info_cli(env_blocked="gemmi")
    assert r.returncode == 0, r.stderr
    line = next(line for line in r.stdout.splitlines() if line.split()[:1] == ["gemmi"])
    assert "missing (pip install 'nanobragg-ext[mtz]')" in line


def test_report_is_a_dict_of_the_same_facts():
    rep = info.report()
    assert rep["simd_level"] == _core.simd_level()
    assert rep["openmp_threads"] == _core.openmp_max_threads() >= 1
    assert rep["gpu_usable"] == ("cuda" in backends())
    assert set(rep["packages"]) == {dist for _, dist, _, _ in info.OPTIONAL_PACKAGES}
