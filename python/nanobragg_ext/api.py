"""Loading a run's inputs and rendering it: the layer both the CLI and Python users call."""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from . import _core
from . import io as nbio
from .options import Request


from .pipeline import UsageError, check_memory, check_usage, prepare_request  # noqa: E402,F401 (re-exported)


def mask_array(req: Request, prepared) -> Optional[np.ndarray]:
    """The -mask pixels as a uint16 (spixels, fpixels) array, checked against the detector."""
    from .pipeline import mask_bytes

    raw = mask_bytes(req, prepared)
    if raw is None:
        return None
    g = prepared.geometry
    return np.frombuffer(raw, dtype=np.uint16).reshape(g["spixels"], g["fpixels"])


def render(prepared, out, mask=None, precision: str = "double", threads: int = 0, controls=None,
           catch_sigint: bool = False, backend: str = "cpu"):
    """Render prepared into out (shape (spixels, fpixels), float32/float64) in place; returns stats.

    backend: "cpu"; "cuda" (out a NumPy array: rendered on the GPU and copied back once; out a
    device array with __cuda_array_interface__, e.g. CuPy: written in place, no copy); "auto"
    (cuda when available). catch_sigint (CPU, main thread only): Ctrl-C cancels the render.
    """
    if backend == "auto":
        from .backends import backends
        backend = "cuda" if ("cuda" in backends() or hasattr(out, "__cuda_array_interface__")) else "cpu"
    if backend == "cpu":
        return _core.render_cpu(prepared, out, mask, precision, threads, controls, catch_sigint)
    if backend != "cuda":
        raise ValueError(f"backend must be 'cpu', 'cuda' or 'auto', got '{backend}'")
    from .backends import cuda_unavailable_reason

    reason = cuda_unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"CUDA backend not available: {reason}")
    from . import _cuda

    if hasattr(out, "__cuda_array_interface__"):
        return _cuda.render_cuda(prepared, out, mask, precision)
    return _cuda.render_cuda_host(prepared, out, mask, precision)


# ---------------------------------------------------------------------------------------------
# The Python API: simulate() and the reusable Simulator, on typed configs (config.py).

