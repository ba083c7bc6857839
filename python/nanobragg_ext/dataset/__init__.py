"""Whole datasets: a rotation sweep or a series of randomly oriented stills over one base config,
rendered frame by frame (one Dask task per frame, or in this process) and written to a NeXus/NXmx
HDF5 file that an interrupted run resumes.

The parts, one concern each:

- :mod:`.series`: what frame i is (spindle range, orientation, crystal, seeds), from the index alone;
- :mod:`.frames`: rendering one frame through :class:`api.Simulator` (in a worker or here);
- :mod:`.cluster`: connecting to Dask and running frames there through the loss of workers;
- :mod:`.nexus`: the NXmx file (the layout of formats/nxmx.py); :mod:`.cbf`: optional CBF frames;
- :mod:`.run`: :class:`Dataset`, which ties them together; :mod:`.cli`: ``nanobragg-ext dataset``.

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
from .cli import main
from .cluster import ClusterError, FrameError
from .nexus import read_frame
from .run import Dataset, simulate_dataset
from .series import FrameSpec, RotationSweep, StillSeries, random_rotation

__all__ = ["RotationSweep", "StillSeries", "FrameSpec", "Dataset", "simulate_dataset", "read_frame", "main",
           "ClusterError", "FrameError", "random_rotation"]
