"""nanobragg-ext: a fast, faithful re-implementation of James Holton's nanoBragg.

Renders absolute-scale diffraction images (photons per pixel) of small crystals; the
``nanobragg-ext`` command takes every option of the original ``nanoBragg``.

A first image
-------------
>>> import nanobragg_ext as nb
>>> cfg = nb.SimulationConfig(
...     detector=nb.DetectorConfig(fpixels=64, spixels=64, pixel_size_mm=0.1, distance_mm=100),
...     beam=nb.BeamConfig(wavelength_A=1.0),
...     crystal=nb.CrystalConfig(cell=(50, 50, 50, 90, 90, 90), n_cells=(5, 5, 5), default_F=100))
>>> img = nb.simulate(cfg)               # float64 (slow, fast), photons per pixel
>>> img.shape
(64, 64)

With an HKL file (``hkl_file="examples/P1.hkl"``), re-rendering cheaply (``nb.Simulator(cfg).run(
misset_deg=(10, 0, 0))``), noise and files (``nb.add_noise``, ``nb.write_smv``, ``nb.write_png``).

Where to look next
------------------
- ``help(nb.simulate)``, ``help(nb.Simulator)``, ``help(nb.SimulationConfig)``: the API, units
  in the field names (``distance_mm``, ``wavelength_A``, ``phi_start_deg``).
- Readers and writers: ``nb.read_hkl``, ``nb.read_matrix``, ``nb.read_sourcefile``,
  ``nb.read_smv``, ``nb.read_reflections`` (MTZ/mmCIF), ``nb.write_hkl``, ``nb.write_float``,
  ``nb.write_pgm``, ``nb.write_fdump``.
- Submodules: ``nanobragg_ext.api``, ``.config``, ``.io``, ``.structure_factors``, ``.preview``,
  ``.dataset`` (series on Dask to NeXus/HDF5), ``.backends`` (CPU/CUDA), ``.info``.
- The command line: ``nanobragg-ext -h``, ``nanobragg-ext info``; README.md (examples/ holds
  example inputs).

Nothing heavy is imported until used: names resolve on first access (PEP 562).
"""
from ._core import __version__, build_info
from .backends import backends

# Front-door name -> the submodule that defines it (imported on first access).
_LAZY = {
    "simulate": "api", "Simulator": "api", "add_noise": "api",
    "write_smv": "api", "write_float": "api", "write_pgm": "api", "write_png": "api",
    "SimulationConfig": "config", "DetectorConfig": "config", "BeamConfig": "config",
    "CrystalConfig": "config", "SamplingConfig": "config",
    "FTable": "io", "InputError": "io", "read_hkl": "io", "read_matrix": "io", "read_sourcefile": "io",
    "read_fdump": "io", "write_fdump": "io", "read_smv": "io", "read_float_image": "io",
    "from_arrays": "structure_factors", "read_reflections": "structure_factors",
    "write_hkl": "hkl_file",
    "MissingExtra": "extras",
}
# Submodules reachable as attributes (nb.api, nb.config, ...) without importing them first.
_SUBMODULES = ("api", "config", "io", "structure_factors", "hkl_file", "preview", "outputs", "dataset",
               "info", "extras")

__all__ = ["__version__", "build_info", "backends"] + sorted(_LAZY)


def __getattr__(name):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nanobragg_ext' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
