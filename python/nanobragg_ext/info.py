"""``nanobragg-ext info``: what this installation has and will use.

Version and compiler, the SIMD level of the CPU renderer on this machine (the runtime-dispatch
clone the loader picked), OpenMP threads, whether the CUDA module was compiled, whether a GPU is
usable (and why not), and which optional packages (extras) are present.

Examples
--------
>>> from nanobragg_ext.info import report
>>> report()["simd_level"] in ("avx512f", "avx2", "default", "baseline")
True
"""
from __future__ import annotations

import importlib.util

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import Dict, List, Optional

__all__ = ["report", "lines", "OPTIONAL_PACKAGES"]

# (module, distribution, what it gives, the extra that installs it; None: an alternative only)
OPTIONAL_PACKAGES = (
    ("PIL", "Pillow", "-pngfile / write_png", "png"),
    ("matplotlib", "matplotlib", "-pngfile without Pillow", None),
    ("gemmi", "gemmi", "MTZ/mmCIF structure factors, nanobragg-ext hkl", "mtz"),
    ("dask", "dask", "nanobragg-ext dataset", "dataset"),
    ("distributed", "distributed", "nanobragg-ext dataset (workers)", "dataset"),
    ("h5py", "h5py", "nanobragg-ext dataset (NeXus/HDF5)", "dataset"),
    ("hdf5plugin", "hdf5plugin", "nanobragg-ext dataset (compression)", "dataset"),
    ("fabio", "fabio", "nanobragg-ext dataset --cbf", "dataset"),
    ("cupy", "cupy", "CuPy arrays on the GPU", "cuda13 or cuda12"),
)


def _version(module: str, dist: str) -> Optional[str]:
    """The installed version, or None when the module cannot be found (nothing is imported)."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "present"
    names = (dist, "cupy-cuda13x", "cupy-cuda12x") if module == "cupy" else (dist,)
    for name in names:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "present"


def report() -> Dict[str, object]:
    """Everything ``info`` prints, as a dict."""
    from . import _core
    from .backends import cuda_status, cuda_unavailable_reason

    build = dict(_core.build_info())
    status = cuda_status() if build["cuda_compiled"] else None
    return {
        **build,
        "simd_level": _core.simd_level(),
        "openmp_threads": _core.openmp_max_threads(),
        "gpu_usable": build["cuda_compiled"] and cuda_unavailable_reason() is None,
        "gpu_reason": None if not build["cuda_compiled"] else cuda_unavailable_reason(),
        "gpu_devices": 0 if status is None else int(status.get("device_count", 0)),
        "packages": {dist: _version(mod, dist) for mod, dist, _, _ in OPTIONAL_PACKAGES},
    }


def lines(r: Optional[dict] = None) -> List[str]:
    """The text of ``nanobragg-ext info``."""
    r = report() if r is None else r
    if not r["cuda_compiled"]:
        gpu = "no: the CUDA module was not compiled (needs nvcc at build time)"
    elif r["gpu_usable"]:
        gpu = f"yes ({r['gpu_devices']} device{'s' if r['gpu_devices'] != 1 else ''}; -device cuda)"
    else:
        gpu = f"no: {r['gpu_reason']}"
    out = [
        f"nanobragg-ext {r['version']}",
        f"  compiler: {r['compiler']}",
        f"  SIMD level in use: {r['simd_level']} " + ("(no runtime dispatch in this build)" if r["simd_level"] == "baseline"
                                                      else "(runtime dispatch over avx512f, avx2, default)"),
        f"  openmp: {'compiled in' if r['openmp'] else 'not compiled in (serial)'}, "
        f"{r['openmp_threads']} threads (OMP_NUM_THREADS or -threads N to change)",
        f"  cuda compiled: {'yes' if r['cuda_compiled'] else 'no'}",
        f"  GPU usable: {gpu}",
        "  optional packages:",
    ]
    for mod, dist, what, extra in OPTIONAL_PACKAGES:
        v = r["packages"][dist]
        if v:
            state = v
        elif extra is None:
            state = "missing (an alternative to the package above)"
        else:
            state = f"missing (pip install 'nanobragg-ext[{extra.split()[0]}]')"
        out.append(f"    {dist:<12} {state:<50} {what}")
    return out
