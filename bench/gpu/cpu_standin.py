"""CPU stand-ins for CuPy and ``_cuda.DeviceSimulator``, for ``bench.py --cpu-only``: every section's
own logic (preparation, budgets, the official port's parsing, the JSON and its headline) runs on a
machine without a GPU before device time is spent on it. The times it yields are CPU times and say
nothing about a GPU.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

BACKEND = "cpu"  # what api.Simulator(cfg, backend=...) gets for the "GPU" side
DEVICE = "CPU stand-in (bench.py --cpu-only): no GPU used"


class DeviceArray(np.ndarray):
    """A host array with CuPy's get(out=...)."""

    def get(self, out=None):
        if out is None:
            return np.array(self)
        out[...] = self
        return out


class Stream:
    def __init__(self, non_blocking: bool = False):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        pass


class Event:
    """Wall clock at record(): the stand-in's renders are synchronous."""

    def __init__(self):
        self.t = None

    def record(self, stream=None):
        self.t = time.perf_counter()

    def synchronize(self):
        pass


def _full(shape, value, dtype=np.float64):
    return np.full(shape, value, dtype=dtype).view(DeviceArray)


def _empty(shape, dtype=np.float64):
    return np.empty(shape, dtype=dtype).view(DeviceArray)


cupy = SimpleNamespace(
    full=_full, empty=_empty, asnumpy=np.array,
    cuda=SimpleNamespace(Stream=Stream, Event=Event, alloc_pinned_memory=bytearray,
                         get_elapsed_time=lambda start, end: (end.t - start.t) * 1e3),
)


class DeviceSimulator:
    """``_cuda.DeviceSimulator``'s interface, rendering on the CPU when asked to."""

    def __init__(self, sim, precision: str = "double", device: int = -1):
        g = sim.prepared.geometry
        self._sim, self.precision, self.device = sim, precision, device
        self.shape = (g["spixels"], g["fpixels"])
        self.device_bytes = 0
        self._stats = None

    def render(self, out, stream=None):
        self._stats = self._sim.render(out, self.precision)

    def wait(self):
        return self._stats

    def render_to_host(self, out):
        self.render(out)
        return self.wait()
