"""The Python API: simulate() and the reusable Simulator on typed configs (config.py), and the
render entry both the API and the CLI call. A Simulator is a handle on a native run object
(``_core.Simulator``): the set-up, the structure factors and the kernel tables live there, once."""
from __future__ import annotations

import os
import threading
import weakref
from typing import Optional, Sequence

import numpy as np

from . import _core
from . import io as nbio
from .options import RTD, deg, mm
from .pipeline import UsageError, load_request  # noqa: F401 (UsageError re-exported)

BACKENDS = ("cpu", "cuda", "auto")
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def resolve_backend(backend: str) -> str:
    """"cpu" or "cuda" for a backend argument; RuntimeError saying why when "cuda" is not usable."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'cpu', 'cuda' or 'auto', got '{backend}'")
    from .backends import cuda_unavailable_reason

    reason = cuda_unavailable_reason()
    if backend == "auto":
        return "cpu" if reason is not None else "cuda"
    if backend == "cuda" and reason is not None:
        raise RuntimeError(f"CUDA backend not available: {reason}")
    return backend


def device_simulator(sim, precision: str = "double"):
    """A ``_cuda.DeviceSimulator`` mirroring the run object sim on the current GPU (RuntimeError
    saying why when none is usable). It follows sim's updates: a render never uses a stale table."""
    resolve_backend("cuda")
    from . import _cuda

    return _cuda.DeviceSimulator(sim, precision)


def render(sim, out, precision: str = "double", threads: int = 0, controls=None, catch_sigint: bool = False,
           device=None):
    """Render the native run object sim into out (shape (spixels, fpixels), float32/float64) in place.

    device: None renders on the CPU (threads: OpenMP threads, 0 = all; controls: a
    ``_core.RenderControls`` for progress and cancelling; catch_sigint, main thread only: Ctrl-C
    cancels). A ``_cuda.DeviceSimulator`` of sim renders on its GPU: out is a device array with
    ``__cuda_array_interface__`` (e.g. CuPy; written in place) or a NumPy array (one copy back);
    threads, progress and Ctrl-C do not apply there (a GPU render runs to its end). Returns the
    statistics (the same keys on both backends).
    """
    if device is None:
        return sim.render(out, precision, threads, controls, catch_sigint)
    if hasattr(out, "__cuda_array_interface__"):
        device.render(out)
        return device.wait()
    return device.render_to_host(out)


def _check_out(out, shape, what: str = "out") -> None:
    """TypeError unless out is a writable, C-contiguous float32/float64 array of this shape
    (a NumPy array, or a device array with ``__cuda_array_interface__`` on the GPU backend)."""
    if hasattr(out, "__cuda_array_interface__") and not isinstance(out, np.ndarray):
        return  # checked by the native side, without touching the device
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


def _axes_m(orientation) -> tuple:
    """Real-space axes a, b, c (rows of a 3x3, or three vectors; Angstrom) as three tuples in metres."""
    m = np.asarray(orientation, dtype=np.float64)
    if m.shape != (3, 3) or not np.all(np.isfinite(m)):
        raise ValueError("orientation must be a 3x3 array (rows a, b, c in Angstrom) or three 3-vectors")
    return tuple(tuple(float(x) * 1e-10 for x in row) for row in m)


