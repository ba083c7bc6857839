"""Rendering one frame, in a worker or in the client (``workers=0``).

Each worker process builds one :class:`api.Simulator` per run (structure factors, detector and
sources prepared once) and re-runs it per frame through :meth:`api.Simulator.run` with the frame's
spindle range, orientation, crystal size and mosaic seed. The run description (:class:`Job`)
holds everything a worker needs, so any worker, including one that joined after another was lost,
builds the renderer from it; tasks carry only the run's token and the frame's :class:`FrameSpec`.
"""
from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from .series import FrameSpec

__all__ = ["Job", "FrameRenderer", "FrameFailure", "hold_job", "drop_job", "render_task"]


@dataclass(frozen=True)
class Job:
    """What every task of one run shares."""

    token: str              # tells runs apart (a worker keeps one renderer per run)
    config: object          # SimulationConfig, structure factors in memory
    threads: int            # OpenMP threads per frame (0: all)
    counts: Optional[str]   # None: float32 photons; "uint16" / "int32": noisy counts
    roi: Tuple[int, int, int, int]  # the detector's resolved region (xmin, xmax, ymin, ymax)


@dataclass(frozen=True)
class FrameFailure:
    """A frame task that raised: returned rather than raised, so the client knows which worker
    failed it and can try another one."""

    index: int
    worker: Optional[str]   # worker address (None in the client)
    cause: str              # "ExceptionType: message"


class FrameRenderer:
    """One Simulator (structure factors, detector, sources prepared once) re-run per frame."""

    builds = 0  # Simulators built in this process (the tests check reuse)

    def __init__(self, job: Job):
        from .. import api

        self.job = job
        # float32 is what the file stores: the renderer writes it directly (rounded once per pixel).
        self.sim = api.Simulator(job.config, dtype=np.float32, threads=job.threads)
        self.id = uuid.uuid4().hex  # tells the client which Simulator rendered a frame
        FrameRenderer.builds += 1

    def photons(self, spec: FrameSpec) -> np.ndarray:
        """Photons per pixel (float32, as nanoBragg's floatimage.bin) of one frame."""
        return self.sim.run(phi_start_deg=spec.phi_start_deg, osc_deg=spec.osc_deg, orientation=spec.orientation,
                            mosaic_seed=spec.mosaic_seed, n_cells=spec.n_cells, size_mm=spec.size_mm)

    def counts(self, image32: np.ndarray, spec: FrameSpec) -> np.ndarray:
        """Noisy detector counts of one frame (uint16 or int32, ADC offset added)."""
        from .. import api
        from ..outputs import roi_mask

        adc = self.job.config.adc
        if self.job.counts == "uint16":
            # nanoBragg's noise image: its Poisson generator and draw order, clipped to 65535.
            return api.add_noise(image32, spec.noise_seed, adc=adc, roi=self.job.roi)
        # int32: no 16-bit ceiling, so NumPy's Poisson from the frame's own noise seed.
        rng = np.random.default_rng(np.random.SeedSequence(int(spec.noise_seed)))
        out = rng.poisson(np.maximum(image32.astype(np.float64), 0.0)) + np.floor(adc + 0.5)
        out[~roi_mask(image32.shape, self.job.roi)] = 0
        return np.minimum(out, np.iinfo(np.int32).max).astype(np.int32)

    def frame(self, spec: FrameSpec) -> np.ndarray:
        image = self.photons(spec)
        return image if self.job.counts is None else self.counts(image, spec)


_RENDERERS: Dict[int, Tuple[str, FrameRenderer]] = {}


def _renderer(job: Job) -> FrameRenderer:
    """This thread's renderer for job: one per worker process with threads_per_worker=1."""
    key = threading.get_ident()
    hit = _RENDERERS.get(key)
    if hit is None or hit[0] != job.token:
        _RENDERERS[key] = hit = (job.token, FrameRenderer(job))  # replaces an older run's: bounded memory
    return hit[1]


# The run descriptions this process holds, by token. On a worker they arrive through the run's
# worker plugin (JobPlugin), which the scheduler keeps and hands to every worker that joins.
_JOBS: Dict[str, Job] = {}
_JOBS_CHANGED = threading.Condition()


def hold_job(job: Job) -> None:
    with _JOBS_CHANGED:
        _JOBS[job.token] = job
        _JOBS_CHANGED.notify_all()


def drop_job(token: str) -> None:
    with _JOBS_CHANGED:
        _JOBS.pop(token, None)
    for key, (held, _) in list(_RENDERERS.items()):
        if held == token:
            del _RENDERERS[key]


def _job(token: str, timeout: float) -> Job:
    """The run description of token; waits for it, since a worker that has just joined may
    receive its first task a moment before the scheduler's plugins are set up."""
    with _JOBS_CHANGED:
        if not _JOBS_CHANGED.wait_for(lambda: token in _JOBS, timeout):
            raise RuntimeError(f"the run description did not reach this worker within {timeout:g} s")
        return _JOBS[token]


JOB_WAIT_S = 60.0


def render_task(token: str, spec: FrameSpec):
    """The Dask task of one frame: (index, frame array, (pid, id of the Simulator that rendered it)),
    or a FrameFailure when rendering raised."""
    try:
        r = _renderer(_job(token, JOB_WAIT_S))
        return spec.index, r.frame(spec), (os.getpid(), r.id)
    except Exception as e:  # MemoryError included: the client decides whether to try elsewhere
        from distributed import get_worker

        try:
            worker = get_worker().address
        except ValueError:  # not in a worker
            worker = None
        return FrameFailure(spec.index, worker, f"{type(e).__name__}: {e}")
