"""The NeXus/NXmx HDF5 file of a dataset: created (or reopened to resume) and filled by the client.

Each frame is one chunk (bitshuffle+LZ4 from hdf5plugin). A frame's ``written`` flag
(``/entry/nanobragg/written``) is set only after the frame is flushed, so a flag always means a
whole frame and an interrupted run resumes by skipping flagged frames.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np

from .series import FrameSpec

__all__ = ["TO_MCSTAS", "MASKED", "NXmxWriter", "read_frame", "require_h5py"]

# nanoBragg's lab frame (beam along +x, y up, spindle along +z) to NeXus McStas (beam along +z,
# y up, x completing a right-handed set): (x, y, z)_McStas = (-z, y, x)_nanoBragg. This is the
# DIALS frame nanoBragg prints as "dials origin" (z, y, -x) turned 180 degrees about y.
TO_MCSTAS = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])

MASKED = np.uint32(1 << 8)  # NXdetector pixel_mask bit 8: "user defined mask" (-mask zeros, outside -roi)


def require_h5py() -> None:
    """RuntimeError naming the extra to install unless h5py and hdf5plugin import."""
    try:
        import h5py  # noqa: F401
        import hdf5plugin  # noqa: F401
    except ImportError as e:
        raise RuntimeError(f"dataset output needs h5py and hdf5plugin ({e.name} is missing): "
                           "pip install 'nanobragg-ext[dataset]'") from None


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


def create_incident_wavelength(beam, wavelength_A: float, frames: int, lines: int) -> None:
    """NXbeam incident_wavelength: the run's one wavelength, or with a spectrum of `lines`
    wavelengths per frame an (nP, m) array of them with incident_wavelength_weights beside it
    (the weights of a frame sum to 1)."""
    if not lines:
        beam.create_dataset("incident_wavelength", data=wavelength_A).attrs["units"] = "angstrom"
        return
    beam.create_dataset("incident_wavelength", shape=(frames, lines), dtype=np.float64,
                        chunks=(1, lines)).attrs["units"] = "angstrom"
    beam.create_dataset("incident_wavelength_weights", shape=(frames, lines), dtype=np.float64, chunks=(1, lines))


class DatasetExists(ValueError):
    """The output file holds another dataset: the API says overwrite=True, the CLI --overwrite."""

    def __init__(self, path: str, how: str = "overwrite=True"):
        super().__init__(f"'{path}' holds a different dataset (or none); use {how} to replace it, or another file")
        self.path = path


class NXmxWriter:
    """The output file, owned by the client: creates (or reopens to resume) and fills it."""

    def __init__(self, path: str, ds, overwrite: bool = False):
        require_h5py()
        import h5py
        import hdf5plugin

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
                raise DatasetExists(path)
            self.resumed = True
        else:
            self.f = h5py.File(path, "w")
            self.f.attrs["nanobragg_ext_description"] = text
            self._create(hdf5plugin)
            self.resumed = False
        from ..io import write_atomic
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
        g = ds.prepared.geometry
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
        create_incident_wavelength(beam, float(cfg.beam.wavelength_A), n, ds.spectrum_lines)
        beam.create_dataset("flux", data=float(ds.prepared.flux)).attrs["units"] = "s-1"
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
        if ds.mask is not None:
            mask[ds.mask == 0] |= MASKED
        from ..outputs import roi_mask
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

    def set_frame_spectrum(self, index: int, spectrum) -> None:
        """Frame index's wavelengths and weights (a spectra.Spectrum), before the frame is flagged."""
        beam = self.f["entry/instrument/beam"]
        beam["incident_wavelength"][index] = spectrum.wavelengths_A
        beam["incident_wavelength_weights"][index] = spectrum.weights

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


def read_frame(path: str, index: int) -> np.ndarray:
    """Frame index of an NXmx file written here (decompressed through hdf5plugin)."""
    import h5py
    import hdf5plugin  # noqa: F401  (registers the bitshuffle filter)

    with h5py.File(path, "r") as f:
        return f["entry/instrument/detector/data"][index]