class Simulator:
    """A prepared run that renders again cheaply with new crystal, beam or detector settings.

    The structure factors are loaded, and the detector and sources placed, once (in a native run
    object); each :meth:`run` re-derives only what its arguments change: a new orientation, phi
    range, mosaic draw or crystal size re-derives the crystal and its orientation table; a new
    wavelength, fluence, distance or beam centre re-runs the set-up but never reloads or copies
    the structure factors. Runs on one Simulator are serialised by a lock; use one Simulator per
    thread for parallel rendering (the renderer releases the GIL).

    Parameters
    ----------
    config : config.SimulationConfig
    dtype : numpy dtype
        float64 (default) or float32, for images :meth:`run` allocates.
    threads : int
        OpenMP threads per render; 0 = all (the CPU backend only).
    backend : "cpu", "cuda" or "auto"
        Where to render. "cuda" raises RuntimeError saying why when no GPU is usable; "auto"
        takes "cuda" when one is. On "cuda", :meth:`run` fills CuPy (``__cuda_array_interface__``)
        arrays in place and NumPy arrays with one copy back; the device keeps the tables between
        runs and follows every update.

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

    def __init__(self, config, dtype=np.float64, threads: int = 0, backend: str = "cpu"):
        from .config import SimulationConfig

        if not isinstance(config, SimulationConfig):
            raise TypeError(f"config must be a SimulationConfig, got {type(config).__name__}")
        self.config = config
        self.dtype = np.dtype(dtype)
        if self.dtype not in _FLOAT_DTYPES:
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        self.threads = min(int(threads), os.cpu_count() or 1)  # more than the cores: the same image, or no memory
        self.backend = resolve_backend(backend)
        table = config.structure_factors
        if table is not None and not isinstance(table, nbio.FTable):
            raise TypeError("structure_factors must be an io.FTable (see structure_factors.from_arrays)")
        req = config.to_request()
        req.dump = config.dump_file  # the API reads a dump file only when given one, and never writes it
        axes = None if config.crystal.orientation is None else _axes_m(config.crystal.orientation)
        #: The file-reading lines of the load (what the CLI prints among its summary).
        self.messages: list = []
        self._native = load_request(req, self.messages, table=table, write_dump=False, axes=axes)
        g = self._native.prepared.geometry
        self._shape = (g["spixels"], g["fpixels"])
        #: The -mask pixels (uint16, shape (slow, fast), 0 = not rendered), or None.
        self.mask = (None if req.mask_image is None
                     else np.frombuffer(req.mask_image.pixels, dtype=np.uint16).reshape(self.shape))
        self._base = _core.Options(self._native.options)
        self._base_axes = axes
        self._noise_seed = req.seed
        self._lock = threading.Lock()
        self._device = device_simulator(self._native, config.precision) if self.backend == "cuda" else None
        self._spectrum = None  # a spectrum given to run() that the run object holds (None: the config's)
        self._config_rotation = self._rotation()
        self._image_rotation: dict = {}  # id(image) -> (weakref, (phi, osc)) of images run() returned

    @property
    def native(self):
        """The native run object (``_core.Simulator``)."""
        return self._native

    @property
    def prepared(self):
        """The derived set-up of the current state (read-only ``_core.Prepared``)."""
        return self._native.prepared

    @property
    def structure_factors(self) -> nbio.FTable:
        """The structure-factor table (shared with the renderer, not a copy)."""
        return self._native.table

    @property
    def shape(self):
        """(slow, fast) image shape (no run argument changes it)."""
        return self._shape

    def _rotation(self) -> tuple:
        """(PHI, OSC_RANGE) in degrees of the state the run object is in now."""
        phi0, osc = self._native.rotation
        return (phi0 * RTD, osc * RTD)

    def _remember(self, image, rotation: tuple) -> None:
        if not isinstance(image, np.ndarray):
            return  # a device array: write_smv takes NumPy images (rotation_of falls back to the config)
        key, table = id(image), self._image_rotation
        table[key] = (weakref.ref(image, lambda _: table.pop(key, None)), rotation)

    def rotation_of(self, image) -> tuple:
        """(phi_start_deg, osc_deg) of the run that rendered image (an array :meth:`run`,
        :meth:`run_batch` or :meth:`add_noise` returned, or a view of one); else the config's."""
        a = image
        while isinstance(a, np.ndarray):
            ref, rotation = self._image_rotation.get(id(a), (None, None))
            if ref is not None and ref() is a:
                return rotation
            a = a.base
        return self._config_rotation

    def _options(self, misset_deg, phi_start_deg, osc_deg, phisteps, mosaic_seed, mosaic_spread_deg, n_cells,
                 size_mm, wavelength_A, fluence_per_m2, distance_mm, beam_center_mm):
        """The config's native options with the given run arguments applied (None: the config's)."""
        opt = _core.Options(self._base)
        if misset_deg is not None:
            if isinstance(misset_deg, str):
                if misset_deg != "random":
                    raise ValueError(f"misset_deg must be (x, y, z) or 'random', got '{misset_deg}'")
                opt.misset_mode = -1
            else:
                opt.misset_mode, opt.misset = 1, tuple(deg(float(x)) for x in misset_deg)
        if phi_start_deg is not None:
            opt.phi0 = deg(float(phi_start_deg))
        if osc_deg is not None:
            opt.osc = deg(float(osc_deg))
        if phisteps is not None:
            opt.phisteps = int(phisteps)
        if mosaic_seed is not None:
            opt.mosaic_seed = -int(mosaic_seed)
        if mosaic_spread_deg is not None:
            opt.mosaic_spread = deg(float(mosaic_spread_deg))
        if n_cells is not None:
            opt.Na, opt.Nb, opt.Nc = (float(n) for n in n_cells)
        if size_mm is not None:
            opt.sample_x, opt.sample_y, opt.sample_z = (float(x) / 1000 for x in size_mm)
        if wavelength_A is not None:
            opt.lambda0 = float(wavelength_A) / 1.0e10
        if fluence_per_m2 is not None:
            opt.fluence, opt.flux = float(fluence_per_m2), 0.0
        if distance_mm is not None:
            opt.distance = mm(float(distance_mm))
        if beam_center_mm is not None:
            opt.Xbeam, opt.Ybeam = (mm(float(x)) for x in beam_center_mm)
        return opt

    def run(self, out=None, *, misset_deg=None, orientation=None, phi_start_deg=None, osc_deg=None,
            phisteps=None, mosaic_seed=None, mosaic_spread_deg=None, n_cells=None, size_mm=None,
            wavelength_A=None, fluence_per_m2=None, distance_mm=None, beam_center_mm=None, spectrum=None):
        """Render one image; arguments left as None take the config's value.

        Parameters
        ----------
        out : array, optional
            float32/float64, C-contiguous, shape :attr:`shape`; filled in place and returned (the
            same object). On the "cuda" backend also a device array (``__cuda_array_interface__``).
            Anything else raises TypeError.
        misset_deg : (x, y, z) or "random", optional
            Misset rotations, degrees (replaces the config's misset).
        orientation : 3x3 array or (a, b, c), optional
            Real-space cell axes, Angstrom, lab frame at phi = 0 before mosaic (replaces cell+misset).
        phi_start_deg, osc_deg : float, optional
            Spindle start and oscillation range, degrees.
        phisteps : int, optional
            Phi steps over the oscillation.
        mosaic_seed : int, optional
            Seed of the mosaic domain draws.
        mosaic_spread_deg : float, optional
            Mosaic spread, degrees.
        n_cells : (Na, Nb, Nc), optional
            Crystal size in unit cells.
        size_mm : (x, y, z), optional
            Crystal size, mm (0 keeps the size in cells).
        wavelength_A : float, optional
            Central wavelength, Angstrom.
        fluence_per_m2 : float, optional
            Incident fluence, photons/m^2 (replaces any flux).
        distance_mm : float, optional
            Detector distance, mm.
        beam_center_mm : (x, y), optional
            Beam centre Xbeam, Ybeam, mm.
        spectrum : spectra.Spectrum, optional
            Wavelengths and weights replacing the config's spectrum or -dispersion wavelengths
            (one source per line and divergence direction, weighted; docs/spectra.md).

        Returns
        -------
        array
            The image (photons per pixel), shape (slow, fast).
        """
        opt = self._options(misset_deg, phi_start_deg, osc_deg, phisteps, mosaic_seed, mosaic_spread_deg, n_cells,
                            size_mm, wavelength_A, fluence_per_m2, distance_mm, beam_center_mm)
        axes = self._base_axes if orientation is None else _axes_m(orientation)
        if out is None:
            out = np.empty(self.shape, dtype=self.dtype)
        else:
            _check_out(out, self.shape)
        with self._lock:
            self._use_spectrum(spectrum)
            self._native.update(opt, axes)
            render(self._native, out, self.config.precision, self.threads, device=self._device)
            self._remember(out, self._rotation())
        return out

    def _use_spectrum(self, spectrum) -> None:
        """Bring the run object to spectrum (None: the config's) when it holds another one."""
        if spectrum is None and self._spectrum is None:
            return
        if spectrum is not None and spectrum == self._spectrum:
            return
        if spectrum is None:
            from .pipeline import spectrum_lines, spectrum_of

            self._native.set_spectrum(*spectrum_lines(spectrum_of(self.config.to_request())))
        else:
            self._native.set_spectrum(list(spectrum.wavelengths_m), list(spectrum.weights))
        self._spectrum = spectrum

    def trace(self, fpixel: int, spixel: int) -> dict:
        """The last evaluation of one pixel in the current state, as ``-printout_pixel`` reports it
        (position, stol, h k l, F_cell, F_latt, polarization, solid angle, the pixel's value)."""
        with self._lock:
            return self._native.trace_pixel(fpixel, spixel, False, True, self.config.precision)

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
            image = self.run(out[i], orientation=orientations[i], **kwargs)
            self._remember(out, self.rotation_of(image))  # the same phi range for every image
        return out

    def run_detector(self, detector, *, misset_deg=None, orientation=None, phi_start_deg=None, osc_deg=None,
                     phisteps=None, mosaic_seed=None, mosaic_spread_deg=None, n_cells=None, size_mm=None,
                     wavelength_A=None, fluence_per_m2=None, spectrum=None) -> np.ndarray:
        """:meth:`run` on a multi-panel detector (``detector.panels.Detector``): the (panels, slow,
        fast) stack, every panel rendered from the same run state (``detector.render``)."""
        from .detector.render import render_detector

        opt = self._options(misset_deg, phi_start_deg, osc_deg, phisteps, mosaic_seed, mosaic_spread_deg, n_cells,
                            size_mm, wavelength_A, fluence_per_m2, None, None)
        axes = self._base_axes if orientation is None else _axes_m(orientation)
        with self._lock:
            self._use_spectrum(spectrum)
            self._native.update(opt, axes)
            return render_detector(self._native, detector, self.dtype, self.config.precision, self.threads,
                                   self.backend, axes)

    def add_noise(self, image: np.ndarray, seed: Optional[int] = None) -> np.ndarray:
        """Poisson noise image (uint16 with the ADC offset) sharing this run's random state, as the CLI.

        seed: the ``-seed`` value; None takes ``config.noise_seed``.
        """
        s = self._noise_seed if seed is None else -int(seed)
        noisy = _noise(image, s, self.prepared.geometry["roi"], self.config.adc, self.prepared)[0]
        self._remember(noisy, self.rotation_of(image))
        return noisy


