"""Loading a run and writing its files: the one load path of the command line and the Python API
(options and input files to a native run object, ``_core.Simulator``), and the command line's
outputs. NumPy-free (every file is read and written by the native core), so a one-shot
``nanobragg-ext`` run starts about as fast as the original C program."""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import Optional

from . import _core
from . import io as nbio
from .options import Request


class UsageError(ValueError):
    """The run lacks a crystal (no -cell or -mat) or structure factors (no -hkl, dump or -default_F)."""


def check_usage(req: Request, table=None) -> None:
    """Same test as nanoBragg.c before it prints its usage text and exits with status 9."""
    opt = req.options
    has_dump = req.dump is not None and os.path.exists(req.dump)
    no_F = table is None and req.hkl is None and not has_dump and opt.default_F == 0.0
    no_cell = req.mat is None and opt.cell[0] == 0.0
    if no_F or no_cell:
        what = "structure factors (-hkl, a dump file or -default_F)" if no_F else "a crystal (-cell or -mat)"
        raise UsageError(f"no {what} given")


def load_table(req: Request, messages: list, write_dump: bool = True) -> Optional["_core.FTableData"]:
    """-hkl (then write the dump), else a dump file left by an earlier run, else none (Q19).

    req.dump None: no dump file is read or written (the API's default).
    """
    opt = req.options
    if req.hkl is not None:
        if nbio.is_reflection_file(req.hkl):  # MTZ / mmCIF through gemmi, expanded to P1
            from . import structure_factors as sf

            table = sf.read_reflections(req.hkl, req.mtz_column, opt.default_F)
        else:
            table = _core.read_hkl(req.hkl, opt.default_F)
        if write_dump and req.dump is not None:
            # Written with the images (write_outputs), so an error on the way leaves no file.
            if _can_create(req.dump):
                messages.append(f"writing dump file for next time: {req.dump}")
            else:
                messages.append(f"WARNING: unable to open dump file: {req.dump}")
        return table
    if req.dump is not None and os.path.exists(req.dump):
        messages.append(f"reading Fs from {req.dump}")
        return _core.read_fdump(req.dump)
    return None


def _can_create(path: str) -> bool:
    """Whether a file can be written at path (its folder exists and is writable, it is no folder)."""
    folder = os.path.dirname(path) or "."
    return os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK) and not os.path.isdir(path)


def load_request(req: Request, messages: Optional[list] = None, table=None, write_dump: bool = True,
                 axes=None) -> "_core.Simulator":
    """Read every input file of req and build the native run object (the CLI's and the API's path).

    table: a structure-factor table already in memory (``_core.FTableData``), used instead of the
    files; write_dump: write the Fdump cache after reading -hkl, as the C does; axes: real-space
    cell axes a, b, c (m) replacing cell and misset. messages receives the file-reading lines the
    console prints.
    """
    messages = [] if messages is None else messages
    table, sources, spectrum = read_inputs(req, messages, table, write_dump)
    return build_simulator(req, table, sources, spectrum, axes)


def read_inputs(req: Request, messages: list, table=None, write_dump: bool = True):
    """The first half of load_request: every input file read and checked, nothing built; returns
    (table, sources, spectrum) for build_simulator, sources being the -sourcefile columns (xyz,
    weight, lambda) and spectrum the spectra.Spectrum of the run (None without one)."""
    check_usage(req, table)
    opt = req.options
    if req.mat is not None:
        opt.matrix = nbio.read_matrix(req.mat)
        opt.has_matrix = True
    if table is None:
        table = load_table(req, messages, write_dump)
    if (table is None or table.hkls == 0) and opt.default_F == 0.0:
        raise UsageError("no structure factors (-hkl, a dump file or -default_F) given")
    sources = ([], [], []) if req.sourcefile is None else nbio.read_sourcefile_columns(req.sourcefile)
    if req.stol is not None:
        if not _has_text_rows(nbio._read_bytes(req.stol, "S(Q)")):  # read and unused, as in the C
            raise nbio.InputError(f"S(Q) file '{req.stol}': no data in input file")
        messages.append(f"reading {req.stol}")
    return table, sources, spectrum_of(req)


def build_simulator(req: Request, table, sources, spectrum, axes=None) -> "_core.Simulator":
    """The second half of load_request: the native run object (set-up, sources, tables) and its mask."""
    xyz, weight, lam = sources
    sim = _core.Simulator(req.options, table, xyz, lam, weight, None, axes, *spectrum_lines(spectrum))
    if req.mask_image is not None:
        sim.set_mask(mask_pixels(req, sim.prepared))
    return sim


def spectrum_of(req: Request, sase_seed=None, warn=None):
    """The spectra.Spectrum of a -spectrum, -sase_bandwidth or -two_colour run (None without one);
    sase_seed replaces -sase_seed (a dataset's frame); warn(line): the note on a long spectrum
    file (None: stderr)."""
    if req.spectrum_file is None and not req.sase_bandwidth > 0 and req.two_colour is None and not req.spectrum_bins:
        return None  # spectra.py (and NumPy for SASE) is not imported on a plain run
    from . import spectra

    return spectra.from_request(req, sase_seed, warn)


def no_note(line: str) -> None:
    """The warn of spectrum_of for a spectrum read again: the run that read it first gave the note."""


def spectrum_lines(spectrum) -> tuple:
    """(wavelengths in m, weights) of a spectrum for the native run object; empty lists for None."""
    return ([], []) if spectrum is None else (list(spectrum.wavelengths_m), list(spectrum.weights))


