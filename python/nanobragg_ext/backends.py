"""Which render backends this installation can use: "cpu" always, "cuda" when the `_cuda` module
was built, imports (CUDA runtime linked in statically) and the driver reports at least one device.

Examples
--------
>>> from nanobragg_ext.backends import backends
>>> backends()[0]
'cpu'
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import List, Optional

__all__ = ["backends", "cuda_available", "cuda_unavailable_reason", "cuda_status"]


_PROBED: list = []  # the (status, reason) of the one probe, once made


def _probe() -> tuple:
    """(status dict or None, reason string or None); probed once per process."""
    if not _PROBED:
        _PROBED.append(_probe_cuda())
    return _PROBED[0]


def _probe_cuda() -> tuple:
    try:
        from . import _cuda  # noqa: WPS433 -- optional native module
    except (ImportError, OSError) as exc:  # not built (NANOBRAGG_CUDA=OFF) or cannot load
        return None, f"nanobragg_ext._cuda is not available ({exc}); build with -DNANOBRAGG_CUDA=ON"
    try:
        status = dict(_cuda.runtime_status())
    except Exception as exc:  # defensive: the probe itself must never raise
        return None, f"CUDA runtime query failed: {exc}"
    if status.get("device_count", 0) <= 0:
        return status, f"no usable CUDA device ({status.get('error') or 'none visible'})"
    return status, None


def cuda_status() -> Optional[dict]:
    """The CUDA runtime's report (device_count, runtime_version, driver_version, error), or None
    when the `_cuda` module is not available."""
    status, _ = _probe()
    return None if status is None else dict(status)


def cuda_unavailable_reason() -> Optional[str]:
    """Why "cuda" is not in backends(), or None when it is."""
    return _probe()[1]


def cuda_available() -> bool:
    """True when the `_cuda` module imports and at least one CUDA device is usable."""
    return _probe()[1] is None


def backends() -> List[str]:
    """Backends usable here, in order of preference for "auto": ["cpu"] or ["cpu", "cuda"]."""
    return ["cpu", "cuda"] if cuda_available() else ["cpu"]