import threading as _threading  # noqa: E402
from typing import Sequence, Union  # noqa: E402

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
def _check_out(out, shape, what: str = "out") -> None:
    """TypeError unless out is a writable, C-contiguous float32/float64 ndarray of this shape."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{what} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{what} must have dtype float32 or float64, got {out.dtype}")
    if tuple(out.shape) != tuple(shape):
        raise TypeError(f"{what} must have shape {tuple(shape)} (slow, fast), got {tuple(out.shape)}")
    if not out.flags.c_contiguous:
        raise TypeError(f"{what} must be C-contiguous")
    if not out.flags.writeable:
        raise TypeError(f"{what} is read-only")


def load_config_structure_factors(config) -> nbio.FTable:
    """The structure-factor table of a :class:`config.SimulationConfig`.

    In order: ``config.structure_factors`` (an :class:`io.FTable`), ``hkl_file`` (HKL text, or
    MTZ/mmCIF via gemmi), then ``dump_file`` if that file exists, else no table. Nothing is
    written (the CLI also writes the Fdump cache).
    """
    from . import structure_factors as sf

    default_F = config.crystal.default_F
    table = config.structure_factors
    if table is not None:
        if not isinstance(table, nbio.FTable):
            raise TypeError("structure_factors must be an io.FTable (see structure_factors.from_arrays)")
        return table
    if config.hkl_file is not None:
        if sf.is_reflection_file(config.hkl_file):
            return sf.read_reflections(config.hkl_file, config.mtz_column, default_F)
        return nbio.read_hkl(config.hkl_file, default_F)
    if config.dump_file is not None and os.path.exists(config.dump_file):
        return nbio.read_fdump(config.dump_file)
    return nbio.FTable.empty()


def _orientation_m(orientation) -> tuple:
    """Real-space axes a, b, c (rows of a 3x3, or three vectors; Angstrom) as three tuples in metres."""
    m = np.asarray(orientation, dtype=np.float64)
    if m.shape != (3, 3) or not np.all(np.isfinite(m)):
        raise ValueError("orientation must be a 3x3 array (rows a, b, c in Angstrom) or three 3-vectors")
    return tuple(tuple(float(x) * 1e-10 for x in row) for row in m)


class Simulator:
    """A prepared run that renders again cheaply with a new orientation, phi range or mosaic seed.

    The structure factors are loaded, and the detector and sources placed, once; each
    :meth:`run` re-derives only the crystal orientation table (and mosaic domains) it needs.
    Runs on one Simulator are serialised by a lock; use one Simulator per thread for parallel
    rendering (the renderer releases the GIL).

    Parameters
    ----------
    config : config.SimulationConfig
    dtype : numpy dtype
        float64 (default) or float32, for images :meth:`run` allocates.
    threads : int
        OpenMP threads per render; 0 = all.

    Examples
    --------
    >>> from nanobragg_ext.config import SimulationConfig, DetectorConfig, CrystalConfig
    >>> cfg = SimulationConfig(detector=DetectorConfig(fpixels=32, spixels=32),
    ...                        crystal=CrystalConfig(cell=(50, 50, 50, 90, 90, 90), default_F=10))
    >>> sim = Simulator(cfg)
    >>> img = sim.run(misset_deg=(10, 0, 0))
    >>> img.shape
    (32, 32)
    """

    def __init__(self, config, dtype=np.float64, threads: int = 0):
        from .config import SimulationConfig, copy_options

        if not isinstance(config, SimulationConfig):
            raise TypeError(f"config must be a SimulationConfig, got {type(config).__name__}")
        self.config = config
        self.dtype = np.dtype(dtype)
        if self.dtype not in _FLOAT_DTYPES:
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        self.threads = int(threads)
        req = config.to_request()
        opt = req.options
        c = config.crystal
        if c.matrix_file is None and not opt.user_cell:
            raise UsageError("no a crystal (crystal.cell, crystal.matrix_file or crystal.orientation) given")
        if c.matrix_file is not None:
            opt.matrix = nbio.read_matrix(c.matrix_file)
            opt.has_matrix = True
        table = load_config_structure_factors(config)
        if table.hkls == 0 and opt.default_F == 0.0:
            raise UsageError("no structure factors (hkl_file, structure_factors, a dump file or default_F) given")
        xyz, lam = ([], []) if config.sourcefile is None else nbio.read_sourcefile(config.sourcefile)
        self.prepared = _core.prepare(opt, table.to_native(), xyz, lam)
        self._base = copy_options(self.prepared.options)
        self._default_key = self._key(c.misset_deg, c.orientation, c.phi_start_deg, c.osc_deg, c.mosaic_seed,
                                      c.n_cells, c.size_mm)
        self._state = self._key(c.misset_deg, None, c.phi_start_deg, c.osc_deg, c.mosaic_seed, c.n_cells, c.size_mm)
        if c.orientation is not None:
            self.prepared.set_crystal_orientation(*_orientation_m(c.orientation))
            self._state = self._default_key
        self.mask = mask_array(req, self.prepared)
        self._lock = _threading.Lock()
        self._noise_seed = req.seed

    @staticmethod
    def _key(misset, orientation, phi, osc, seed, n_cells, size_mm):
        if misset is not None and misset != "random":
            misset = tuple(float(x) for x in misset)
        if orientation is not None:
            orientation = tuple(tuple(float(x) for x in row) for row in np.asarray(orientation, dtype=np.float64))
        return (misset, orientation, float(phi), None if osc is None else float(osc), int(seed),
                tuple(int(n) for n in n_cells), tuple(float(x) for x in size_mm))

    @property
    def shape(self):
        """(slow, fast) image shape."""
        g = self.prepared.geometry
        return (g["spixels"], g["fpixels"])

    def _apply(self, key) -> None:
        """Bring the prepared run to the state key describes, re-deriving as little as possible."""
        from .config import copy_options
        from .options import deg

        if key == self._state:
            return
        misset, orientation, phi, osc, seed, n_cells, size_mm = key
        if key[:1] + key[2:] != self._state[:1] + self._state[2:] or orientation is None:
            opt = copy_options(self._base)
            if misset == "random":
                opt.misset_mode = -1
            elif misset is None:
                opt.misset_mode, opt.misset = 0, (0.0, 0.0, 0.0)
            else:
                opt.misset_mode, opt.misset = 1, tuple(deg(x) for x in misset)
            opt.phi0 = deg(phi)
            opt.osc = -1.0 if osc is None else deg(osc)
            opt.mosaic_seed = -seed
            opt.Na, opt.Nb, opt.Nc = (float(n) for n in n_cells)
            opt.sample_x, opt.sample_y, opt.sample_z = (x / 1000 for x in size_mm)
            self.prepared.reconfigure_crystal(opt)
        if orientation is not None:
            self.prepared.set_crystal_orientation(*_orientation_m(orientation))
        self._state = key

    def run(self, out=None, *, misset_deg=None, orientation=None, phi_start_deg=None, osc_deg=None,
            mosaic_seed=None, n_cells=None, size_mm=None) -> np.ndarray:
        """Render one image; arguments left as None take the config's value.

        Parameters
        ----------
        out : ndarray, optional
            float32/float64, C-contiguous, shape :attr:`shape`; filled in place and returned
            (the same object). Anything else raises TypeError.
        misset_deg : (x, y, z) or "random", optional
            Misset rotations, degrees (replaces the config's misset).
        orientation : 3x3 array or (a, b, c), optional
            Real-space cell axes, Angstrom, lab frame at phi = 0 before mosaic (replaces cell+misset).
        phi_start_deg, osc_deg : float, optional
            Spindle start and oscillation range, degrees.
        mosaic_seed : int, optional
            Seed of the mosaic domain draws.
        n_cells : (Na, Nb, Nc), optional
            Crystal size in unit cells.
        size_mm : (x, y, z), optional
            Crystal size, mm; a nonzero entry overrides that ``n_cells`` entry.

        Returns
        -------
        ndarray
            The image (photons per pixel), shape (slow, fast).
        """
        c = self.config.crystal
        key = self._key(c.misset_deg if misset_deg is None else misset_deg,
                        c.orientation if orientation is None else orientation,
                        c.phi_start_deg if phi_start_deg is None else phi_start_deg,
                        c.osc_deg if osc_deg is None else osc_deg,
                        c.mosaic_seed if mosaic_seed is None else mosaic_seed,
                        c.n_cells if n_cells is None else n_cells,
                        c.size_mm if size_mm is None else size_mm)
        if out is None:
            out = np.empty(self.shape, dtype=self.dtype)
        else:
            _check_out(out, self.shape)
        with self._lock:
            self._apply(key)
            render(self.prepared, out, self.mask, self.config.precision, self.threads)
        return out

    def run_batch(self, orientations: Sequence, out=None, **kwargs) -> np.ndarray:
        """Render one image per orientation into out[i] (shape (N, slow, fast)); returns out.

        orientations: a sequence of 3x3 real-space axes (Angstrom), or an (N, 3, 3) array.
        Other keyword arguments are passed to :meth:`run` for every image.
        """
        orientations = np.asarray(orientations, dtype=np.float64)
        if orientations.ndim != 3 or orientations.shape[1:] != (3, 3):
            raise ValueError(f"orientations must have shape (N, 3, 3), got {orientations.shape}")
        n = orientations.shape[0]
        if out is None:
            out = np.empty((n,) + self.shape, dtype=self.dtype)
        else:
            _check_out(out, (n,) + self.shape)
        for i in range(n):
            self.run(out[i], orientation=orientations[i], **kwargs)
        return out

    def add_noise(self, image: np.ndarray, seed: Optional[int] = None) -> np.ndarray:
        """Poisson noise image (uint16 with the ADC offset) sharing this run's random state, as the CLI.

        seed: the ``-seed`` value; None takes ``config.noise_seed``.
        """
        s = self._noise_seed if seed is None else -int(seed)
        return _noise(image, s, self.prepared.geometry["roi"], self.config.adc, self.prepared)[0]


def simulate(config, out=None, dtype=np.float64, threads: int = 0) -> np.ndarray:
    """Render the image of a :class:`config.SimulationConfig`.

    Parameters
    ----------
    config : config.SimulationConfig
    out : ndarray, optional
        float32/float64, C-contiguous, shape (slow, fast): filled in place and returned (the
        same object). Wrong dtype, shape or layout raises TypeError; nothing is copied.
    dtype : numpy dtype
        float64 or float32, for the image allocated when out is None.
    threads : int
        OpenMP threads; 0 = all.

    Returns
    -------
    ndarray
        Photons per pixel, shape (slow, fast).

    Examples
    --------
    >>> from nanobragg_ext.config import SimulationConfig, DetectorConfig, CrystalConfig
    >>> cfg = SimulationConfig(detector=DetectorConfig(fpixels=32, spixels=32),
    ...                        crystal=CrystalConfig(cell=(50, 50, 50, 90, 90, 90), default_F=10))
    >>> simulate(cfg).shape
    (32, 32)
    """
    return Simulator(config, dtype=dtype, threads=threads).run(out)


def _noise(image, seed, roi, adc, prepared):
    from . import outputs

    image32 = np.ascontiguousarray(image, dtype=np.float32)
    if roi is None:
        roi = (0, image32.shape[1] - 1, 0, image32.shape[0] - 1)
    return outputs.noise_image(image32, seed, roi, adc, prepared)


def add_noise(image: np.ndarray, seed: int, adc: float = 40.0, roi=None, simulator: Optional[Simulator] = None):
    """Poisson photon noise plus ADC offset, as nanoBragg's noise image (uint16, clipped to 65535).

    Parameters
    ----------
    image : ndarray (slow, fast)
        Photons per pixel (e.g. from :func:`simulate`).
    seed : int
        The ``-seed`` value.
    adc : float
        ADC offset, counts.
    roi : (xmin, xmax, ymin, ymax), optional
        Inclusive region; pixels outside are 0. Default: the whole image.
    simulator : Simulator, optional
        Share its random state, which the CLI does (needed for byte parity with the C).

    Returns
    -------
    ndarray of uint16
    """
    prepared = None if simulator is None else simulator.prepared
    return _noise(image, -int(seed), roi, adc, prepared)[0]


def write_float(path: str, image: np.ndarray) -> None:
    """Write a raw little-endian float32 image (nanoBragg's floatimage.bin), atomically."""
    nbio.write_float_image(path, image)


def write_smv(path: str, image: np.ndarray, simulator: Optional[Simulator] = None, *,
              scale: Optional[float] = None, adc: float = 40.0) -> None:
    """Write an SMV image with nanoBragg's header, atomically.

    A uint16 image is written as is; a float image is scaled as nanoBragg's intimage
    (``scale`` counts per photon; None: 55000 / max) plus ``adc``. The header's geometry comes
    from simulator (all zeros but the size without one).
    """
    from . import outputs

    image = np.asarray(image)
    if image.dtype != np.uint16:
        image32 = image.astype(np.float32)
        roi = (0, image.shape[1] - 1, 0, image.shape[0] - 1)
        st = outputs.image_stats(image32, roi, None)
        image = outputs.int_image(image32, outputs.int_scale(scale or 0.0, st.max_I), adc, roi)
    if simulator is not None:
        values = outputs.header_values(simulator.prepared)
    else:
        values = {k: 0.0 for k in ("PIXEL_SIZE", "DISTANCE", "WAVELENGTH", "BEAM_CENTER_X", "BEAM_CENTER_Y",
                                   "ADXV_CENTER_X", "ADXV_CENTER_Y", "MOSFLM_CENTER_X", "MOSFLM_CENTER_Y",
                                   "DENZO_X_BEAM", "DENZO_Y_BEAM", "XDS_ORGX", "XDS_ORGY", "CLOSE_DISTANCE",
                                   "PHI", "OSC_START", "OSC_RANGE", "TWOTHETA")}
        values["DIALS_ORIGIN"] = (0.0, 0.0, 0.0)
    values["SIZE1"], values["SIZE2"] = image.shape[1], image.shape[0]
    nbio.write_smv(path, nbio.smv_header(values), image)


def write_pgm(path: str, image: np.ndarray, scale: Optional[float] = None) -> None:
    """Write nanoBragg's 8-bit PGM preview; scale None picks 250 / (5 rmsd) as the C does."""
    from . import outputs

    image32 = np.asarray(image, dtype=np.float32)
    roi = (0, image32.shape[1] - 1, 0, image32.shape[0] - 1)
    st = outputs.image_stats(image32, roi, None)
    s = outputs.pgm_scale(scale or 0.0, outputs.int_scale(0.0, st.max_I), st.rmsd)
    nbio.write_atomic(path, nbio.pgm_bytes(outputs.pgm_image(image32, s, roi), s))


def write_png(path: str, image: np.ndarray, **kwargs) -> None:
    """Write a log-scaled PNG preview (needs Pillow or matplotlib); see :func:`preview.write_png`."""
    from .preview import write_png as _write_png

    _write_png(path, image, **kwargs)
