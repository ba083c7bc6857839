"""``nanobragg-ext compose``: a Bragg render, amorphous backgrounds and noisify's detector chain in
one run, without intermediate files:

    nanobragg-ext compose <nanoBragg options> -background <nonBragg options> [-background ...]
                          -noisify <noisify options>

The Bragg image (nanoBragg's options; none for a background-only image) gets each background
(nonBragg's options, one material each, same detector size) added to it as a float image (a
group that gives no wavelength follows the Bragg run's spectrum, when it has one), then
the -noisify group's options turn it into noisify's output files (its -floatfile names the
composed photons/pixel image, written when given). The files equal those of the three programs
run in sequence with the background float images summed into the Bragg one.
"""
from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List

SEPARATORS = ("-background", "-noisify")


def split_groups(argv: List[str]):
    """(bragg args, [background args ...], detector args or None)."""
    bragg: List[str] = []
    backgrounds: List[List[str]] = []
    detector = None
    current = bragg
    for tok in argv:
        if tok == "-background":
            backgrounds.append([])
            current = backgrounds[-1]
        elif tok == "-noisify":
            if detector is not None:
                raise ValueError("compose: -noisify given twice")
            detector = []
            current = detector
        else:
            current.append(tok)
    return bragg, backgrounds, detector


def photons(bragg: List[str], backgrounds: List[List[str]], warn):
    """The composed float32 image (slow, fast): the Bragg render plus each background."""
    import numpy as np

    from . import api, nonbragg, pipeline
    from .background import followed_spectrum
    from .nonbragg_options import parse_nonbragg_args
    from .options import parse_args

    image = spectrum = None
    if bragg:
        req = parse_args(bragg)
        table, sources, spectrum = pipeline.read_inputs(req, [])  # the spectrum the backgrounds follow
        sim = pipeline.build_simulator(req, table, sources, spectrum)
        g = sim.prepared.geometry
        image = np.zeros((g["spixels"], g["fpixels"]), dtype=np.float32)
        api.render(sim, image, req.precision, req.threads)
    for args in backgrounds:
        bg = parse_nonbragg_args(args)
        setup = nonbragg.prepare(bg, warn, followed_spectrum(bg, spectrum))
        if image is None:
            image = np.zeros(tuple(setup.shape), dtype=np.float32)
        if tuple(setup.shape) != image.shape:
            raise ValueError(f"compose: a background of {setup.shape[1]}x{setup.shape[0]} pixels on a "
                             f"{image.shape[1]}x{image.shape[0]} image")
        nonbragg.render(setup, image, bg.threads, True, False, bg.device)
    if image is None:
        raise ValueError("compose: neither Bragg options nor a -background group")
    return image


def detector_stage(detector: List[str], shape):
    """(noisify's parsed request, its DetectorResponse) for images of shape (slow, fast)."""
    from .noisify.command import finish_request, response_of
    from .noisify.options import parse_args as parse_noisify_args

    req = parse_noisify_args(detector)
    y, x = shape
    if req.headerfile is not None:
        raise ValueError("compose: -header is not supported in the -noisify group")
    req.detsize_x, req.detsize_y = req.pixel * x, req.pixel * y
    finish_request(req)
    return req, response_of(req)


def detect(image, detector: List[str], out) -> None:
    """noisify's outputs for the image (its options; -floatfile names the composed image)."""
    from . import _core, io
    from .noisify.headers import noisify_header

    req, response = detector_stage(detector, image.shape)
    y, x = image.shape
    response.check(x, y, _core.noisify_scan(image))
    result = _core.noisify_response(image.ravel(), x, y, response.params, req.seed, req.calculate_noise)
    head = noisify_header(req.bits, result.width, result.height, req.pixel * req.rebin, req.distance, req.lambda_,
                          req.Xbeam, req.Ybeam, req.detsize_y, req.phi0, req.osc)
    from .nonbragg import check_writable

    check_writable([f for f, on in ((req.floatfile, req.floatfile is not None), (req.intfile, True),
                                     (req.pgmfile, req.write_pgm), (req.noisefile, req.calculate_noise)) if on])
    if req.floatfile is not None:
        io.write_atomic(req.floatfile, image.astype("<f4").tobytes())
        print(f"writing {req.floatfile} as {image.size} 4-byte floats", file=out)
    result.write({16: "int16", 32: "int32"}.get(req.bits, "header"), req.intfile, head)
    print(f"writing {req.intfile}", file=out)
    if req.write_pgm:
        result.write("pgm", req.pgmfile, b"")
        print(f"writing {req.pgmfile}", file=out)
    if req.calculate_noise:
        result.write({16: "noise16", 32: "noise32"}.get(req.bits, "header"), req.noisefile, head)
        print(f"{result.photons:.0f} photons on noise image ({result.overloads} overloads)", file=out)
        print(f"writing {req.noisefile}", file=out)


def main(argv: List[str]) -> int:
    from .io import InputError
    from .options import OptionError

    try:
        bragg, backgrounds, detector = split_groups(argv)
        if detector is None:
            raise ValueError("compose: no -noisify group (noisify's options; use '-noisify -nonoise' "
                             "for the noiseless image only)")
        image = photons(bragg, backgrounds, lambda w: print(f"nanobragg-ext compose: warning: {w}", file=sys.stderr))
        detect(image, detector, sys.stdout)
        return 0
    except (OptionError, InputError, ValueError, RuntimeError, OSError) as e:
        print(f"nanobragg-ext compose: error: {e}", file=sys.stderr)
        return 2
