"""Whole datasets: a rotation sweep or a series of randomly oriented stills over one base config,
rendered frame by frame on Dask (one task per frame) and written to a NeXus/NXmx HDF5 file.

A series (:class:`RotationSweep` or :class:`StillSeries`) turns a frame index into a
:class:`FrameSpec` (spindle range, crystal orientation and size, mosaic and noise seeds) that
depends only on the series and the index, so frame i is the same image whatever the number of
workers or the order frames finish in. Per-frame random draws come from
``numpy.random.SeedSequence(seed, spawn_key=(i,))``, which is ``SeedSequence(seed).spawn(n)[i]``.

The client process owns the HDF5 file: workers return arrays, the client writes each frame as it
arrives (one chunk per frame, bitshuffle+LZ4 from hdf5plugin), flushes, then sets the frame's
``written`` flag. A run that is interrupted resumes by skipping flagged frames.

Examples
--------
>>> from nanobragg_ext.config import SimulationConfig
>>> from nanobragg_ext.dataset import Dataset, RotationSweep
>>> cfg = SimulationConfig.from_cli_args("-cell 60 60 60 90 90 90 -default_F 10 -N 3 -detpixels 16".split())
>>> ds = Dataset(cfg, RotationSweep(start_deg=0, width_deg=0.5, frames=4))
>>> ds.frame(2).phi_start_deg, ds.frame(2).osc_deg
(1.0, 0.5)
>>> ds.render_frame(2).shape
(16, 16)
"""
from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["RotationSweep", "StillSeries", "FrameSpec", "Dataset", "simulate_dataset", "read_frame", "main"]

# nanoBragg's lab frame (beam along +x, y up, spindle along +z) to NeXus McStas (beam along +z,
# y up, x completing a right-handed set): (x, y, z)_McStas = (-z, y, x)_nanoBragg. This is the
# DIALS frame nanoBragg prints as "dials origin" (z, y, -x) turned 180 degrees about y.
TO_MCSTAS = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])

_SEED_MAX = 2**31 - 1  # nanoBragg seeds are C longs fed to ran1(); keep them positive 31-bit
MASKED = np.uint32(1 << 8)  # NXdetector pixel_mask bit 8: "user defined mask" (-mask zeros, outside -roi)


# ---------------------------------------------------------------------------------------------
# series descriptions


@dataclass(frozen=True)
class FrameSpec:
    """Everything that makes frame ``index`` differ from the base config.

    Parameters
    ----------
    index : int
        Frame number, 0-based.
    phi_start_deg : float
        Spindle angle at the start of the exposure, degrees.
    osc_deg : float or None
        Oscillation range, degrees (None: a still, as the config's ``osc_deg``).
    orientation : 3x3 tuple or None
        Real-space axes a, b, c (rows, Angstrom, nanoBragg lab frame at phi = 0, before mosaic);
        None keeps the config's orientation (cell + misset or matrix).
    n_cells : (Na, Nb, Nc) or None
        Crystal size in unit cells; None keeps the config's.
    size_mm : (x, y, z) or None
        Crystal size, mm (only when the config gives one); None keeps the config's.
    mosaic_seed : int
        Seed of the mosaic domain draws.
    noise_seed : int
        ``-seed`` of this frame's Poisson noise.
    """

    index: int
    phi_start_deg: float
    osc_deg: Optional[float]
    orientation: Optional[Tuple[Tuple[float, float, float], ...]]
    n_cells: Optional[Tuple[int, int, int]]
    size_mm: Optional[Tuple[float, float, float]]
    mosaic_seed: int
    noise_seed: int


