"""The NeXus/NXmx layout of simulated frames, written by ``-nexus FILE.h5`` and by the dataset mode.

One layout for one or several panels, read by dxtbx's NXmx reader (what DIALS uses):

- data ``/entry/instrument/detector/data`` (frames, rows, columns): the panels one after the
  other along slow (rows), each ``data_origin``/``data_size`` (slow, fast) in its
  NXdetector_module; ``/entry/data/data`` is a hard link to it.
- geometry, McStas frame (z along the beam, y up; :class:`setup.Setup`): the detector's
  ``transformations/detector_z`` (a translation along the one panel's normal, or along the beam
  for several), then per module ``module_offset`` (to the outer corner of its pixel (0, 0)), then
  ``fast_pixel_direction``/``slow_pixel_direction`` (one pixel, offset 0). dxtbx gives each
  module its own panel at exactly the panel's origin and axes.
- sample: ``depends_on`` the one rotation axis ``phi`` (the spindle) with one angle per frame,
  ``phi_end`` and ``phi_increment_set``: a sweep has increments > 0 and reads as a scan; stills have
  0 and read as stills.
- beam: ``incident_wavelength`` (a scalar, one per frame, or per-frame spectra with
  ``incident_wavelength_weights``), ``incident_polarisation_stokes``, flux. dxtbx does not read
  the polarisation: its beam model assumes a fraction of 0.999 in the horizontal plane.
- detector: sensor_material, sensor_thickness (a thin sensor as THIN_SENSOR_M), saturation_value, underload_value, pixel_mask,
  frame_time, count_time, and for one panel distance, beam_center_x/y and pixel sizes.
"""
from __future__ import annotations

import time
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..detector.panels import Detector
from .setup import Setup

__all__ = ["GAP", "MASKED", "THIN_SENSOR_M", "DETECTOR", "create_entry", "layout_shape", "panel_rows", "to_layout", "layout_mask",
           "module_name", "stage_nexus", "write_nexus"]

# NXdetector pixel_mask bits: 0 "gap (pixel with no sensor)", 8 "user defined mask".
GAP = np.uint32(1 << 0)
MASKED = np.uint32(1 << 8)
DETECTOR = "/entry/instrument/detector"
# nanoBragg's thin sensor (-detector_thick 0) as 1 nm: dxtbx refuses a thickness of 0 (its parallax
# model asserts t0 > 0), and the parallax of 1 nm is below 1e-5 pixel.
THIN_SENSOR_M = 1e-9


def panel_rows(detector: Detector) -> List[int]:
    """First data row of each panel (panels stacked along slow, as the written .geom has them)."""
    rows, r = [], 0
    for p in detector.panels:
        rows.append(r)
        r += p.spixels
    return rows


def layout_shape(detector: Detector) -> Tuple[int, int]:
    """(rows, columns) of one frame: every panel's rows, the widest panel's columns."""
    return (sum(p.spixels for p in detector.panels), max(p.fpixels for p in detector.panels))


def to_layout(detector: Detector, image: np.ndarray) -> np.ndarray:
    """One frame in the file's layout from a (panels, slow, fast) stack (or a (slow, fast) image of
    a one-panel detector); columns beyond a narrower panel are 0."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[None]
    out = np.zeros(layout_shape(detector), dtype=image.dtype)
    for p, r0, img in zip(detector.panels, panel_rows(detector), image):
        out[r0:r0 + p.spixels, :p.fpixels] = img[:p.spixels, :p.fpixels]
    return out


def layout_mask(detector: Detector, masks: Optional[Sequence[Optional[np.ndarray]]] = None) -> np.ndarray:
    """The pixel_mask of one frame: MASKED where a panel's mask (or masks[i], 0 = not rendered)
    is 0, GAP where the layout has no pixel of any panel."""
    out = np.full(layout_shape(detector), GAP, dtype=np.uint32)
    for i, (p, r0) in enumerate(zip(detector.panels, panel_rows(detector))):
        block = np.zeros((p.spixels, p.fpixels), dtype=np.uint32)
        for m in (p.mask, None if masks is None else masks[i]):
            if m is not None:
                block[np.asarray(m) == 0] |= MASKED
        out[r0:r0 + p.spixels, :p.fpixels] = block
    return out


def module_name(detector: Detector, index: int) -> str:
    """The NXdetector_module group of panel index: "module" for one panel, else the panel's name."""
    if len(detector.panels) == 1:
        return "module"
    return detector.panels[index].name.replace("/", "_")


