"""The NeXus/NXmx HDF5 file of a dataset: created (or reopened to resume) and filled by the client.

The layout is formats/nxmx.py's (the one ``-nexus`` writes), one or several panels; the dataset
adds the unit cell per frame and ``/entry/nanobragg`` (flags, axes, seeds, description).
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

__all__ = ["NXmxWriter", "read_frame", "require_h5py"]


def require_h5py() -> None:
    """extras.MissingExtra naming the extra to install unless h5py and hdf5plugin import."""
    from ..extras import require_extra

    for module in ("h5py", "hdf5plugin"):
        require_extra(module, "dataset", "dataset output (NXmx)")


def _cell_of(axes: np.ndarray) -> np.ndarray:
    a, b, c = axes
    la, lb, lc = (np.linalg.norm(v) for v in (a, b, c))
    ang = lambda u, v, lu, lv: np.degrees(np.arccos(np.clip(np.dot(u, v) / lu / lv, -1, 1)))  # noqa: E731
    return np.array([la, lb, lc, ang(b, c, lb, lc), ang(a, c, la, lc), ang(a, b, la, lb)])


def saturation_of(dtype) -> float:
    """The highest valid pixel value of a frame type: one below the clip of noisy counts (a clipped
    pixel is an overload), the float32 maximum for photons."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return float(np.finfo(dtype).max)
    return float(np.iinfo(dtype).max - 1)


class DatasetExists(ValueError):
    """The output file holds another dataset: the API says overwrite=True, the CLI --overwrite."""

    def __init__(self, path: str, how: str = "overwrite=True"):
        super().__init__(f"'{path}' holds a different dataset (or none); use {how} to replace it, or another file")
        self.path = path


class NXmxWriter:
    """The output file, owned by the client: creates (or reopens to resume) and fills it."""

    def __init__(self, path: str, ds, overwrite: bool = False, wavelengths_A=None, weights=None):
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
            self._create(hdf5plugin, wavelengths_A, weights)
            self.resumed = False
        from ..io import write_atomic
        write_atomic(self.sidecar, (json.dumps(self.description, indent=2, sort_keys=True) + "\n").encode())
        e = self.f["entry"]
        self.data = e["instrument/detector/data"]
        self.flags = e["nanobragg/written"]
        self.written = self.flags[()].astype(bool)
        self.meta = e["nanobragg"]
        self.cell = e["sample/unit_cell"]

    def _create(self, hdf5plugin, wavelengths_A, weights) -> None:
        """The NXmx layout (formats/nxmx.py: the same as -nexus) plus the dataset's own records.

        wavelengths_A/weights: per-frame wavelengths (frames,) or spectra (frames, k) with weights.
        """
        from ..formats.nxmx import create_entry
        from ..outputs import roi_mask
        from .series import RotationSweep

        ds = self.ds
        n = len(ds)
        setup = ds.setup
        series = ds.series
        if isinstance(series, RotationSweep):
            starts, osc = series.start_deg + series.width_deg * np.arange(n), np.full(n, series.width_deg)
        else:
            starts, osc = np.full(n, float(ds.config.crystal.phi_start_deg)), np.zeros(n)
        masks = None
        if ds.detector is None:
            g = ds.prepared.geometry
            mask = roi_mask(ds.shape, g["roi"])
            if ds.mask is not None:
                mask &= ds.mask != 0
            masks = [mask]
        create_entry(self.f, setup, n, ds.dtype, phi_start_deg=starts, osc_deg=osc, saturation=saturation_of(ds.dtype),
                     masks=masks, units="photons" if ds.dtype.kind == "f" else "counts", wavelengths_A=wavelengths_A,
                     weights=weights, version=self.description["version"],
                     data_filters=hdf5plugin.Bitshuffle(cname="lz4"))
        entry = self.f["entry"]
        sample = entry["sample"]
        sample.create_dataset("unit_cell", shape=(n, 6), dtype=np.float64, chunks=(min(n, 4096), 6))
        nb = entry.create_group("nanobragg")
        nb.attrs["NX_class"] = "NXcollection"
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
        axes = self.ds.axes_A if spec.orientation is None else np.asarray(spec.orientation)
        self.meta["real_space_axes"][i] = axes @ self.ds.setup.mcstas.T
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


def read_frame(path: str, index: int) -> np.ndarray:
    """Frame index of an NXmx file written here (decompressed through hdf5plugin)."""
    import h5py
    import hdf5plugin  # noqa: F401  (registers the bitshuffle filter)

    with h5py.File(path, "r") as f:
        return f["entry/instrument/detector/data"][index]