def simulate(config, out=None, dtype=np.float64, threads: int = 0, backend: str = "cpu") -> np.ndarray:
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
    backend : "cpu", "cuda" or "auto"
        Where to render (see :class:`Simulator`).

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
    return Simulator(config, dtype=dtype, threads=threads, backend=backend).run(out)


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
              scale: Optional[float] = None, adc: float = 40.0, phi_start_deg: Optional[float] = None,
              osc_deg: Optional[float] = None) -> None:
    """Write an SMV image with nanoBragg's header, atomically.

    A uint16 image is written as is; a float image is scaled as nanoBragg's intimage
    (``scale`` counts per photon; None: 55000 / max) plus ``adc``. The header's geometry comes
    from simulator (all zeros but the size without one); its PHI / OSC_START / OSC_RANGE from
    phi_start_deg / osc_deg when given, else from the run that rendered image
    (:meth:`Simulator.rotation_of`: an image its run(), run_batch() or add_noise() returned),
    else from the simulator's config.
    """
    from . import outputs

    rotation = None if simulator is None else simulator.rotation_of(image)
    image = np.asarray(image)
    if image.dtype != np.uint16:
        image32 = image.astype(np.float32)
        roi = (0, image.shape[1] - 1, 0, image.shape[0] - 1)
        st = outputs.image_stats(image32, roi, None)
        image = outputs.int_image(image32, outputs.int_scale(scale or 0.0, st.max_I), adc, roi)
    if simulator is not None:
        values = outputs.header_values(simulator.prepared)
        values["PHI"] = values["OSC_START"] = rotation[0]
        values["OSC_RANGE"] = rotation[1]
    else:
        values = {k: 0.0 for k in ("PIXEL_SIZE", "DISTANCE", "WAVELENGTH", "BEAM_CENTER_X", "BEAM_CENTER_Y",
                                   "ADXV_CENTER_X", "ADXV_CENTER_Y", "MOSFLM_CENTER_X", "MOSFLM_CENTER_Y",
                                   "DENZO_X_BEAM", "DENZO_Y_BEAM", "XDS_ORGX", "XDS_ORGY", "CLOSE_DISTANCE",
                                   "PHI", "OSC_START", "OSC_RANGE", "TWOTHETA")}
        values["DIALS_ORIGIN"] = (0.0, 0.0, 0.0)
    if phi_start_deg is not None:
        values["PHI"] = values["OSC_START"] = float(phi_start_deg)
    if osc_deg is not None:
        values["OSC_RANGE"] = float(osc_deg)
    values["SIZE1"], values["SIZE2"] = image.shape[1], image.shape[0]
    nbio.write_smv(path, nbio.smv_header(values), image)


