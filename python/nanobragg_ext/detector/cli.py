"""The detector options of the command line: -geom, -expt, -detector, -write_geom, -write_expt.

They are taken out of argv here, before the nanoBragg option parser sees the rest (so the
option table stays the C's). Without -geom/-expt/-detector the run is the plain one, unchanged;
-write_geom/-write_expt then describe its one panel. With one of them every panel is rendered
(render.py) and the float file holds the (panels, slow, fast) stack as float32, panels one
after the other along slow (the data layout of the written .geom); -pngfile shows the
assembled picture. The SMV, PGM and noise images are for one-panel runs only.
"""
from __future__ import annotations

import sys
from typing import Dict, List, Tuple

DETECTOR_OPTIONS = ("-geom", "-expt", "-detector", "-write_geom", "-write_expt")


def split_args(argv: List[str]) -> Tuple[List[str], Dict[str, str]]:
    """(the other arguments, {option: value}) for the options above; OptionError when one lacks
    its value or is given twice."""
    from ..options import OptionError

    rest: List[str] = []
    found: Dict[str, str] = {}
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in DETECTOR_OPTIONS:
            if i + 1 >= len(argv):
                raise OptionError(f"option {tok} needs 1 value")
            if tok in found:
                raise OptionError(f"option {tok} given twice")
            found[tok] = argv[i + 1]
            i += 2
            continue
        rest.append(tok)
        i += 1
    sources = [k for k in ("-geom", "-expt", "-detector") if k in found]
    if len(sources) > 1:
        raise OptionError(f"options {' and '.join(sources)}: give one detector only")
    return rest, found


def wavelength_given(argv: List[str]) -> bool:
    """Whether the command line sets the wavelength (-lambda, -wave or -energy, as the option
    parser matches them)."""
    from ..option_table import OPTIONS

    setters = [o for o in OPTIONS if "beam.wavelength_A" in o.sets]
    return any(o.matches(tok) for tok in argv if tok.startswith("-") for o in setters)


def _wavelength_from_geom(req, rest: List[str], path: str, out) -> None:
    """A .geom's photon_energy sets the wavelength when the command line gives none."""
    from .crystfel_geom import HC_EV_A, read_geom

    energy = read_geom(path)[1].get("photon_energy")
    if energy is not None and not wavelength_given(rest):
        req.options.lambda0 = HC_EV_A / energy * 1e-10
        print(f"wavelength {HC_EV_A / energy:g} A from photon_energy = {energy:g} eV in {path}", file=out)


def _describe(det, prepared, req) -> Tuple[bytes, bytes]:
    """The .geom and .expt texts of det for this run (photon energy and wavelength from -lambda,
    or with a spectrum from its weighted mean wavelength, as the image headers: docs/spectra.md)."""
    import json

    from ..pipeline import no_note, spectrum_of
    from .crystfel_geom import HC_EV_A, geom_text
    from .dials_expt import expt_document

    spectrum = spectrum_of(req, warn=no_note)
    lam = prepared.options.lambda0 if spectrum is None else spectrum.mean_wavelength_A * 1e-10
    return (geom_text(det, HC_EV_A / (lam * 1e10)).encode(),
            (json.dumps(expt_document(det, lam * 1e10), indent=1) + "\n").encode())


def run(rest: List[str], found: Dict[str, str], out=None) -> int:
    """A run with detector options (main() maps the errors to exit status 2)."""
    import numpy as np

    from .. import io as nbio
    from ..options import OptionError, parse_args
    from .panels import Detector, GeometryError

    out = sys.stdout if out is None else out
    req = parse_args(rest)
    from ..extras import check_request
    from ..preflight import check_outputs

    check_request(req)  # a missing optional package (h5py for -nexus, ...) stops before anything is written
    check_outputs(req)  # every output folder, before anything is read or written
    messages: list = []
    try:
        if not any(k in found for k in ("-geom", "-expt", "-detector")):
            from .. import cli
            from .render import placement

            prepared = placement(req)
            texts = _describe(Detector.from_prepared(prepared), prepared, req)
            rc = cli.run(rest, out)
            _write_descriptions(found, texts, out)
            return rc
        from ..pipeline import load_request
        from .render import assemble, placement, render_detector, sensor_detector

        if req.mask is not None:
            raise OptionError("option -mask: one-panel detectors only; give bad regions in the .geom instead")
        o = req.options
        if (o.roi_xmin, o.roi_xmax, o.roi_ymin, o.roi_ymax) != (-1, -1, -1, -1):
            raise OptionError("option -roi: one-panel detectors only; mask the panels in the .geom instead")
        if "-geom" in found:
            _wavelength_from_geom(req, rest, found["-geom"], out)
        det = _load(found, placement(req).geometry)  # before load_request: -hkl writes its dump file
        det.check_overlaps()
        det = sensor_detector(det, req.options)  # the sensor each panel is rendered with
        sim = load_request(req, messages)
        texts = _describe(det, sim.prepared, req)
        for m in messages:
            print(m, file=out)
        n, ns, nf = det.shape
        print(f"detector: {n} panel{'s' if n > 1 else ''}, image stack {n} x {ns} x {nf} (panels, slow, fast)",
              file=out)
        stack = render_detector(sim, det, np.float64, req.precision, req.threads, req.device)
    except GeometryError as e:
        raise nbio.InputError(str(e)) from None
    stack32 = np.ascontiguousarray(stack, dtype=np.float32)
    from ..formats.run_files import stage_run_files

    from ..formats.staged import write_with

    staged = stage_run_files(stack32, sim.prepared, req, det)  # -nexus, -crystfel: in place with the float file
    write_with(staged, lambda: nbio.write_float_image(req.floatfile, stack32.reshape(-1, stack32.shape[2])))
    for s in staged:
        print(f"writing {s.path}", file=out)
    print(f"writing {req.floatfile} as {stack32.size} 4-byte floats ({n} panels stacked along slow)", file=out)
    if req.pngfile:
        from ..preview import write_png

        write_png(req.pngfile, assemble(det, stack32))
        print(f"writing {req.pngfile} as a log-scaled PNG preview of the assembled panels", file=out)
    _write_descriptions(found, texts, out)
    print("(the SMV, PGM and noise images are written for one-panel detectors only)", file=out)
    return 0


def _load(found: Dict[str, str], g):
    """The Detector the options name, placed for the run's geometry g."""
    if "-geom" in found:
        from .crystfel_geom import read_geom

        return read_geom(found["-geom"], g["beam"])[0]
    if "-expt" in found:
        from .dials_expt import read_expt

        return read_expt(found["-expt"], g["beam"])
    from .presets import preset_detector

    return preset_detector(found["-detector"], g["distance"], g["beam"], g["fdet"], g["sdet"])


def _write_descriptions(found: Dict[str, str], texts: Tuple[bytes, bytes], out) -> None:
    from ..io import write_atomic

    for key, data in zip(("-write_geom", "-write_expt"), texts):
        if key in found:
            write_atomic(found[key], data)
            print(f"writing {found[key]} ({'CrystFEL geometry' if key == '-write_geom' else 'DIALS experiment list'})",
                  file=out)
