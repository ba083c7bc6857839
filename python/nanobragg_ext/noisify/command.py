"""``nanobragg-ext noisify``: a drop-in for noisify.c, same files and console text.

Phases as in the C's main() (NOISIFY.md section 3): parse, banner (or the usage text and exit 9),
image size, read the floats, print the parameters, then the detector chain in C++ and the files.
Everything is computed before the first file is put in place: the files are written under
temporary names (the noiseless ones while the noise is drawn) and renamed only once all are
written, so a refused run (one line on stderr, exit 2) leaves nothing behind. Where the C's arithmetic
gives an unphysical result on sound input (its quirks) we reproduce its bytes and say so in one
warning line on stderr; ``-corrected`` gives the physical result instead.
"""
from __future__ import annotations

import math
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional

from .options import INT32_MAX, NoisifyRequest, parse_args

BANNER = "noisify - add noise to pixels - James Holton 3-19-16"
USAGE = """usage: noisify -floatfile floatimage.bin
options:
\tfloatimage.bin\t nearBragg-style binary dump file
\t-scale\tscale factor to put floatimage.bin in photons/pixel
\t-gain\tpixel units per photon
\t-readout_noise\tgaussian noise added to every pixel
\t-flicker\t fractional 1/f noise in source
\t-calibration\t static fractional error per pixel
\t-calib_seed\t change seed for calibration error
\t-seed\t specify seed for all non-calibration errors
\t-gain\t pixel units per photon
\t-adc\t offset added to each pixel after noise
\t-distance\t distance from origin to detector center in mm
\t-detsize\t detector size in mm
\t-pixel\t detector pixel size in mm
\t-psf gauss|fiber\t point spread function type (gaussian or fiber)
\t-psf_fwhm\t point spread function size in um
\t-psf_radius\t radius to render PSF in pixels (default automatic)
\t-lambda\t incident x-ray wavelength in Angstrom
\t-intfile\t name of smv-formatted output file (arbitrary scale)
\t-pgmfile\tname of pgm-formatted output file (arbitrary scale)
\t-noisefile\t name of smv-formatted output file (with noise)
\t-Xbeam\t image X coordinate of direct-beam spot (mm)
\t-Ybeam\t image Y coordinate of direct-beam spot (mm)
\t-header\t import 512-byte header from specified SMV file"""

PROG = "nanobragg-ext noisify"


class UsageExit(Exception):
    """The C's exit status 9 (usage text, short input or header file): the message goes to stderr."""


def _warn(text: str) -> None:
    print(f"{PROG}: warning: {text}", file=sys.stderr)


def image_size(req: NoisifyRequest, pixels: int, header) -> tuple:
    """xpixels, ypixels and the detector size as main() settles them (L359-L433)."""
    x, y = req.xpixels, req.ypixels
    if header is not None:
        x, y = header.width, header.height
        pixels = x * y
    guessed = False
    if not x and not y:
        guessed = True
        if pixels == 0:
            raise ValueError(f"float image '{req.floatfile}' is empty")
        x = int(math.sqrt(pixels))
        y = pixels // x
        while pixels != x * y and x > 0:
            x -= 1
            y = pixels // x
        if pixels != x * y:
            x, y = pixels, 1
    if x and not y:
        y = pixels // x
    if not x and y:
        x = pixels // y
    # Where the counts came out 0 (a file with fewer values than one row), the C falls back to
    # -detsize (the spec calls this branch unreachable; it is not).
    if not x:
        x = math.ceil(req.detsize_x / req.pixel - 0.5)
    if not y:
        y = math.ceil(req.detsize_y / req.pixel - 0.5)
    if x * y > INT32_MAX or x <= 0 or y <= 0:
        raise ValueError(f"image size {x} x {y} is out of range")
    return x, y, guessed