def _nx(group, nx_class: str):
    group.attrs["NX_class"] = nx_class
    return group


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v / n if n > 0 else np.array([1.0, 0.0, 0.0])  # a zero translation: any direction


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


def _base_translation(setup: Setup) -> Tuple[np.ndarray, float]:
    """(unit vector, length) of detector_z, McStas: along the one panel's normal to its plane,
    or along the beam to the nearest panel centre for several panels."""
    M, det = setup.mcstas, setup.detector
    if len(det.panels) == 1:
        p = det.panels[0]
        n = M @ np.asarray(p.normal)
        d = float(np.dot(M @ np.asarray(p.origin), n))
        return (n, d) if d >= 0 else (-n, -d)
    z = np.array([0.0, 0.0, 1.0])
    return z, max(0.0, min(float(np.dot(M @ p.centre(), z)) for p in det.panels))


def create_entry(f, setup: Setup, frames: int, dtype, *, phi_start_deg: Sequence[float],
                 osc_deg: Sequence[float], saturation: float, underload: float = 0.0,
                 masks: Optional[Sequence[Optional[np.ndarray]]] = None, units: str = "photons",
                 wavelengths_A=None, weights=None, version: str = "", data_filters: Optional[dict] = None):
    """Create /entry of an NXmx file in the open h5py.File f; returns the (frames, rows, cols) data set.

    phi_start_deg, osc_deg: spindle angle at the start of each frame and its width (0: a still).
    saturation/underload: the highest/lowest valid pixel value (NXmx: valid pixels lie in between,
    both included). masks: per panel, an extra (slow, fast) mask (0 = not rendered: -mask, ROI).
    wavelengths_A/weights: per-frame wavelengths, shape (frames,), or spectra, shape (frames, k)
    with weights of the same shape (incident_wavelength_weights); None: setup.wavelength_A.
    data_filters: h5py create_dataset keywords for the data (compression); default gzip.
    """
    det_model = setup.detector
    M = setup.mcstas
    rows, cols = layout_shape(det_model)
    phi_start = np.asarray(phi_start_deg, dtype=np.float64).reshape(frames)
    osc = np.asarray(osc_deg, dtype=np.float64).reshape(frames)
    entry = _nx(f.create_group("entry"), "NXentry")
    entry.create_dataset("definition", data="NXmx")
    entry.create_dataset("start_time", data=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    entry.create_dataset("program_name", data="nanobragg-ext").attrs["version"] = version
    inst = _nx(entry.create_group("instrument"), "NXinstrument")
    inst.create_dataset("name", data="nanobragg-ext simulation")
    _nx(inst.create_group("source"), "NXsource").create_dataset("name", data="simulated")

    beam = _nx(inst.create_group("beam"), "NXbeam")
    if wavelengths_A is None:
        lam = beam.create_dataset("incident_wavelength", data=setup.wavelength_A)
    else:
        lam_values = np.asarray(wavelengths_A, dtype=np.float64)
        if lam_values.shape[0] != frames or lam_values.ndim not in (1, 2):
            raise ValueError(f"wavelengths_A: expected shape ({frames},) or ({frames}, k), got {lam_values.shape}")
        lam = beam.create_dataset("incident_wavelength", data=lam_values)
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != lam_values.shape or lam_values.ndim != 2:
                raise ValueError(f"weights: expected the shape of the (frames, k) wavelengths {lam_values.shape}, "
                                 f"got {w.shape}")
            beam.create_dataset("incident_wavelength_weights", data=w)
    lam.attrs["units"] = "angstrom"
    beam.create_dataset("incident_polarisation_stokes", data=setup.polarisation_stokes())
    beam.create_dataset("flux", data=setup.flux).attrs["units"] = "s-1"

    det = _nx(inst.create_group("detector"), "NXdetector")
    det.create_dataset("description", data="nanobragg-ext simulated detector")
    panels = det_model.panels
    det.create_dataset("sensor_material", data=panels[0].material)
    det.create_dataset("sensor_thickness", data=max(float(panels[0].thickness), THIN_SENSOR_M)).attrs["units"] = "m"
    det.create_dataset("saturation_value", data=saturation)
    det.create_dataset("underload_value", data=underload)
    det.create_dataset("frame_time", data=setup.exposure_s).attrs["units"] = "s"
    det.create_dataset("count_time", data=setup.exposure_s).attrs["units"] = "s"
    if len(panels) == 1:
        p = panels[0]
        bf, bs = setup.beam_spot(0)
        det.create_dataset("distance", data=setup.beam_distance(0)).attrs["units"] = "m"
        det.create_dataset("beam_center_x", data=bf / p.pixel_size).attrs["units"] = "pixel"
        det.create_dataset("beam_center_y", data=bs / p.pixel_size).attrs["units"] = "pixel"
        det.create_dataset("x_pixel_size", data=p.pixel_size).attrs["units"] = "m"
        det.create_dataset("y_pixel_size", data=p.pixel_size).attrs["units"] = "m"
    det.create_dataset("pixel_mask", data=layout_mask(det_model, masks), compression="gzip")
    det.create_dataset("pixel_mask_applied", data=False)
    filters = {"compression": "gzip", "compression_opts": 4} if data_filters is None else data_filters
    data = det.create_dataset("data", shape=(frames, rows, cols), dtype=dtype, chunks=(1, rows, cols),
                              fillvalue=0, **filters)
    data.attrs["units"] = units

    base = f"{DETECTOR}/transformations/detector_z"
    det.create_dataset("depends_on", data=base)
    tr = _nx(det.create_group("transformations"), "NXtransformations")
    z_vec, z_len = _base_translation(setup)
    _axis(tr, "detector_z", z_len, "translation", z_vec, ".", "m")
    for i, (p, r0) in enumerate(zip(panels, panel_rows(det_model))):
        name = module_name(det_model, i)
        module = _nx(det.create_group(name), "NXdetector_module")
        module.create_dataset("data_origin", data=np.array([r0, 0], dtype=np.int64))
        module.create_dataset("data_size", data=np.array([p.spixels, p.fpixels], dtype=np.int64))
        module.create_dataset("data_stride", data=np.array([1, 1], dtype=np.int64))
        inplane = M @ np.asarray(p.origin) - z_len * z_vec
        _axis(module, "module_offset", float(np.linalg.norm(inplane)), "translation", _unit(inplane), base, "m")
        offset_path = f"{DETECTOR}/{name}/module_offset"
        for key, direction in (("fast_pixel_direction", p.fast), ("slow_pixel_direction", p.slow)):
            _axis(module, key, p.pixel_size, "translation", M @ np.asarray(direction), offset_path, "m",
                  offset=[0.0, 0.0, 0.0])

    sample = _nx(entry.create_group("sample"), "NXsample")
    sample.create_dataset("name", data="simulated crystal")
    sample.create_dataset("depends_on", data="/entry/sample/transformations/phi")
    st = _nx(sample.create_group("transformations"), "NXtransformations")
    phi = _axis(st, "phi", phi_start, "rotation", _unit(M @ np.asarray(setup.spindle)), ".", "deg")
    phi.attrs["long_name"] = "spindle angle at the start of each frame"
    st.create_dataset("phi_end", data=phi_start + osc).attrs["units"] = "deg"
    st.create_dataset("phi_increment_set", data=osc).attrs["units"] = "deg"

    nxdata = _nx(entry.create_group("data"), "NXdata")
    nxdata["data"] = data  # hard link: NXmx's NXdata/data is the detector's data
    nxdata.attrs["signal"] = "data"
    return data


def stage_nexus(path: str, setup: Setup, images, *, phi_start_deg: Sequence[float], osc_deg: Sequence[float],
                saturation: float, underload: float = 0.0, masks=None, units: str = "photons",
                wavelengths_A=None, weights=None):
    """Write frames (an array (frames, panels, slow, fast), (frames, slow, fast) for one panel,
    or one (slow, fast) image) as an NXmx file under a temporary name; returns the
    :class:`staged.Staged` whose commit() puts it at path."""
    import h5py

    from .. import __version__
    from .staged import Staged

    det = setup.detector
    images = np.asarray(images)
    if images.ndim == 2 or (images.ndim == 3 and len(det.panels) > 1):
        images = images[None]
    staged = Staged(path, ".h5")
    try:
        with h5py.File(staged.tmp, "w") as f:
            data = create_entry(f, setup, images.shape[0], images.dtype, phi_start_deg=phi_start_deg,
                                osc_deg=osc_deg, saturation=saturation, underload=underload, masks=masks,
                                units=units, wavelengths_A=wavelengths_A, weights=weights, version=__version__)
            for i, frame in enumerate(images):
                data[i] = to_layout(det, frame)
            f["entry"].create_dataset("end_time", data=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    except BaseException:
        staged.discard()
        raise
    return staged


def write_nexus(path: str, setup: Setup, images, **kwargs) -> None:
    """:func:`stage_nexus`, then put the file in place (the API's one-call writer)."""
    stage_nexus(path, setup, images, **kwargs).commit()