def _frame_rng(seed: int, index: int) -> np.random.Generator:
    """Frame index's own generator: SeedSequence(seed).spawn(n)[index], without spawning n."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(index),)))


def random_rotation(u: Sequence[float]) -> np.ndarray:
    """Uniformly distributed rotation matrix from three uniform numbers in [0, 1) (Shoemake 1992)."""
    u1, u2, u3 = (float(x) for x in u)
    a, b = math.sqrt(1.0 - u1), math.sqrt(u1)
    w, x, y, z = a * math.sin(2 * math.pi * u2), a * math.cos(2 * math.pi * u2), \
        b * math.sin(2 * math.pi * u3), b * math.cos(2 * math.pi * u3)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


@dataclass(frozen=True)
class RotationSweep:
    """A rotation series: frame i covers [start + i*width, start + (i+1)*width) about the spindle.

    Parameters
    ----------
    start_deg : float
        Spindle angle at the start of frame 0, degrees.
    width_deg : float
        Oscillation per frame, degrees (> 0).
    frames : int
        Number of frames.
    seed : int
        Dataset seed; only the per-frame noise seeds derive from it (the crystal, including its
        mosaic domains, is the config's for every frame).
    """

    start_deg: float
    width_deg: float
    frames: int
    seed: int = 0

    def __post_init__(self):
        if not (math.isfinite(self.start_deg) and math.isfinite(self.width_deg) and self.width_deg > 0):
            raise ValueError(f"RotationSweep: start must be finite and width > 0, got {self.start_deg}, {self.width_deg}")
        if isinstance(self.frames, bool) or int(self.frames) != self.frames or self.frames < 1:
            raise ValueError(f"RotationSweep.frames must be an integer >= 1, got {self.frames!r}")

    def __len__(self) -> int:
        return int(self.frames)

    def describe(self) -> dict:
        return {"kind": "sweep", "start_deg": float(self.start_deg), "width_deg": float(self.width_deg),
                "frames": int(self.frames), "seed": int(self.seed)}

    def frame(self, index: int, base) -> FrameSpec:
        rng = _frame_rng(self.seed, index)
        noise_seed = int(rng.integers(1, _SEED_MAX))
        return FrameSpec(index, float(self.start_deg) + index * float(self.width_deg), float(self.width_deg),
                         None, None, None, int(base.config.crystal.mosaic_seed), noise_seed)


@dataclass(frozen=True)
class StillSeries:
    """Stills of randomly oriented crystals: a different crystal (orientation, mosaic draw, and
    optionally cell and size) per frame, all drawn from ``seed``.

    Parameters
    ----------
    count : int
        Number of frames.
    seed : int
        Dataset seed; frame i's draws use ``SeedSequence(seed).spawn(count)[i]``.
    jitter_cell_percent : float
        Standard deviation of the per-frame scale of each cell edge a, b, c, percent (angles kept).
    jitter_size_percent : float
        Standard deviation of the per-frame scale of the crystal size along each axis, percent;
        Na, Nb, Nc are rounded to whole cells (at least 1), a size in mm scales continuously.
    """

    count: int
    seed: int
    jitter_cell_percent: float = 0.0
    jitter_size_percent: float = 0.0

    def __post_init__(self):
        if isinstance(self.count, bool) or int(self.count) != self.count or self.count < 1:
            raise ValueError(f"StillSeries.count must be an integer >= 1, got {self.count!r}")
        for n in ("jitter_cell_percent", "jitter_size_percent"):
            v = getattr(self, n)
            if not (math.isfinite(v) and 0 <= v < 100):
                raise ValueError(f"StillSeries.{n} must be in [0, 100), got {v!r}")

    def __len__(self) -> int:
        return int(self.count)

    def describe(self) -> dict:
        return {"kind": "stills", "count": int(self.count), "seed": int(self.seed),
                "jitter_cell_percent": float(self.jitter_cell_percent),
                "jitter_size_percent": float(self.jitter_size_percent)}

    def frame(self, index: int, base) -> FrameSpec:
        rng = _frame_rng(self.seed, index)
        # Always draw everything in this order, so turning a jitter on leaves orientations unchanged.
        rot = random_rotation(rng.random(3))
        g_cell = rng.standard_normal(3)
        g_size = rng.standard_normal(3)
        mosaic_seed = int(rng.integers(1, _SEED_MAX))
        noise_seed = int(rng.integers(1, _SEED_MAX))
        # A factor near 0 would make a degenerate crystal; 5% of nominal is far beyond any sane jitter.
        f_cell = np.maximum(1.0 + g_cell * self.jitter_cell_percent / 100.0, 0.05)
        f_size = np.maximum(1.0 + g_size * self.jitter_size_percent / 100.0, 0.05)
        axes = base.axes_A * f_cell[:, None] if self.jitter_cell_percent else base.axes_A
        axes = axes @ rot.T
        n_cells = size = None
        if self.jitter_size_percent:
            n_cells = tuple(max(1, int(round(n * f))) for n, f in zip(base.config.crystal.n_cells, f_size))
            if any(base.config.crystal.size_mm):
                size = tuple(float(s * f) for s, f in zip(base.config.crystal.size_mm, f_size))
        c = base.config.crystal
        return FrameSpec(index, float(c.phi_start_deg), c.osc_deg, tuple(tuple(float(x) for x in r) for r in axes),
                         n_cells, size, mosaic_seed, noise_seed)


Series = Union[RotationSweep, StillSeries]


# ---------------------------------------------------------------------------------------------
# rendering one frame (in a worker, or in the client for workers=0)


@dataclass
class _Job:
    """What every task of one run shares (scattered once to each worker)."""

    token: str
    config: object          # SimulationConfig, structure factors in memory
    threads: int
    counts: Optional[str]   # None: float32 photons; "uint16" / "int32": noisy counts


class _FrameRenderer:
    """One Simulator (structure factors, detector, sources prepared once) re-run per frame."""

    builds = 0  # Simulators built in this process (the tests check reuse)

    def __init__(self, job: _Job):
        from . import api

        self.job = job
        self.sim = api.Simulator(job.config, threads=job.threads)
        self.id = uuid.uuid4().hex  # tells the client which Simulator rendered a frame
        _FrameRenderer.builds += 1

    def render(self, spec: FrameSpec) -> np.ndarray:
        """Photons per pixel (float32, as nanoBragg's floatimage.bin) of one frame."""
        image = np.empty(self.sim.shape, dtype=np.float32)
        # Rendered in the config's precision and stored once as float32, as the CLI writes floatimage.bin.
        return self.sim.run(image, phi_start_deg=spec.phi_start_deg, osc_deg=spec.osc_deg,
                            mosaic_seed=spec.mosaic_seed, n_cells=spec.n_cells, size_mm=spec.size_mm,
                            orientation=spec.orientation)

    def counts(self, image32: np.ndarray, spec: FrameSpec) -> np.ndarray:
        """Noisy detector counts of one frame (uint16 or int32, ADC offset added)."""
        from . import api

        roi = self.sim.prepared.geometry["roi"]
        adc = self.job.config.adc
        if self.job.counts == "uint16":
            # nanoBragg's noise image: its Poisson generator and draw order, clipped to 65535.
            return api.add_noise(image32, spec.noise_seed, adc=adc, roi=roi)
        # int32: no 16-bit ceiling, so NumPy's Poisson from the frame's own noise seed.
        rng = np.random.default_rng(np.random.SeedSequence(int(spec.noise_seed)))
        out = rng.poisson(np.maximum(image32.astype(np.float64), 0.0)) + np.floor(adc + 0.5)
        from .outputs import roi_mask
        out[~roi_mask(image32.shape, roi)] = 0
        return np.minimum(out, np.iinfo(np.int32).max).astype(np.int32)

    def frame(self, spec: FrameSpec) -> np.ndarray:
        image = self.render(spec)
        return image if self.job.counts is None else self.counts(image, spec)


_RENDERERS: Dict[int, Tuple[str, _FrameRenderer]] = {}


def _renderer(job: _Job) -> _FrameRenderer:
    """This thread's renderer for job: one per worker process with threads_per_worker=1."""
    key = threading.get_ident()
    hit = _RENDERERS.get(key)
    if hit is None or hit[0] != job.token:
        _RENDERERS[key] = hit = (job.token, _FrameRenderer(job))  # replaces an older run's: bounded memory
    return hit[1]


def _render_task(job: _Job, spec: FrameSpec):
    """The Dask task: (index, frame array, (pid of the worker, id of the Simulator that rendered it))."""
    r = _renderer(job)
    return spec.index, r.frame(spec), (os.getpid(), r.id)


# ---------------------------------------------------------------------------------------------
# the dataset


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

    Examples
    --------
    >>> from nanobragg_ext.config import SimulationConfig
    >>> cfg = SimulationConfig.from_cli_args("-cell 60 60 60 90 90 90 -default_F 10 -N 3 -detpixels 16".split())
    >>> ds = Dataset(cfg, StillSeries(count=3, seed=7))
    >>> len(ds), ds.frame(1) == Dataset(cfg, StillSeries(count=3, seed=7)).frame(1)
    (3, True)
    """

    def __init__(self, config, series: Series, counts: Optional[str] = None):
        from . import api
        from .config import SimulationConfig

        if not isinstance(config, SimulationConfig):
            raise TypeError(f"config must be a SimulationConfig, got {type(config).__name__}")
        if not isinstance(series, (RotationSweep, StillSeries)):
            raise TypeError(f"series must be a RotationSweep or StillSeries, got {type(series).__name__}")
        if counts not in (None, "uint16", "int32"):
            raise ValueError(f"counts must be None, 'uint16' or 'int32', got {counts!r}")
        # The config's noise seed is not used (each frame has its own), and -misset_seed is not
        # read unless the misset is random: drop both so the recorded configuration is exact and
        # a resumed run, parsed again from the same flags, compares equal.
        config = config.replace(noise_seed=None)
        if config.crystal.misset_deg != "random":
            config = config.replace(crystal={"misset_seed": None})
        self.config = config
        self.series = series
        self.counts = counts
        # Loads the structure factors once; the workers get the table itself with the job.
        self._base_sim = api.Simulator(config, threads=1)
        self._table = self._base_sim.structure_factors
        self._local: Optional[_FrameRenderer] = None
        self._job_config = config.replace(structure_factors=self._table, hkl_file=None, dump_file=None)
        # The base crystal axes (Angstrom, after misset) the stills rotate.
        self.axes_A = np.array([self._base_sim.prepared.crystal[k] for k in "abc"]) * 1e10
        if config.crystal.orientation is not None:
            self.axes_A = np.asarray(config.crystal.orientation, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.series)

    @property
    def shape(self) -> Tuple[int, int]:
        """(slow, fast) frame shape."""
        return self._base_sim.shape

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float32 if self.counts is None else self.counts)

    def frame(self, index: int) -> FrameSpec:
        """The description of frame index (0 <= index < len)."""
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} out of range (0..{len(self) - 1})")
        return self.series.frame(int(index), self)

    def render_frame(self, index: int, threads: int = 0) -> np.ndarray:
        """Frame index rendered here (float32 photons, or counts), as a worker renders it."""
        job = _Job("local", self._job_config, threads, self.counts)
        if self._local is None or self._local.job.threads != threads:
            self._local = _FrameRenderer(job)
        return self._local.frame(self.frame(index))

    def description(self) -> dict:
        """The exact configuration: nanoBragg flags (to_cli_args), series, frame type and shape."""
        from . import __version__

        try:
            args: Optional[List[str]] = self.config.to_cli_args()
            note = None
        except ValueError as e:  # an in-memory table or orientation has no flag
            args, note = None, str(e)
        d = {"program": "nanobragg-ext", "version": __version__, "cli_args": args,
             "series": self.series.describe(), "counts": self.counts, "dtype": self.dtype.name,
             "shape": list(self.shape)}
        if note:
            d["cli_args_note"] = note
        return d

    # -- writing -------------------------------------------------------------------------------

    def write(self, path: str, *, workers: int = 1, client=None, scheduler: Optional[str] = None,
              threads: Optional[int] = None, cbf_dir: Optional[str] = None, overwrite: bool = False,
              max_in_flight: Optional[int] = None, max_frames: Optional[int] = None,
              progress: Optional[Callable[[int, int], None]] = None) -> dict:
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
            travel with the tasks).
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

        Returns
        -------
        dict
            frames, written, skipped, seconds (rendering and writing, after startup),
            startup_seconds, frames_per_s, workers.
        """
        t_start = time.perf_counter()
        n = len(self)
        writer = _NXmxWriter(path, self, overwrite=overwrite)
        own = []  # clusters/clients we started and must close
        written = skipped = 0
        try:
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
                if cbf_dir is not None:  # before the flag: a flagged frame has its CBF
                    _write_cbf(os.path.join(cbf_dir, f"{stem}_{index + 1:05d}.cbf"), frame, self, writer, index)
                writer.write(index, frame)
                written += 1
                if progress is not None:
                    progress(skipped + written, n)

            if workers == 0 and client is None and scheduler is None:
                t0 = time.perf_counter()
                job = _Job(uuid.uuid4().hex, self._job_config, 0 if threads is None else int(threads), self.counts)
                r = _FrameRenderer(job)
                for i in todo:
                    spec = self.frame(i)
                    writer.set_frame_meta(spec)
                    store(i, r.frame(spec))
                nworkers = 0
                self.last_renderers = {(os.getpid(), r.id)}
            else:
                client, nworkers, nthreads = _connect(client, scheduler, workers, own)
                if threads is None:
                    threads = max(1, (os.cpu_count() or 1) // max(1, workers)) if own and scheduler is None else 0
                t0 = time.perf_counter()
                job = _Job(uuid.uuid4().hex, self._job_config, int(threads), self.counts)
                self.last_renderers = _run_distributed(client, job, self, todo, writer, store,
                                                  max_in_flight or 2 * nthreads + 1)
            writer.finish(complete=writer.all_written())
        finally:
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
                "workers": nworkers}


_QUIET_WORKERS = {"distributed.worker.profile.enabled": False,
                  "distributed.admin.tick.interval": "1s",
                  "distributed.admin.system-monitor.gil.enabled": False}


def _connect(client, scheduler, workers, own):
    """(client, workers, worker threads): the given client, one on scheduler, or a LocalCluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise RuntimeError("dataset workers need dask.distributed (pip install 'dask[distributed]'); "
                           "workers=0 renders without it") from e
    if client is None:
        if scheduler is not None:
            client = Client(scheduler)
            own.append(client)
        else:
            import dask

            # One thread per worker: the renderer is OpenMP-parallel itself, and one Simulator per
            # process then serves every task of that worker. The workers' statistical profiler
            # (a stack sample every 10 ms) and event-loop/GIL monitors take CPU from the frames and
            # nothing here reads them: off for the clusters we start.
            with dask.config.set(_QUIET_WORKERS):
                cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=40)
            client = Client(cluster)
            own += [client, cluster]  # closed in this order
    nthreads = client.nthreads()
    return client, len(nthreads), max(1, sum(nthreads.values()))


def _run_distributed(client, job, ds, todo, writer, store, max_in_flight) -> set:
    """Submit frames, at most max_in_flight at a time, and write each as it completes; returns the
    (pid, Simulator id) pairs that rendered them."""
    from distributed import as_completed

    job_future = client.scatter(job, broadcast=True, hash=False)
    pending = iter(todo)
    queue = as_completed()
    futures = set()
    pids = set()

    def submit_next() -> bool:
        for i in pending:
            spec = ds.frame(i)
            writer.set_frame_meta(spec)
            f = client.submit(_render_task, job_future, spec, pure=False, key=f"nanobragg-frame-{job.token}-{i}")
            futures.add(f)
            queue.add(f)
            return True
        return False

    try:
        for _ in range(max(1, int(max_in_flight))):
            if not submit_next():
                break
        for f in queue:
            index, frame, who = f.result()
            futures.discard(f)
            pids.add(who)
            store(index, frame)
            del f
            submit_next()
    finally:
        if futures:  # interrupted: drop the rest
            client.cancel(list(futures))
        client.cancel([job_future])
    return pids


def simulate_dataset(config, series: Series, path: str, counts: Optional[str] = None, **kwargs) -> dict:
    """Render a whole series into an NXmx file; ``Dataset(config, series, counts).write(path, **kwargs)``."""
    return Dataset(config, series, counts).write(path, **kwargs)


# ---------------------------------------------------------------------------------------------
# NeXus / NXmx output


def _nx(group, nx_class: str):
    group.attrs["NX_class"] = nx_class
    return group


def _axis(group, name, value, kind, vector, depends_on, units, offset=None):
    d = group.create_dataset(name, data=value)
    d.attrs["transformation_type"] = kind
    d.attrs["vector"] = np.asarray(vector, dtype=np.float64)
    d.attrs["depends_on"] = depends_on
    d.attrs["units"] = units
    if offset is not None:
        d.attrs["offset"] = np.asarray(offset, dtype=np.float64)
        d.attrs["offset_units"] = "m"
    return d


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _cell_of(axes: np.ndarray) -> np.ndarray:
    a, b, c = axes
    la, lb, lc = (np.linalg.norm(v) for v in (a, b, c))
    ang = lambda u, v, lu, lv: np.degrees(np.arccos(np.clip(np.dot(u, v) / lu / lv, -1, 1)))  # noqa: E731
    return np.array([la, lb, lc, ang(b, c, lb, lc), ang(a, c, la, lc), ang(a, b, la, lb)])


class _NXmxWriter:
    """The output file, owned by the client: creates (or reopens to resume) and fills it."""

    def __init__(self, path: str, ds: Dataset, overwrite: bool = False):
        try:
            import h5py
            import hdf5plugin
        except ImportError as e:
            raise RuntimeError("dataset output needs h5py and hdf5plugin (pip install h5py hdf5plugin)") from e
        self.path = path
        self.ds = ds
        self.description = ds.description()
        text = json.dumps(self.description, sort_keys=True)
        self.sidecar = os.path.splitext(path)[0] + ".json"
        if os.path.exists(path) and not overwrite:
            self.f = h5py.File(path, "r+")
            old = self.f.attrs.get("nanobragg_ext_description")
            old = old.decode() if isinstance(old, bytes) else old
            if old is None or json.loads(old) != json.loads(text):
                self.f.close()
                raise ValueError(f"'{path}' holds a different dataset (or none); use overwrite=True "
                                 "(--overwrite) to replace it, or another file")
            self.resumed = True
        else:
            self.f = h5py.File(path, "w")
            self.f.attrs["nanobragg_ext_description"] = text
            self._create(hdf5plugin)
            self.resumed = False
        from .io import write_atomic
        write_atomic(self.sidecar, (json.dumps(self.description, indent=2, sort_keys=True) + "\n").encode())
        e = self.f["entry"]
        self.data = e["instrument/detector/data"]
        self.flags = e["nanobragg/written"]
        self.written = self.flags[()].astype(bool)
        self.phi = e["sample/transformations/phi"]
        self.omega = e["sample/transformations/omega"]
        self.meta = e["nanobragg"]
        self.cell = e["sample/unit_cell"]

    def _create(self, hdf5plugin) -> None:
        ds = self.ds
        n = len(ds)
        s, f = ds.shape
        sim = ds._base_sim
        g = sim.prepared.geometry
        cfg = ds.config
        px = float(g["pixel_size"])
        M = TO_MCSTAS
        entry = _nx(self.f.create_group("entry"), "NXentry")
        entry.create_dataset("definition", data="NXmx")
        entry.create_dataset("start_time", data=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        entry.create_dataset("program_name", data="nanobragg-ext").attrs["version"] = self.description["version"]
        inst = _nx(entry.create_group("instrument"), "NXinstrument")
        inst.create_dataset("name", data="nanobragg-ext simulation")
        src = _nx(inst.create_group("source"), "NXsource")
        src.create_dataset("name", data="simulated")
        beam = _nx(inst.create_group("beam"), "NXbeam")
        beam.create_dataset("incident_wavelength", data=float(cfg.beam.wavelength_A)).attrs["units"] = "angstrom"
        beam.create_dataset("flux", data=float(sim.prepared.flux)).attrs["units"] = "s-1"
        det = _nx(inst.create_group("detector"), "NXdetector")
        det.create_dataset("description", data="nanobragg-ext simulated detector")
        det.create_dataset("x_pixel_size", data=px).attrs["units"] = "m"
        det.create_dataset("y_pixel_size", data=px).attrs["units"] = "m"
        det.create_dataset("distance", data=float(g["distance"])).attrs["units"] = "m"
        # Pixels from the outer corner of pixel (0, 0) along fast (x) and slow (y).
        det.create_dataset("beam_center_x", data=float(g["Fbeam"]) / px).attrs["units"] = "pixel"
        det.create_dataset("beam_center_y", data=float(g["Sbeam"]) / px).attrs["units"] = "pixel"
        det.create_dataset("sensor_thickness", data=float(cfg.detector.thickness_um) * 1e-6).attrs["units"] = "m"
        det.create_dataset("count_time", data=float(cfg.beam.exposure_s)).attrs["units"] = "s"
        if ds.counts == "uint16":
            det.create_dataset("saturation_value", data=65535)
        mask = np.zeros((s, f), dtype=np.uint32)
        if sim.mask is not None:
            mask[sim.mask == 0] |= MASKED
        from .outputs import roi_mask
        mask[~roi_mask((s, f), g["roi"])] |= MASKED
        det.create_dataset("pixel_mask", data=mask, **hdf5plugin.Bitshuffle(cname="lz4"))
        det.create_dataset("pixel_mask_applied", data=False)
        data = det.create_dataset("data", shape=(n, s, f), dtype=ds.dtype, chunks=(1, s, f),
                                  fillvalue=0, **hdf5plugin.Bitshuffle(cname="lz4"))
        data.attrs["units"] = "photons" if ds.counts is None else "counts"
        # Detector placement: along its normal to the plane, then within the plane to the corner
        # of pixel (0, 0), then pixel steps along fast and slow (all McStas, metres).
        odet, fdet, sdet = (M @ np.asarray(g[k]) for k in ("odet", "fdet", "sdet"))
        pix0 = M @ np.asarray(g["pix0"])
        close = float(np.dot(pix0, odet))
        det.create_dataset("depends_on", data="/entry/instrument/detector/transformations/detector_z")
        tr = _nx(det.create_group("transformations"), "NXtransformations")
        _axis(tr, "detector_z", close, "translation", _unit(odet), ".", "m")
        inplane = pix0 - close * odet
        module = _nx(det.create_group("module"), "NXdetector_module")
        module.create_dataset("data_origin", data=np.array([0, 0], dtype=np.int64))
        module.create_dataset("data_size", data=np.array([s, f], dtype=np.int64))
        module.create_dataset("data_stride", data=np.array([1, 1], dtype=np.int64))
        _axis(module, "module_offset", float(np.linalg.norm(inplane)), "translation", _unit(inplane),
              "/entry/instrument/detector/transformations/detector_z", "m")
        _axis(module, "fast_pixel_direction", px, "translation", _unit(fdet),
              "/entry/instrument/detector/module/module_offset", "m", offset=[0, 0, 0])
        _axis(module, "slow_pixel_direction", px, "translation", _unit(sdet),
              "/entry/instrument/detector/module/module_offset", "m", offset=[0, 0, 0])
        # Goniometer: one spindle (nanoBragg's phi) per frame; omega is kept at 0 on the same axis.
        sample = _nx(entry.create_group("sample"), "NXsample")
        sample.create_dataset("name", data="simulated crystal")
        sample.create_dataset("depends_on", data="/entry/sample/transformations/phi")
        st = _nx(sample.create_group("transformations"), "NXtransformations")
        spindle = _unit(M @ np.asarray(g["spindle"]))
        _axis(st, "omega", np.zeros(n), "rotation", spindle, ".", "deg")
        phi = _axis(st, "phi", np.zeros(n), "rotation", spindle, "/entry/sample/transformations/omega", "deg")
        st.create_dataset("phi_increment_set", data=np.zeros(n)).attrs["units"] = "deg"
        st.create_dataset("omega_increment_set", data=np.zeros(n)).attrs["units"] = "deg"
        phi.attrs["long_name"] = "spindle angle at the start of each frame"
        sample.create_dataset("unit_cell", shape=(n, 6), dtype=np.float64, chunks=(min(n, 4096), 6))
        nxdata = _nx(entry.create_group("data"), "NXdata")
        nxdata["data"] = data  # hard link: NXmx's NXdata/data is the detector's data
        nxdata.attrs["signal"] = "data"
        nb = _nx(entry.create_group("nanobragg"), "NXcollection")
        nb.create_dataset("written", shape=(n,), dtype=np.uint8, fillvalue=0, chunks=(min(n, 65536),))
        nb.create_dataset("real_space_axes", shape=(n, 3, 3), dtype=np.float64, chunks=(min(n, 4096), 3, 3)
                          ).attrs["units"] = "angstrom (rows a, b, c; McStas frame, spindle at 0)"
        nb.create_dataset("n_cells", shape=(n, 3), dtype=np.float64, chunks=(min(n, 4096), 3))
        nb.create_dataset("mosaic_seed", shape=(n,), dtype=np.int64, chunks=(min(n, 65536),))
        nb.create_dataset("noise_seed", shape=(n,), dtype=np.int64, chunks=(min(n, 65536),))
        nb.create_dataset("description", data=json.dumps(self.description, sort_keys=True))
        self.f.flush()

    def set_frame_meta(self, spec: FrameSpec) -> None:
        """Per-frame goniometer and crystal values (written before the frame, flagged after it)."""
        i = spec.index
        cfg = self.ds.config
        self.phi[i] = spec.phi_start_deg
        self.f["entry/sample/transformations/phi_increment_set"][i] = spec.osc_deg or 0.0
        axes = self.ds.axes_A if spec.orientation is None else np.asarray(spec.orientation)
        self.meta["real_space_axes"][i] = axes @ TO_MCSTAS.T
        self.cell[i] = _cell_of(axes)
        self.meta["n_cells"][i] = spec.n_cells if spec.n_cells is not None else cfg.crystal.n_cells
        self.meta["mosaic_seed"][i] = spec.mosaic_seed
        self.meta["noise_seed"][i] = spec.noise_seed

    def write(self, index: int, frame: np.ndarray) -> None:
        """Store one frame, flush, then flag it written and flush again (so a flag means a whole frame)."""
        self.data[index] = frame
        self.f.flush()
        self.flags[index] = 1
        self.written[index] = True
        self.f.flush()

    def all_written(self) -> bool:
        return bool(self.written.all())

    def finish(self, complete: bool) -> None:
        if complete and "end_time" not in self.f["entry"]:
            self.f["entry"].create_dataset("end_time", data=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.f.flush()

    def close(self) -> None:
        if self.f.id.valid:
            self.f.close()


def _write_cbf(path: str, frame: np.ndarray, ds: Dataset, writer: _NXmxWriter, index: int) -> None:
    """One frame as a Pilatus-style miniCBF (int32; float photons are rounded to whole photons)."""
    try:
        import fabio.cbfimage
    except ImportError as e:
        raise RuntimeError("--cbf needs fabio (pip install fabio)") from e
    g = ds._base_sim.prepared.geometry
    px = float(g["pixel_size"])
    spec = ds.frame(index)
    header = "\r\n".join([
        "# Detector: nanobragg-ext simulation",
        f"# Pixel_size {px:g} m x {px:g} m",
        f"# Exposure_time {ds.config.beam.exposure_s:g} s",
        f"# Wavelength {ds.config.beam.wavelength_A:.6f} A",
        f"# Detector_distance {float(g['distance']):.6f} m",
        f"# Beam_xy ({float(g['Fbeam']) / px:.2f}, {float(g['Sbeam']) / px:.2f}) pixels",
        f"# Start_angle {spec.phi_start_deg:.4f} deg.",
        f"# Angle_increment {spec.osc_deg or 0.0:.4f} deg.",
        f"# Phi {spec.phi_start_deg:.4f} deg.",
    ])
    data = frame if frame.dtype.kind in "iu" else np.rint(frame)
    img = fabio.cbfimage.CbfImage(data=np.ascontiguousarray(data, dtype=np.int32))
    img.header["_array_data.header_convention"] = "PILATUS_1.2"
    img.header["_array_data.header_contents"] = header
    tmp = path + ".part"
    img.write(tmp)
    os.replace(tmp, path)


def read_frame(path: str, index: int) -> np.ndarray:
    """Frame index of an NXmx file written here (decompressed through hdf5plugin)."""
    import h5py
    import hdf5plugin  # noqa: F401  (registers the bitshuffle filter)

    with h5py.File(path, "r") as f:
        return f["entry/instrument/detector/data"][index]


# ---------------------------------------------------------------------------------------------
# the `dataset` subcommand

USAGE = """usage: nanobragg-ext dataset <nanoBragg flags> (--sweep START WIDTH FRAMES | --stills N --seed S
                             [--jitter-cell PCT] [--jitter-size PCT]) --out file.h5
                             [--workers N] [--scheduler ADDRESS] [--threads T] [--cbf DIR]
                             [--noise [--counts uint16|int32]] [--overwrite] [--max-in-flight K]
Renders a rotation sweep (START, WIDTH per frame in degrees, FRAMES) or N stills of randomly
oriented crystals into a NeXus/NXmx HDF5 file; an interrupted run resumes where it stopped.
  --workers N      local Dask worker processes (default 1; 0 = no Dask)
  --scheduler A    use a running Dask scheduler instead (tcp://host:8786)
  --threads T      OpenMP threads per frame (default: cores / workers)
  --cbf DIR        also write one CBF per frame (fabio)
  --noise          noisy counts instead of float32 photons (--counts uint16 (default) or int32)
  --seed S         dataset seed (stills: orientations, crystals and noise; sweep: noise)"""

_DD_OPTIONS = {"--sweep": 3, "--stills": 1, "--seed": 1, "--jitter-cell": 1, "--jitter-size": 1, "--out": 1,
               "--workers": 1, "--scheduler": 1, "--threads": 1, "--cbf": 1, "--noise": 0, "--counts": 1,
               "--overwrite": 0, "--max-in-flight": 1, "--max-frames": 1, "--no-progress": 0}


def _split_args(argv: List[str]):
    """(our --options, the nanoBragg flags); single-dash tokens are nanoBragg's."""
    from .options import OptionError

    ours: Dict[str, List[str]] = {}
    rest: List[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok.startswith("--"):
            if tok not in _DD_OPTIONS:
                import difflib
                near = difflib.get_close_matches(tok, list(_DD_OPTIONS), 1)
                raise OptionError(f"unknown option {tok}" + (f" (did you mean {near[0]}?)" if near else ""))
            k = _DD_OPTIONS[tok]
            vals = argv[i + 1:i + 1 + k]
            if len(vals) < k or any(v.startswith("--") for v in vals):
                raise OptionError(f"option {tok} needs {k} value(s)")
            ours[tok] = vals
            i += 1 + k
        else:
            rest.append(tok)
            i += 1
    return ours, rest


def _num(ours, key, kind=float, default=None):
    from .options import OptionError

    if key not in ours:
        return default
    text = ours[key][0]
    try:
        v = float(text)
        if kind is int:
            if v != int(v):
                raise ValueError
            return int(v)
        return v
    except ValueError:
        raise OptionError(f"option {key}: '{text}' is not {'an integer' if kind is int else 'a number'}") from None


class _Progress:
    """frames/s and ETA: tqdm when installed, else one rewritten line; silent when not a tty."""

    def __init__(self, stream, enabled: bool):
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.bar = None
        self.t0 = None
        self.first = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.t0 is None:
            self.t0, self.first = time.perf_counter(), done
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, initial=done, unit="frame", file=self.stream, smoothing=0.1)
            except ImportError:
                self.bar = None
            return
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            return
        dt = time.perf_counter() - self.t0
        rate = (done - self.first) / dt if dt > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("inf")
        self.stream.write(f"\r{done}/{total} frames  {rate:.2f} frames/s  ETA {eta:.0f} s   ")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.t0 is not None:
            self.stream.write("\n")


def main(argv: List[str], out=None) -> int:
    """``nanobragg-ext dataset ...``; returns the exit status (2 for bad input, as the CLI)."""
    from .api import UsageError
    from .config import SimulationConfig
    from .io import InputError
    from .options import OptionError

    out = sys.stdout if out is None else out
    if not argv or any(a in ("-h", "--help", "-help") for a in argv):
        print(USAGE, file=out)
        return 0
    try:
        ours, flags = _split_args(argv)
        if ("--sweep" in ours) == ("--stills" in ours):
            raise OptionError("give exactly one of --sweep START WIDTH FRAMES or --stills N")
        if "--out" not in ours:
            raise OptionError("--out file.h5 is required")
        seed = _num(ours, "--seed", int, 0)
        if "--sweep" in ours:
            try:
                start, width, frames = (float(x) for x in ours["--sweep"])
            except ValueError:
                raise OptionError(f"option --sweep: '{' '.join(ours['--sweep'])}' is not START WIDTH FRAMES") from None
            if frames != int(frames):
                raise OptionError(f"option --sweep: FRAMES '{ours['--sweep'][2]}' is not an integer")
            series: Series = RotationSweep(start, width, int(frames), seed)
        else:
            if "--seed" not in ours:
                raise OptionError("--stills needs --seed S (frames are reproducible from it)")
            series = StillSeries(_num(ours, "--stills", int), seed, _num(ours, "--jitter-cell", float, 0.0),
                                 _num(ours, "--jitter-size", float, 0.0))
        counts = None
        if "--noise" in ours:
            counts = ours.get("--counts", ["uint16"])[0]
            if counts not in ("uint16", "int32"):
                raise OptionError(f"option --counts: '{counts}' is not uint16 or int32")
        elif "--counts" in ours:
            raise OptionError("--counts needs --noise (counts are noisy images)")
        config = SimulationConfig.from_cli_args(flags)
        ds = Dataset(config, series, counts)
        bar = _Progress(sys.stderr, "--no-progress" not in ours)
        path = ours["--out"][0]
        print(f"dataset: {len(ds)} frames of {ds.shape[1]}x{ds.shape[0]} pixels ({ds.dtype.name}) -> {path}",
              file=out)
        try:
            stats = ds.write(path, workers=_num(ours, "--workers", int, 1), scheduler=ours.get("--scheduler", [None])[0],
                             threads=_num(ours, "--threads", int, None), cbf_dir=ours.get("--cbf", [None])[0],
                             overwrite="--overwrite" in ours, max_in_flight=_num(ours, "--max-in-flight", int, None),
                             max_frames=_num(ours, "--max-frames", int, None), progress=bar)
        finally:
            bar.close()
    except (OptionError, InputError, UsageError, ValueError, RuntimeError, OSError) as e:
        print(f"nanobragg-ext dataset: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nanobragg-ext dataset: interrupted; frames written so far are kept (run again to resume)",
              file=sys.stderr)
        return 130
    print(f"wrote {stats['written']} frames ({stats['skipped']} already there) in {stats['seconds']:.1f} s: "
          f"{stats['frames_per_s']:.2f} frames/s with {stats['workers']} worker(s)", file=out)
    return 0