def run(argv: List[str], out=None) -> int:
    from .. import _core
    from .headers import HeaderFile, noisify_header

    out = sys.stdout if out is None else out
    say = lambda *lines: print("\n".join(lines), file=out)  # noqa: E731
    req = parse_args(argv)
    if req.corrected and req.bits not in (16, 32):
        raise ValueError(f"-bits {req.bits}: only 16 and 32 write pixels (noisify.c quirk N10)")
    for line in req.early_lines:
        say(line)
    say(BANNER)
    if req.floatfile is None or not req.floatfile_opens:
        say(USAGE)
        if req.floatfile_from_value:
            _warn(f"quirk N1: the option value '{req.floatfile_from_value}' contains 'floatimage.bin', so "
                  "noisify.c takes it as the input file")
        raise UsageExit("no input float image" if req.floatfile is None else
                        f"cannot open the float image '{req.floatfile}'")
    nbytes = os.path.getsize(req.floatfile)
    pixels = nbytes // 4

    header = None
    if req.headerfile is not None:
        say(f"taking header from {req.headerfile}")
        from .headers import HeaderExit

        try:
            header = HeaderFile(req.headerfile)
        except HeaderExit as e:
            raise UsageExit(str(e)) from None
        say(f"reading {req.headerfile}")
        v = header.value("PIXEL_SIZE")
        if not math.isnan(v):
            req.pixel = v / 1000.0
        if not req.pixel > 0:
            raise ValueError(f"-header file '{req.headerfile}': PIXEL_SIZE must be positive")
    if req.rebin > 1 and header is not None:
        raise ValueError("-rebin with -header: the copied header would describe the unbinned image")
    if header is not None:
        for key in ("DISTANCE", "WAVELENGTH", "BEAM_CENTER_X", "BEAM_CENTER_Y"):
            v = header.value(key)
            if math.isnan(v):
                continue
            if key == "DISTANCE":
                req.distance = v / 1000.0
            elif key == "WAVELENGTH":
                req.lambda_ = v / 1e10
            elif key == "BEAM_CENTER_X":
                req.Xbeam = v / 1000.0
            else:
                req.Ybeam = req.pixel * header.height - v / 1000.0
    x, y, guessed = image_size(req, pixels, header)
    if guessed:
        say("WARNING: guessing xy pixel dimensions.")
    req.detsize_x, req.detsize_y = req.pixel * x, req.pixel * y
    P = x * y
    say(f"importing {P} pixel intensites: {req.floatfile}")
    if nbytes < P:
        raise UsageExit(f"float image '{req.floatfile}': {nbytes} bytes, noisify.c needs at least {P}")
    if nbytes != 4 * P:
        what = (f"float image '{req.floatfile}' holds {nbytes / 4:g} values for a {x} x {y} image")
        if req.corrected:
            raise ValueError(what)
        if nbytes < 4 * P:
            _warn(f"quirk N14: {what}; the missing {P - nbytes // 4} pixels read as 0")
        else:
            _warn(f"{what}; only the first {P} are used")
    floats = _core.noisify_read_floats(req.floatfile, P)

    finish_request(req)
    if not req.calculate_noise:
        if req.hot_pixels or req.dead_pixels:
            raise ValueError("-hot_pixels/-dead_pixels act on the noise image, which -nonoise turns off")

    say(f"  distance={req.distance:g} detsize={req.detsize_x:g}x{req.detsize_y:g}  pixel={req.pixel:g} meters "
        f"({x}x{y} pixels)", f"  Xbeam={req.Xbeam:g} Ybeam={req.Ybeam:g}")
    psf_line = ""
    if req.psftype == "gauss":
        psf_line = f"  Gaussian PSF fwhm = {req.psf_fwhm * 1e6:g} um "
    if req.psftype == "fiber":
        psf_line = f"  fiber PSF fwhm = {req.psf_fwhm * 1e6:g} um "
    if req.psftype != "none" and req.psf_radius == 0:
        psf_line += "  with automatic rendering radius\n"
    if req.psftype != "none" and req.psf_radius >= 0:
        psf_line += f"  with rendering radius: {req.psf_radius}\n"
    print(psf_line, end="", file=out)
    say(f"  seed: {req.seed}", f"  calibration noise seed: {req.calib_seed}",
        f"  calibration_noise = {req.calibration * 100:g} %", f"  input file scale = {req.photon_scale:g}",
        f"  readout_noise = {req.readout:g} ADU", f"  flicker_noise = {req.flicker * 100:g} %",
        f"  quantum_gain = {req.gain:g} ADU/photon", f"  adc_offset = {req.adc:g} ADU", "")

    scan = _core.noisify_scan(floats)
    for v in scan["negatives"]:
        say(f"WARNING: negative intensity in {req.floatfile}: {v:g}")
    from .response import R_E_SQR

    say(f"maximum value in input file: {scan['max_I']:g} "
        f"( {scan['max_I'] * req.photon_scale * req.fluence * R_E_SQR:g} on photon scale)")

    response = response_of(req)
    psf_on = req.psftype != "none" and req.psf_fwhm > 0.0
    response.check(x, y, scan)
    if scan["nonfinite"]:
        _warn(f"{scan['nonfinite']} NaN or infinite input pixels reach noisify.c's integer casts "
              "(NaN reads 0); -corrected refuses them")
    if psf_on and req.psf_radius < 0:
        _warn(f"quirk N7: -psf_radius {req.psf_radius} renders no PSF; every pixel's light is spread evenly "
              "over the image")
    if req.bits not in (16, 32):
        _warn(f"quirk N10: -bits {req.bits} writes headers without pixels")

    _check_writable(req)
    width, height = x // req.rebin, y // req.rebin  # the native chain refuses a rebin that does not divide
    if header is not None:
        head = header.header
    else:
        head = noisify_header(req.bits, width, height, req.pixel * req.rebin, req.distance, req.lambda_,
                              req.Xbeam, req.Ybeam, req.detsize_y, req.phi0, req.osc)
    # The files are written by the chain: the noiseless ones while the noise is drawn, all put in
    # place at the end (none if one fails); the lines below report them in the C's order.
    noiseless_files = [({16: "int16", 32: "int32"}.get(req.bits, "header"), req.intfile, head)]
    if req.write_pgm:
        noiseless_files.append(("pgm", req.pgmfile, b""))
    noise_files = [({16: "noise16", 32: "noise32"}.get(req.bits, "header"), req.noisefile, head)]
    result = _core.noisify_response(floats, x, y, response.params, req.seed, req.calculate_noise,
                                    noiseless_files, noise_files if req.calculate_noise else None)

    if not req.calculate_noise and psf_on:
        say(f"  applying PSF to noiseless image width = {req.psf_fwhm / req.pixel:g} pixels")
        _psf_lines(say, result.noiseless_psf)
    _quirk_warnings(req, result)
    if req.bits == 16:
        say(f"writing {req.intfile} as {width * height} 2-byte integers")
    if req.bits == 32:
        say(f"writing {req.intfile} as {width * height} 4-byte integers")
    if req.write_pgm:
        say(f"writing {req.pgmfile} as 1-byte integers")
    if not req.calculate_noise:
        return 0
    if psf_on:
        say(f"{result.photons_before_psf:.0f} photons on noise image before PSF",
            f"  applying PSF width = {req.psf_fwhm * 1e6:g} um")
        _psf_lines(say, result.noise_psf)
    say(f"{result.photons:.0f} photons on noise image ({result.overloads} overloads)")
    if req.hot_pixels or req.dead_pixels:
        say(f"{result.hot} hot and {result.dead} dead pixels")
    if req.bits == 16:
        say(f"writing {req.noisefile} as 2-byte integers")
    if req.bits == 32:
        say(f"writing {req.noisefile} as 4-byte integers")
    return 0


