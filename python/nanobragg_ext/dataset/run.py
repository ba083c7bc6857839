"""A dataset: one base config, a series of frames over it and the frame type; ``write`` renders
the frames a file still lacks (in this process or on a Dask cluster) and stores each as it arrives.

The client process owns the output: workers return arrays, the client writes each frame (and its
CBF) as it comes in, flushes, then flags it written. Nothing is created before the cluster is
there and every optional package the run needs has imported.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
import uuid
from typing import Callable, List, Optional, Tuple

import numpy as np

from .frames import FrameRenderer, Job
from .series import FrameSpec, RotationSweep, Series, StillSeries

__all__ = ["Dataset", "simulate_dataset"]


def _log_warning(message: str) -> None:
    logging.getLogger(__name__).warning("dataset: %s", message)


class Dataset:
    """A series of frames over one base config.

    Parameters
    ----------
    config : config.SimulationConfig
        The base run (detector, beam, crystal, structure factors, sampling).
    series : RotationSweep or StillSeries
    counts : {None, "uint16", "int32"}
        None: float32 photons per pixel (default). "uint16": nanoBragg's noise image (Poisson +
        ADC offset, clipped at 65535); "int32": Poisson + ADC offset, no 16-bit ceiling.
    detector : detector.panels.Detector, optional
        A multi-panel detector (a .geom, .expt or preset) instead of the config's one panel; a
        frame is then the panels one after the other along slow (formats/nxmx.py's layout).
    background : background.Background, optional
        Amorphous backgrounds added to every frame's photons (the stage of ``nanobragg-ext
        compose``; its detector must have the frames' size). Its materials that give no
        wavelength follow the frames' spectrum, frame by frame for SASE shots (docs/spectra.md).
    response : noisify.DetectorResponse, optional
        noisify's detector chain applied to every frame (with ``counts=None``): frames are its
        noise image (uint16, or uint32 with bits=32), drawn from the frame's own noise seed, so
        frame i is the same whatever the workers. Binning is not supported here.

    A config with a SASE spectrum (``sase_bandwidth_percent``) gives frame i its own spectrum,
    seeded ``sase_seed + i``; the file records each frame's wavelengths and weights.

    Examples
    --------
    >>> from nanobragg_ext.config import SimulationConfig
    >>> cfg = SimulationConfig.from_cli_args("-cell 60 60 60 90 90 90 -default_F 10 -N 3 -detpixels 16".split())
    >>> ds = Dataset(cfg, StillSeries(count=3, seed=7))
    >>> len(ds), ds.frame(1) == Dataset(cfg, StillSeries(count=3, seed=7)).frame(1)
    (3, True)
    """

    def __init__(self, config, series: Series, counts: Optional[str] = None, detector=None, background=None,
                 response=None):
        from .. import api
        from ..config import SimulationConfig

        if not isinstance(config, SimulationConfig):
            raise TypeError(f"config must be a SimulationConfig, got {type(config).__name__}")
        if not isinstance(series, (RotationSweep, StillSeries)):
            raise TypeError(f"series must be a RotationSweep or StillSeries, got {type(series).__name__}")
        if counts not in (None, "uint16", "int32"):
            raise ValueError(f"counts must be None, 'uint16' or 'int32', got {counts!r}")
        _check_stages(counts, background, response)
        # The config's noise seed is not used (each frame has its own), and -misset_seed is not
        # read unless the misset is random: drop both so the recorded configuration is exact and
        # a resumed run, parsed again from the same flags, compares equal.
        config = config.replace(noise_seed=None)
        if config.crystal.misset_deg != "random":
            config = config.replace(crystal={"misset_seed": None})
        self.config = config
        self.series = series
        self.counts = counts
        self.detector = detector
        self.background, self.response = background, response
        # Loads the structure factors once; the workers build their Simulator from the table itself
        # (it travels in memory, pickled), not from the files.
        self._base_sim = api.Simulator(config, threads=1)
        table = self._base_sim.structure_factors
        self._job_config = config.replace(structure_factors=table, hkl_file=None, dump_file=None)
        # The base crystal axes (Angstrom, after misset) the stills rotate.
        self.axes_A = np.array([self.prepared.crystal[k] for k in "abc"]) * 1e10
        if config.crystal.orientation is not None:
            self.axes_A = np.asarray(config.crystal.orientation, dtype=np.float64)
        self._local: Optional[FrameRenderer] = None
        self._setup = None
        self.last_renderers: set = set()
        if background is not None and tuple(background.shape) != tuple(self.shape):
            raise ValueError(f"background of {background.shape[1]}x{background.shape[0]} pixels for frames of "
                             f"{self.shape[1]}x{self.shape[0]}")
        self._request = config.to_request()
        base_spectrum = self.frame_spectrum(0)
        #: Wavelengths per frame in the file (0: the config's single wavelength).
        self.spectrum_lines = 0 if base_spectrum is None else len(base_spectrum)

    def __len__(self) -> int:
        return len(self.series)

    @property
    def prepared(self):
        """The base run's prepared state (geometry, crystal, flux): what the file's metadata is from."""
        return self._base_sim.prepared

    @property
    def mask(self) -> Optional[np.ndarray]:
        """The -mask pixels (uint16, 0 = masked) or None."""
        return self._base_sim.mask

    @property
    def shape(self) -> Tuple[int, int]:
        """(slow, fast) frame shape (rows, columns of the panel layout for a multi-panel detector)."""
        if self.detector is not None:
            from ..formats.nxmx import layout_shape

            return layout_shape(self.detector)
        return self._base_sim.shape

    @property
    def setup(self):
        """What the files record besides the pixels (``formats.setup.Setup``): detector, beam, spindle."""
        if self._setup is None:
            from ..formats.setup import Setup

            self._setup = Setup.of_run(self.prepared, self.detector)
        return self._setup

    @property
    def dtype(self) -> np.dtype:
        if self.response is not None:
            return np.dtype(np.uint32 if self.response.params.bits == 32 else np.uint16)
        return np.dtype(np.float32 if self.counts is None else self.counts)

    def frame(self, index: int) -> FrameSpec:
        """The description of frame index (0 <= index < len)."""
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} out of range (0..{len(self) - 1})")
        spec = self.series.frame(int(index), self)
        if self.config.beam.sase_bandwidth_percent is not None:
            spec = dataclasses.replace(spec, sase_seed=int(self.config.beam.sase_seed) + int(index))
        return spec

    def frame_spectrum(self, index: int):
        """Frame index's spectra.Spectrum (the config's, or its own SASE draw), None without one."""
        from ..pipeline import no_note, spectrum_of

        seed = None if self.config.beam.sase_bandwidth_percent is None else int(self.config.beam.sase_seed) + index
        return spectrum_of(self._request, seed, warn=no_note)

    def frame_spectra(self) -> dict:
        """The file's per-frame spectra for the NXmx writer: wavelengths_A and weights, each of
        shape (frames, lines), every frame's weights summing to 1; {} without a spectrum."""
        if not self.spectrum_lines:
            return {}
        spectra = [self.frame_spectrum(i) for i in range(len(self))]
        weights = np.array([s.weights for s in spectra], dtype=np.float64)
        return {"wavelengths_A": np.array([s.wavelengths_A for s in spectra], dtype=np.float64),
                "weights": weights / weights.sum(axis=1, keepdims=True)}

    def job(self, threads: int, token: Optional[str] = None) -> Job:
        """The run description every worker renders from."""
        roi = self.prepared.geometry["roi"] if self.detector is None else (0, self.shape[1] - 1, 0, self.shape[0] - 1)
        return Job(token or uuid.uuid4().hex, self._job_config, int(threads), self.counts,
                   tuple(int(x) for x in roi), self.detector, self.background, self.response)

    def render_frame(self, index: int, threads: int = 0) -> np.ndarray:
        """Frame index rendered here (float32 photons, or counts), as a worker renders it."""
        if self._local is None or self._local.job.threads != threads:
            self._local = FrameRenderer(self.job(threads, "local"))
        return self._local.frame(self.frame(index))

    def description(self) -> dict:
        """The exact configuration: nanoBragg flags (to_cli_args), series, frame type and shape."""
        from .. import __version__

        try:
            args: Optional[List[str]] = self.config.to_cli_args()
            note = None
        except ValueError as e:  # an in-memory table or orientation has no flag
            args, note = None, str(e)
        d = {"program": "nanobragg-ext", "version": __version__, "cli_args": args,
             "series": self.series.describe(), "counts": self.counts, "dtype": self.dtype.name,
             "shape": list(self.shape)}
        if self.background is not None or self.response is not None:
            d["stages"] = describe_stages(self.background, self.response)
        if note:
            d["cli_args_note"] = note
        if self.detector is not None:
            from ..detector.crystfel_geom import geom_text

            d["detector_geom"] = geom_text(self.detector)
        return d

    def write(self, path: str, *, workers: int = 1, client=None, scheduler: Optional[str] = None,
              threads: Optional[int] = None, cbf_dir: Optional[str] = None, overwrite: bool = False,
              max_in_flight: Optional[int] = None, max_frames: Optional[int] = None,
              progress: Optional[Callable[[int, int], None]] = None, timeout: float = 30.0,
              notify: Optional[Callable[[str], None]] = None) -> dict:
        """Render every frame not yet in path and write it there (NeXus/NXmx HDF5).

        Parameters
        ----------
        path : str
            The HDF5 file; if it exists with the same description, frames already flagged
            ``written`` are skipped (resume). A JSON sidecar ``<path without .h5>.json`` holds
            the description.
        workers : int
            Local Dask worker processes (threads_per_worker=1) when neither client nor scheduler
            is given; 0 renders in this process without Dask.
        client : distributed.Client, optional
            Use this cluster (it stays open).
        scheduler : str, optional
            Address of a running Dask scheduler, e.g. "tcp://10.0.0.1:8786". Workers must be able
            to import nanobragg_ext and read the -mat/-sourcefile/-mask files (structure factors
            travel with the run description).
        threads : int, optional
            OpenMP threads per frame; default: this machine's cores / workers for a local
            cluster, all cores of the worker otherwise.
        cbf_dir : str, optional
            Also write one CBF per frame there (``<stem>_00001.cbf``, 1-based), via fabio.
        overwrite : bool
            Start afresh even if path holds a different or partial dataset.
        max_in_flight : int, optional
            Frames submitted but not yet written (bounds memory); default 2 per worker thread + 1.
        max_frames : int, optional
            Stop after writing this many new frames (the rest stay for a resume).
        progress : callable(done, total), optional
            Called after each frame is written (done counts skipped frames too).
        timeout : float
            Seconds to wait for the scheduler, for a first worker, and for any worker at all
            during the run, before giving up (ClusterError).
        notify : callable(str), optional
            Told about a lost worker (default: a warning from the logging module, on stderr unless
            logging is set up otherwise).

        Returns
        -------
        dict
            frames, written, skipped, seconds (rendering and writing, after startup),
            startup_seconds, frames_per_s, workers, workers_lost.

        Raises
        ------
        cluster.ClusterError
            The scheduler cannot be reached or has no workers (nothing is written).
        cluster.FrameError
            A frame failed on every attempt: the run stops, the frames written are kept.
        """
        from .cbf import check_cbf, require_fabio, write_cbf
        from .cluster import connect, render_on_cluster, require_distributed
        from .nexus import NXmxWriter, require_h5py

        t_start = time.perf_counter()
        serial = workers == 0 and client is None and scheduler is None
        require_h5py()
        if cbf_dir is not None:
            require_fabio()
            check_cbf(self)
        if not serial:
            require_distributed()
        n = len(self)
        own = []  # clusters/clients we started and must close
        written = skipped = lost = 0
        writer = None
        try:
            if not serial:  # before any file: an unreachable cluster leaves nothing behind
                client, nworkers, nthreads = connect(client, scheduler, workers, timeout, own)
            writer = NXmxWriter(path, self, overwrite=overwrite, **self.frame_spectra())
            todo = [i for i in range(n) if not writer.written[i]]
            skipped = n - len(todo)
            if max_frames is not None:
                todo = todo[:max(0, int(max_frames))]
            if progress is not None:
                progress(skipped, n)
            if cbf_dir is not None:
                os.makedirs(cbf_dir, exist_ok=True)
            stem = os.path.splitext(os.path.basename(path))[0]

            def store(index: int, frame: np.ndarray) -> None:
                nonlocal written
                if writer.written[index]:  # never twice, whatever the cluster sends
                    return
                if cbf_dir is not None:  # before the flag: a flagged frame has its CBF
                    write_cbf(os.path.join(cbf_dir, f"{stem}_{index + 1:05d}.cbf"), frame, self, index)
                writer.set_frame_meta(self.frame(index))
                writer.write(index, frame)
                written += 1
                if progress is not None:
                    progress(skipped + written, n)

            if serial:
                t0 = time.perf_counter()
                r = FrameRenderer(self.job(0 if threads is None else int(threads)))
                for i in todo:
                    store(i, r.frame(self.frame(i)))
                nworkers = 0
                self.last_renderers = {(os.getpid(), r.id)}
            else:
                if threads is None:
                    threads = max(1, (os.cpu_count() or 1) // max(1, workers)) if own and scheduler is None else 0
                t0 = time.perf_counter()
                self.last_renderers, lost = render_on_cluster(
                    client, self.job(threads), self.frame, todo, store, max_in_flight or 2 * nthreads + 1,
                    timeout, notify or _log_warning)
            writer.finish(complete=writer.all_written())
        finally:
            if writer is not None:
                writer.close()
            for thing in own:
                try:
                    thing.close()
                except Exception:  # closing a cluster that is shutting down anyway
                    pass
        t_end = time.perf_counter()
        seconds = t_end - t0
        return {"frames": n, "written": written, "skipped": skipped, "seconds": seconds,
                "startup_seconds": t0 - t_start, "frames_per_s": written / seconds if seconds > 0 else 0.0,
                "workers": nworkers, "workers_lost": lost}


def _check_stages(counts, background, response) -> None:
    from ..background import Background
    from ..noisify import DetectorResponse

    if background is not None and not isinstance(background, Background):
        raise TypeError(f"background must be a background.Background, got {type(background).__name__}")
    if response is not None and not isinstance(response, DetectorResponse):
        raise TypeError(f"response must be a noisify.DetectorResponse, got {type(response).__name__}")
    if response is not None and counts is not None:
        raise ValueError("counts and response both turn photons into counts: give one")
    if response is not None and response.params.binning != 1:
        raise ValueError("a dataset's response stage cannot bin pixels (binning must be 1)")


def describe_stages(background, response) -> dict:
    """What the stages do, for the file's description (a resumed run must have the same)."""
    d = {}
    if background is not None:
        d["background"] = background.groups
    if response is not None:
        p = response.params
        d["response"] = {name: (int(v) if name == "psf_type" else v) for name, v in
                         ((n, getattr(p, n)) for n in RESPONSE_FIELDS)}
    return d


RESPONSE_FIELDS = ("photon_factor", "gain", "adc", "readout", "flicker", "calibration", "calib_idum", "psf_type",
                   "psf_fwhm_pixels", "psf_radius", "bits", "corrected", "binning", "saturation", "hot_fraction",
                   "dead_fraction", "hot_seed", "dead_seed")


def simulate_dataset(config, series: Series, path: str, counts: Optional[str] = None, **kwargs) -> dict:
    """Render a whole series into an NXmx file; ``Dataset(config, series, counts).write(path, **kwargs)``."""
    return Dataset(config, series, counts).write(path, **kwargs)