def _has_text_rows(data: bytes) -> bool:
    """Whether the C's read_text_file counts a row in data: a line is blank only when nothing but
    its delimiters comes before its newline (a last line without one always counts)."""
    lines = data.split(b"\n")
    return bool(lines[-1]) or any(line.lstrip(b" \t,;:!") for line in lines[:-1])


def available_memory() -> Optional[int]:
    """Bytes a run may allocate: the physical memory, or the address-space limit if lower (None: unknown)."""
    try:
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    import resource

    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    return avail if limit == resource.RLIM_INFINITY else min(avail, limit)


def check_memory(prepared, bytes_per_pixel: int = 4 + 2 + 2) -> None:
    """Refuse a detector whose images would not fit in memory, before allocating anything.

    bytes_per_pixel: the float32 image and the two uint16 SMV images.
    """
    g = prepared.geometry
    need = int(g["fpixels"]) * int(g["spixels"]) * bytes_per_pixel
    avail = available_memory()
    if avail is not None and need > avail:
        raise nbio.InputError(
            f"detector of {g['fpixels']} x {g['spixels']} pixels needs about {need / 2**30:.1f} GiB; "
            f"this machine has {avail / 2**30:.1f} GiB")


def mask_pixels(req: Request, prepared) -> bytes:
    """The -mask pixels (native uint16) after checking they match the detector of prepared."""
    g = prepared.geometry
    m = req.mask_image
    if (m.height, m.width) != (g["spixels"], g["fpixels"]):
        raise nbio.InputError(
            f"mask file '{req.mask}': {m.width}x{m.height} pixels, detector is {g['fpixels']}x{g['spixels']}")
    return m.pixels


def header_wavelength_m(prepared) -> float:
    """The wavelength a run's files and console report (m): -lambda, or with a spectrum (-spectrum,
    -sase_bandwidth, -two_colour, Simulator.run(spectrum=...)) its weighted mean wavelength,
    sum(w lambda) / sum(w) (docs/spectra.md)."""
    mean = prepared.record["spectrum_mean_lambda"]
    return mean if mean > 0 else prepared.options.lambda0


def header_values(prepared) -> dict:
    """The SMV header fields of a prepared run (mm, Angstrom and degrees as the C prints them)."""
    from .options import RTD

    g = prepared.geometry
    s = prepared.sampling
    px = g["pixel_size"]
    return {
        "SIZE1": g["fpixels"], "SIZE2": g["spixels"], "PIXEL_SIZE": px * 1000.0,
        "DISTANCE": g["distance"] * 1000.0, "WAVELENGTH": header_wavelength_m(prepared) * 1e10,
        "BEAM_CENTER_X": g["Xbeam"] * 1000.0, "BEAM_CENTER_Y": g["Ybeam"] * 1000,
        "ADXV_CENTER_X": g["Fbeam"] * 1000.0, "ADXV_CENTER_Y": (g["detsize_s"] - g["Sbeam"]) * 1000,
        "MOSFLM_CENTER_X": (g["Sbeam"] - 0.5 * px) * 1000.0, "MOSFLM_CENTER_Y": (g["Fbeam"] - 0.5 * px) * 1000,
        "DENZO_X_BEAM": (g["Sbeam"] - 0.0 * px) * 1000.0, "DENZO_Y_BEAM": (g["Fbeam"] - 0.0 * px) * 1000,
        "DIALS_ORIGIN": g["dials_origin"], "XDS_ORGX": g["ORGX"], "XDS_ORGY": g["ORGY"],
        "CLOSE_DISTANCE": g["close_distance"] * 1000.0,
        "PHI": s["phi0"] * RTD, "OSC_START": s["phi0"] * RTD, "OSC_RANGE": s["osc"] * RTD,
        "TWOTHETA": g["twotheta"] * RTD,
    }


def smv_header_of(req: Request, prepared) -> bytes:
    """The SMV header of the int and noise images: the C's, or with -smv_header dials the one
    dxtbx reads right (formats/smv_header.py)."""
    values = header_values(prepared)
    if req.smv_header == "dials":
        from .formats.smv_header import dials_values

        values = dials_values(values, prepared, float(req.adc))
    return nbio.smv_header(values)


def write_outputs(image, sim, req: Request) -> dict:
    """Statistics and the float, int, PGM and noise files of a rendered image (Image32) of sim,
    with the -nexus/-crystfel files: all put in place together, or none on an error."""
    staged = []
    if req.nexusfile or req.crystfel_file:
        from .formats.run_files import stage_run_files

        staged = stage_run_files(image, sim.prepared, req)
    from .formats.staged import write_with

    return write_with(staged, lambda: _write_native(image, sim, req))


def _write_native(image, sim, req: Request) -> dict:
    header = smv_header_of(req, sim.prepared)
    if len(header) > 512:
        print(f"nanobragg-ext: warning: the SMV header is {len(header)} bytes, as the C writes it, but says "
              "HEADER_BYTES=512: readers will take its end for pixels", file=sys.stderr)
    spec = {
        "header": header,
        "floatfile": req.floatfile, "intfile": req.intfile,
        "pgmfile": req.pgmfile if req.write_pgm else None,
        "noisefile": req.noisefile if req.write_noise else None,
        "dumpfile": req.dump if req.hkl is not None else None,
        "adc": float(req.adc), "seed": int(req.seed),
        "int_scale": float(req.intfile_scale), "pgm_scale": float(req.pgm_scale),
    }
    return _core.write_outputs(image, sim, spec)