def finish_request(req: NoisifyRequest) -> None:
    """What noisify derives once the image size is known: the beam centre defaults to the middle,
    and -nonoise turns off the calibration error, read-out noise and flicker."""
    if req.Xbeam is None:
        req.Xbeam = req.detsize_x / 2.0
    if req.Ybeam is None:
        req.Ybeam = req.detsize_y / 2.0
    if not req.calculate_noise:
        req.calibration = req.readout = req.flicker = 0.0


def response_of(req: NoisifyRequest):
    """The DetectorResponse of a command line (values in the C's form, so the same arithmetic)."""
    from .response import R_E_SQR, DetectorResponse, native_params

    return DetectorResponse.from_native(native_params(
        photon_factor=(req.fluence * R_E_SQR) * req.photon_scale, gain=req.gain, adc=req.adc, readout=req.readout,
        flicker=req.flicker, calibration=req.calibration, calib_idum=req.calib_seed,
        psf=req.psftype if req.psf_fwhm > 0.0 else "none", fwhm_pixels=req.psf_fwhm / req.pixel,
        psf_radius=req.psf_radius, bits=req.bits, corrected=req.corrected, saturation=req.saturation,
        hot_pixels=req.hot_pixels, dead_pixels=req.dead_pixels, hotpix_seed=req.hotpix_seed,
        badpix_seed=req.badpix_seed, binning=req.rebin, threads=req.threads))


