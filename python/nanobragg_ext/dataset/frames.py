"""Rendering one frame, in a worker or in the client (``workers=0``).

Each worker process builds one :class:`api.Simulator` per run (structure factors, detector and
sources prepared once) and re-runs it per frame through :meth:`api.Simulator.run` with the frame's
spindle range, orientation, crystal size and mosaic seed. The run description (:class:`Job`)
holds everything a worker needs. On a cluster the scheduler keeps it for the run and each worker
fetches it with its first task of the run, so any worker, including one that joined after another
was lost, builds the renderer from it; tasks carry only the run's token and their :class:`FrameSpec`.
"""
from __future__ import annotations

import os
import pickle
import threading
import uuid
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from .series import FrameSpec

__all__ = ["Job", "FrameRenderer", "FrameFailure", "job_key", "render_task"]


@dataclass(frozen=True)
class Job:
    """What every task of one run shares."""

    token: str              # tells runs apart (a worker keeps one renderer per run)
    config: object          # SimulationConfig, structure factors in memory
    threads: int            # OpenMP threads per frame (0: all)
    counts: Optional[str]   # None: float32 photons; "uint16" / "int32": noisy counts
    roi: Tuple[int, int, int, int]  # the detector's resolved region (xmin, xmax, ymin, ymax)
    detector: object = None  # a multi-panel detector.panels.Detector (None: the config's one panel)
    background: object = None  # background.Background added to each frame's photons, or None
    response: object = None    # noisify.DetectorResponse turning them into counts, or None


@dataclass(frozen=True)
class FrameFailure:
    """A frame task that raised: returned rather than raised, so the client knows which worker
    failed it and can try another one."""

    index: int
    worker: Optional[str]   # worker address (None: the task itself erred, seen by the client)
    cause: str              # "ExceptionType: message"


class FrameRenderer:
    """One Simulator (structure factors, detector, sources prepared once) re-run per frame."""

    def __init__(self, job: Job):
        from .. import api

        self.job = job
        # float32 is what the file stores: the renderer writes it directly (rounded once per pixel).
        self.sim = api.Simulator(job.config, dtype=np.float32, threads=job.threads)
        self.id = uuid.uuid4().hex  # tells the client which Simulator rendered a frame
        self._request = job.config.to_request()  # the spectrum options of every frame's spectrum
        # The backgrounds follow the Bragg spectrum (docs/spectra.md). Without per-frame SASE
        # shots they are the same in every frame: rendered once, added per frame as the
        # Background stage adds them (one float32 image per material, in order).
        self._backgrounds = []
        if job.background is not None and job.config.beam.sase_bandwidth_percent is None:
            from ..pipeline import no_note, spectrum_of

            self._backgrounds = job.background.material_images(spectrum_of(self._request, warn=no_note))

    def spectrum(self, spec: FrameSpec):
        """The frame's spectra.Spectrum (its own SASE seed), or None for the config's."""
        from ..pipeline import spectrum_of

        return None if spec.sase_seed is None else spectrum_of(self._request, spec.sase_seed)

    def photons(self, spec: FrameSpec) -> np.ndarray:
        """Photons per pixel (float32, as nanoBragg's floatimage.bin) of one frame, with the
        backgrounds added; for a multi-panel detector its panels in the file's layout (formats/nxmx.py)."""
        spectrum = self.spectrum(spec)
        args = dict(phi_start_deg=spec.phi_start_deg, osc_deg=spec.osc_deg, orientation=spec.orientation,
                    mosaic_seed=spec.mosaic_seed, n_cells=spec.n_cells, size_mm=spec.size_mm, spectrum=spectrum)
        if self.job.detector is None:
            image = self.sim.run(**args)
        else:
            from ..formats.nxmx import to_layout

            image = to_layout(self.job.detector, self.sim.run_detector(self.job.detector, **args))
        backgrounds = self._backgrounds
        if spectrum is not None and self.job.background is not None:  # rendered for this frame's SASE shot
            backgrounds = self.job.background.material_images(spectrum)
        for material in backgrounds:
            image += material
        return image

    def counts(self, image32: np.ndarray, spec: FrameSpec) -> np.ndarray:
        """Noisy detector counts of one frame (uint16 or int32, ADC offset added)."""
        from .. import api
        from ..outputs import roi_mask

        if self.job.response is not None:
            # noisify's chain with the frame's own seed: the same draws whatever the worker.
            return self.job.response.apply(image32, seed=spec.noise_seed)
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
        return image if self.job.counts is None and self.job.response is None else self.counts(image, spec)


def job_key(token: str) -> str:
    """Where the scheduler keeps the run description of token (scheduler metadata)."""
    return f"nanobragg-ext-job-{token}"


def _fetch_job(token: str) -> Job:
    """The run description of token, from the scheduler, where the client left it for the run."""
    from distributed import get_worker
    from distributed.utils import sync

    w = get_worker()
    payload = sync(w.loop, w.scheduler.get_metadata, keys=[job_key(token)], default=None)
    if payload is None:
        raise RuntimeError("the scheduler holds no description of this run (it has ended)")
    return pickle.loads(payload)


_RENDERERS: Dict[int, FrameRenderer] = {}


def _renderer(token: str) -> FrameRenderer:
    """This thread's renderer for the run token: one per worker process with threads_per_worker=1,
    built from the run description the first time a task of the run comes to the thread."""
    key = threading.get_ident()
    hit = _RENDERERS.get(key)
    if hit is None or hit.job.token != token:
        _RENDERERS.pop(key, None)  # an older run's: let it go before building the new one
        _RENDERERS[key] = hit = FrameRenderer(_fetch_job(token))
    return hit


def render_task(token: str, spec: FrameSpec):
    """The Dask task of one frame: (index, frame array, (pid, id of the Simulator that rendered it)),
    or a FrameFailure when rendering raised."""
    from distributed import get_worker

    try:
        r = _renderer(token)
        return spec.index, r.frame(spec), (os.getpid(), r.id)
    except Exception as e:  # MemoryError included: the client decides whether to try elsewhere
        return FrameFailure(spec.index, get_worker().address, f"{type(e).__name__}: {e}")
