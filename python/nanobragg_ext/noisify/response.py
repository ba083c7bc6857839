"""noisify's detector chain as an API stage on caller-owned arrays.

:class:`DetectorResponse` turns a photons/pixel float32 image (slow, fast) into what noisify
writes: the noise image (flicker, calibration error, Poisson noise, PSF, gain, adc, read-out
noise, clipping) and the noiseless integer image, with the C's generator and draw order, so
``DetectorResponse(...).apply(image, seed=n)`` equals the pixels of ``noisify -seed n`` run on that
image written as a float file. The command line builds its chain through the same class.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

from .. import _core
from .options import float32

#: Thomson cross section r_e^2 (m^2) and noisify's default fluence: their product is exactly 1.0.
R_E_SQR = 7.94079248018965e-30
DEFAULT_FLUENCE = 125932015286227086360700780544.0


def native_params(*, photon_factor: float, gain: float, adc: float, readout: float, flicker: float,
                  calibration: float, calib_idum: int, psf: str, fwhm_pixels: float, psf_radius: int, bits: int,
                  corrected: bool, saturation: float, hot_pixels: float, dead_pixels: float, hotpix_seed: int,
                  badpix_seed: int, binning: int, threads: int) -> "_core.ResponseParams":
    """The native settings from values in the C's own form (photon_factor = (fluence * r_e^2) * scale,
    calib_idum as the C stores it, psf "none" where main() skips it). Shared with the command line."""
    p = _core.ResponseParams()
    p.photon_factor = photon_factor
    p.gain, p.adc, p.readout, p.flicker, p.calibration = gain, adc, readout, flicker, calibration
    p.calib_idum = calib_idum
    p.psf_type = getattr(_core.PsfType, psf)
    p.psf_fwhm_pixels = fwhm_pixels
    p.psf_radius = psf_radius
    p.bits = bits
    p.corrected = corrected
    p.saturation = saturation
    p.hot_fraction, p.dead_fraction = hot_pixels, dead_pixels
    p.hot_seed, p.dead_seed = hotpix_seed, badpix_seed
    p.binning = binning
    p.threads = threads
    return p


class DetectorResponse:
    """noisify's detector effects with its defaults (3 % calibration error is on, as in the C).

    gain (ADU/photon), adc (ADU offset), readout (ADU rms), flicker and calibration (fractions),
    calib_seed (None: the C's default stream), psf ("gauss", "fiber" or None), psf_fwhm_um,
    pixel_mm (turns the PSF width into pixels), psf_radius (pixels, 0 = automatic), bits (16 or 32),
    scale and fluence (the photon scale: fluence * r_e^2 * scale), corrected (the physical result
    where noisify.c's arithmetic is not: no wrap-around, no PSF edge wrap, integer counts).
    Beyond noisify, all off by default: saturation (ADU ceiling), hot_pixels / dead_pixels
    (fractions, placed by hotpix_seed / badpix_seed), binning (n x n pixels summed before gain
    and read-out noise). threads: OpenMP threads (0 = all).
    """

    def __init__(self, *, gain: float = 1.0, adc: float = 40.0, readout: float = 0.0, flicker: float = 0.0,
                 calibration: float = 0.03, calib_seed: Optional[int] = None, psf: Optional[str] = None,
                 psf_fwhm_um: float = 46.0, pixel_mm: float = 0.1, psf_radius: int = 0, bits: int = 16,
                 scale: float = 1.0, fluence: float = DEFAULT_FLUENCE, corrected: bool = False,
                 saturation: Optional[float] = None, hot_pixels: float = 0.0, dead_pixels: float = 0.0,
                 hotpix_seed: int = 5678, badpix_seed: int = 1234, binning: int = 1, threads: int = 0) -> None:
        if psf not in (None, "gauss", "fiber"):
            raise ValueError(f"psf must be None, 'gauss' or 'fiber', got {psf!r}")
        if bits not in (16, 32):
            raise ValueError(f"bits must be 16 or 32, got {bits}")
        for name, value in (("gain", gain), ("readout", readout), ("flicker", flicker), ("calibration", calibration),
                            ("scale", scale), ("fluence", fluence), ("psf_fwhm_um", psf_fwhm_um)):
            if not value >= 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        if not pixel_mm > 0:
            raise ValueError(f"pixel_mm must be positive, got {pixel_mm}")
        for name, value in (("hot_pixels", hot_pixels), ("dead_pixels", dead_pixels)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} is a fraction of the pixels, 0 to 1, got {value}")
        if saturation is not None and not saturation > 0:
            raise ValueError(f"saturation must be positive, got {saturation}")
        if int(binning) != binning or binning < 1:
            raise ValueError(f"binning must be a positive integer, got {binning}")
        fwhm_m = float32(psf_fwhm_um / 1e6)  # a float in the C
        self.params = native_params(
            photon_factor=(fluence * R_E_SQR) * scale, gain=gain, adc=adc, readout=readout, flicker=flicker,
            calibration=calibration, calib_idum=123456789 if calib_seed is None else -int(calib_seed),
            psf=psf if psf is not None and fwhm_m > 0.0 else "none", fwhm_pixels=fwhm_m / (pixel_mm / 1000.0),
            psf_radius=int(psf_radius), bits=bits, corrected=corrected,
            saturation=0.0 if saturation is None else float(saturation), hot_pixels=hot_pixels,
            dead_pixels=dead_pixels, hotpix_seed=int(hotpix_seed), badpix_seed=int(badpix_seed),
            binning=int(binning), threads=int(threads))

    @classmethod
    def from_native(cls, params: "_core.ResponseParams") -> "DetectorResponse":
        """A response around ready-made native parameters (the command line's)."""
        self = cls.__new__(cls)
        self.params = params
        return self

    def __reduce__(self):
        # The native settings travel as their values (a dataset sends the stage to its workers).
        p = self.params
        values = {n: getattr(p, n) for n in PARAM_FIELDS}
        values["psf_type"] = p.psf_type.name
        return (_rebuild_response, (values,))

    def check(self, width: int, height: int, scan: dict) -> None:
        """Refuse what noisify.c cannot process, with a ValueError naming the problem."""
        p = self.params
        psf_on = p.psf_type != _core.PsfType.none
        if psf_on and p.psf_radius > max(width, height):
            raise ValueError(f"PSF radius {p.psf_radius} pixels exceeds the {width} x {height} image")
        if psf_on and p.psf_radius < 0 and p.corrected:
            raise ValueError(f"PSF radius {p.psf_radius}: a negative radius renders no PSF (noisify.c quirk N7)")
        if scan["nonfinite"] and (psf_on or p.corrected):
            raise ValueError(f"{scan['nonfinite']} NaN or infinite pixels in the input"
                             + (": noisify.c's PSF spreads them over the whole image or crashes" if psf_on else ""))
        if width % p.binning or height % p.binning:
            raise ValueError(f"binning {p.binning} does not divide the {width} x {height} image")

    def _run(self, photons, seed: Optional[int], noise: bool):
        import numpy as np

        if not isinstance(photons, np.ndarray) or photons.dtype != np.float32 or photons.ndim != 2:
            raise TypeError("photons must be a 2-D float32 NumPy array (slow, fast); no silent conversion")
        if not photons.flags.c_contiguous:
            raise TypeError("photons must be C-contiguous")
        height, width = photons.shape
        self.check(width, height, _core.noisify_scan(photons))
        idum = 0 if seed is None else -int(seed)
        return _core.noisify_response(photons, width, height, self.params, idum, noise)

    def apply(self, photons, seed: int):
        """The noise image (uint16, or uint32 with bits=32) of a float32 photons/pixel image,
        shape (slow, fast) / binning; seed as noisify's -seed (the C's draws for that seed)."""
        r = self._run(photons, seed, True)
        return r.array("noise32" if self.params.bits == 32 else "noise16")

    def noiseless(self, photons):
        """The noiseless integer image noisify writes as intimage.img (with -nonoise the PSF blurs it)."""
        r = self._run(photons, None, False)
        return r.array("int32" if self.params.bits == 32 else "int16")

    def images(self, photons, seed: int, noise: bool = True) -> "_core.ResponseImages":
        """Everything of one run: .array('int16'|'int32'|'pgm'|'noise16'|'noise32'), photon totals,
        overloads and the PSF reports (the numbers noisify prints)."""
        return self._run(photons, seed, noise)


PARAM_FIELDS = ("photon_factor", "gain", "adc", "readout", "flicker", "calibration", "calib_idum", "psf_type",
                "psf_fwhm_pixels", "psf_radius", "bits", "corrected", "binning", "saturation", "hot_fraction",
                "dead_fraction", "hot_seed", "dead_seed", "threads")


def _rebuild_response(values: dict) -> DetectorResponse:
    p = _core.ResponseParams()
    for name, v in values.items():
        setattr(p, name, getattr(_core.PsfType, v) if name == "psf_type" else v)
    return DetectorResponse.from_native(p)