def _psf_lines(say, rep: dict) -> None:
    """What apply_psf() prints (L770-L917)."""
    if rep["auto_radius"]:
        say(f"  maximum input photon/pixel: {rep['max_input']:g}")
        if rep["no_photons"]:
            say("WARNING: no photons, PSF skipped")
            return
        say(f"  auto-selected psf_radius = {rep['auto_selected']} pixels")
    say(f"adding back {rep['lost_photons']:g} lost photons")


def _quirk_warnings(req: NoisifyRequest, r) -> None:
    """One line per quirk of the C that made this (default-mode) run unphysical."""
    if req.corrected:
        return
    wrapped = r.noiseless_psf["edge_wrapped"] + r.noise_psf["edge_wrapped"]
    if wrapped:
        _warn(f"quirk N6: {wrapped} PSF contributions past the right edge landed on the next row "
              "(-corrected drops them)")
    if r.wrapped_noiseless or r.wrapped_noise:
        _warn(f"quirk N9: {r.wrapped_noiseless + r.wrapped_noise} negative ADU values wrapped around in "
              "noisify.c's unsigned casts (-corrected clamps them to 0)")
    if r.clipped32:
        _warn(f"quirk N8: {r.clipped32} noiseless 32-bit pixels clipped at 65535 (-corrected keeps them)")
    if r.poisson_gaussian and req.bits == 32:
        _warn(f"quirk N15: {r.poisson_gaussian} Poisson means above 1e6 gave non-integer counts "
              "(-corrected rounds them)")
    if r.first_mean_minus1:
        _warn("quirk N18: the first Poisson mean is exactly -1, which noisify.c's unset cache turns into "
              "a large count (-corrected gives 0)")


def _check_writable(req: NoisifyRequest) -> None:
    """Refuse before any work when an output cannot be created (the C would crash after writing some)."""
    names = [req.intfile] + ([req.pgmfile] if req.write_pgm else []) + ([req.noisefile] if req.calculate_noise else [])
    for name in names:
        folder = os.path.dirname(os.path.abspath(name))
        if os.path.isdir(name):
            raise ValueError(f"output '{name}' is a directory")
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(f"output '{name}': cannot write in {folder}")


def main(argv: Optional[List[str]] = None) -> int:
    from ..io import InputError
    from ..options import OptionError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv in (["-h"], ["--help"], ["-help"]):
        print(f"{USAGE}\nnanobragg-ext adds: -corrected, -threads N, -hot_pixels F, -dead_pixels F, -saturation ADU, "
              "-rebin N (README \"noisify\")")
        return 0
    try:
        return run(argv)
    except UsageExit as e:
        sys.stdout.flush()
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 9
    except (OptionError, InputError, ValueError, RuntimeError) as e:
        sys.stdout.flush()
        print(f"{PROG}: error: {e}; no output written", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; no output written", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG}: error: out of memory; no output written", file=sys.stderr)
        return 2