def write_nexus(path: str, images, simulator: Simulator, *, detector=None, phi_start_deg=None, osc_deg=None,
                wavelengths_A=None, weights=None) -> None:
    """Write float images as NeXus/NXmx HDF5 (what ``-nexus`` writes; dxtbx/DIALS open it), atomically.

    images: one (slow, fast) image, (frames, slow, fast), or with detector (a multi-panel
    ``detector.panels.Detector``) one (panels, slow, fast) stack or (frames, panels, slow, fast).
    phi_start_deg, osc_deg: per frame (or one value for all); None: the run that rendered a single
    image (:meth:`Simulator.rotation_of`). wavelengths_A/weights: per-frame wavelengths (frames,) or
    spectra (frames, k) with weights (``incident_wavelength_weights``); None: the simulator's
    spectrum for every frame when it has one, else its wavelength. See docs/files.md.
    """
    from .formats.nxmx import write_nexus as _write_nexus
    from .formats.setup import Setup, run_spectrum

    setup = Setup.of_run(simulator.prepared, detector)
    frames = np.asarray(images, dtype=np.float32)
    single = frames.ndim == (2 if detector is None else 3)
    n = 1 if single else frames.shape[0]
    spectrum = run_spectrum(simulator.prepared)
    if wavelengths_A is None and spectrum is not None:
        wavelengths_A, weights = np.tile(spectrum[0], (n, 1)), np.tile(spectrum[1], (n, 1))
    phi, osc = simulator.rotation_of(images)  # the config's for a stack of frames
    starts = np.broadcast_to(np.asarray(phi if phi_start_deg is None else phi_start_deg, dtype=np.float64), (n,))
    widths = np.broadcast_to(np.asarray(osc if osc_deg is None else osc_deg, dtype=np.float64), (n,))
    masks = None
    if detector is None:  # the pixels the run does not render: outside the ROI, -mask zeros
        from .outputs import roi_mask

        masks = [roi_mask(simulator.shape, simulator.prepared.geometry["roi"])
                 & (True if simulator.mask is None else simulator.mask != 0)]
    _write_nexus(path, setup, frames, phi_start_deg=starts, osc_deg=widths,
                 saturation=float(np.finfo(np.float32).max), masks=masks, wavelengths_A=wavelengths_A, weights=weights)


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
