"""Spectra beyond nanoBragg: a spectrum file, a seeded SASE-like spectrum and a two-colour beam.

Each gives a :class:`Spectrum`, a list of wavelengths with weights. The set-up samples it into
sources as it samples ``-dispersion``: every kept divergence direction gets one source per
wavelength, and each source's contribution is multiplied by its weight over the mean weight, so
the total fluence is the one given (docs/spectra.md). A long spectrum file can be grouped into
bins (:func:`rebin`); nonBragg backgrounds follow a spectrum through :func:`amorphous_sources`.
Cheap to import: NumPy only for SASE.
"""
from __future__ import annotations

import math

from .io import InputError

HC_EV_A = 12398.42  # eV * Angstrom, the constant of nanoBragg's -energy
SPECTRUM_COLUMNS = {"energy_eV": "energy", "wavelength_A": "wavelength"}
# A file of more lines than this gets a note: each line is a source per divergence direction,
# so it costs a render pass per pixel; -spectrum_bins groups them.
MANY_LINES = 256
SUGGESTED_BINS = 100  # the SASE default (-sase_samples)
# Envelope sampled over +-1.5 FWHM (+-3.5 sigma): the weight left outside is 4e-4.
SASE_SPAN_FWHM = 3.0
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


class Spectrum:
    """Wavelengths (m) and their weights (positive, normalised to sum 1)."""

    __slots__ = ("wavelengths_m", "weights")

    def __init__(self, wavelengths_m, weights) -> None:
        lam = tuple(float(x) for x in wavelengths_m)
        w = tuple(float(x) for x in weights)
        if not lam or len(lam) != len(w):
            raise ValueError("a spectrum needs one weight per wavelength, and at least one line")
        if not all(x > 0 and math.isfinite(x) for x in lam + w):
            raise ValueError("spectrum wavelengths and weights must be positive and finite")
        total = math.fsum(w)
        self.wavelengths_m = lam
        self.weights = tuple(x / total for x in w)

    def __len__(self) -> int:
        return len(self.wavelengths_m)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Spectrum) and self.wavelengths_m == other.wavelengths_m
                and self.weights == other.weights)

    def __repr__(self) -> str:
        return f"Spectrum({len(self)} lines, mean {self.mean_energy_eV:.6g} eV)"

    @property
    def wavelengths_A(self) -> tuple:
        return tuple(x * 1e10 for x in self.wavelengths_m)

    @property
    def energies_eV(self) -> tuple:
        return tuple(HC_EV_A / (x * 1e10) for x in self.wavelengths_m)

    @property
    def mean_wavelength_A(self) -> float:
        """The weighted mean wavelength, sum(w lambda) / sum(w): what the files' headers give."""
        return math.fsum(w * x for w, x in zip(self.weights, self.wavelengths_m)) * 1e10

    @property
    def mean_energy_eV(self) -> float:
        return math.fsum(w * e for w, e in zip(self.weights, self.energies_eV))

    @property
    def rms_width_eV(self) -> float:
        """Weighted standard deviation of the energies."""
        m = self.mean_energy_eV
        return math.sqrt(math.fsum(w * (e - m) ** 2 for w, e in zip(self.weights, self.energies_eV)))


def _wavelength_m(angstrom: float) -> float:
    return angstrom / 1.0e10  # as the C converts -lambda


def _check_wavelength(angstrom: float, where: str) -> None:
    from .option_table import FIELD

    reason = FIELD["beam.wavelength_A"].range.reason(angstrom)
    if reason:
        raise InputError(f"{where}: the wavelength {angstrom:g} A {reason}")


def rebin(values, wavelengths_m, weights, bins: int):
    """(wavelengths, weights) of lines grouped into at most bins equal bins of values.

    values: the file's column (energy or wavelength) of each line, which the bins divide evenly
    from its smallest to its largest value. Each bin that holds lines becomes one line at their
    weight-weighted mean wavelength carrying their total weight, so the total weight and the
    weighted mean wavelength of the spectrum are kept. bins >= the number of lines: unchanged.
    """
    if bins >= len(values):
        return list(wavelengths_m), list(weights)
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins
    total_w = [0.0] * bins
    total_wl = [0.0] * bins
    for x, lam, w in zip(values, wavelengths_m, weights):
        k = min(int((x - lo) / width), bins - 1) if width > 0 else 0
        total_w[k] += w
        total_wl[k] += w * lam
    kept = [k for k in range(bins) if total_w[k] > 0]
    return [total_wl[k] / total_w[k] for k in kept], [total_w[k] for k in kept]


def read_spectrum_file(path: str, bins: int = 0, warn=None) -> Spectrum:
    """A spectrum file: a header line naming the columns, then one line per wavelength.

    The header is ``energy_eV weight`` or ``wavelength_A weight`` (the unit is the header's, never
    guessed from the numbers); columns are separated by white space or commas; blank lines and
    lines starting with ``#`` are skipped. Energies, wavelengths and weights must be positive.
    bins > 0: the lines grouped into at most bins equal bins of the file's column (:func:`rebin`).
    warn(line): told when a file of more than MANY_LINES lines is used without bins (None: stderr).
    """
    from .io import _read_bytes

    text = _read_bytes(path, "spectrum").decode("latin-1")
    unit = None
    column, lam, weight = [], [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.replace(",", " ").split()
        if not fields or fields[0].startswith("#"):
            continue
        where = f"spectrum file '{path}' line {lineno}"
        if unit is None:
            if len(fields) != 2 or fields[0] not in SPECTRUM_COLUMNS or fields[1] != "weight":
                raise InputError(f"{where}: expected the header 'energy_eV weight' or 'wavelength_A weight'")
            unit = SPECTRUM_COLUMNS[fields[0]]
            continue
        if len(fields) != 2:
            raise InputError(f"{where}: expected 2 columns ({'energy_eV' if unit == 'energy' else 'wavelength_A'} "
                             f"weight), got {len(fields)}")
        try:
            x, w = float(fields[0]), float(fields[1])
        except ValueError:
            shown = line.strip()[:60].encode("unicode_escape").decode("ascii")
            raise InputError(f"{where}: not a number in '{shown}'") from None
        if not (x > 0 and math.isfinite(x)):
            raise InputError(f"{where}: the {unit} must be positive, got {fields[0]}")
        if not (w > 0 and math.isfinite(w)):
            raise InputError(f"{where}: the weight must be positive, got {fields[1]}")
        angstrom = HC_EV_A / x if unit == "energy" else x
        _check_wavelength(angstrom, where)
        column.append(x)
        lam.append(_wavelength_m(angstrom))
        weight.append(w)
    if not lam:
        raise InputError(f"spectrum file '{path}': no spectrum lines" + ("" if unit else " (and no header)"))
    if bins > 0:
        lam, weight = rebin(column, lam, weight, bins)
    elif len(lam) > MANY_LINES:
        (warn or _warn)(f"spectrum file '{path}': its {len(lam)} lines are {len(lam)} sources per divergence "
                        f"direction, each a render pass; -spectrum_bins {SUGGESTED_BINS} groups them into "
                        f"{SUGGESTED_BINS} (same weighted mean wavelength and total weight)")
    return Spectrum(lam, weight)


def _warn(line: str) -> None:
    import sys

    print(f"nanobragg-ext: warning: {line}", file=sys.stderr)


def two_colour(energy1_eV: float, energy2_eV: float, weight2: float) -> Spectrum:
    """Two lines: energy1 with weight 1 and energy2 with weight2 (eV; both energies and weight2 > 0)."""
    for name, v in (("energy 1", energy1_eV), ("energy 2", energy2_eV), ("relative weight", weight2)):
        if not (v > 0 and math.isfinite(v)):
            raise InputError(f"option -two_colour: the {name} must be positive, got {v:g}")
    for e in (energy1_eV, energy2_eV):
        _check_wavelength(HC_EV_A / e, "option -two_colour")
    return Spectrum([_wavelength_m(HC_EV_A / e) for e in (energy1_eV, energy2_eV)], [1.0, weight2])


def sase(center_eV: float, bandwidth_percent: float, spike_width_percent=None, samples: int = 100,
         seed: int = 1) -> Spectrum:
    """A SASE-like single-shot spectrum: random spikes under a Gaussian envelope, from seed.

    Model (chaotic light, Saldin, Schneidmiller & Yurkov, *The Physics of Free Electron Lasers*,
    Springer 2000, ch. 6; Pellegrini, Marinelli & Reiche, Rev. Mod. Phys. 88, 015006 (2016)): the
    spectral field is complex Gaussian noise correlated over the spike width (white noise
    convolved with a Gaussian of that width), and the intensity is the envelope times its modulus
    squared. Averaged over seeds the spectrum is the envelope (mean ``center_eV``, FWHM
    ``bandwidth_percent`` of it); one shot has about bandwidth / spike width spikes, with
    exponentially distributed heights.

    center_eV : envelope centre; bandwidth_percent : envelope FWHM, percent of the centre;
    spike_width_percent : FWHM of the spikes (of the intensity correlation), percent of the
    centre (None: bandwidth / 10); samples : energies on a grid over +-1.5 envelope FWHM (the
    sources per divergence direction); seed : the generator's seed (NumPy PCG64), the same seed
    gives the same spectrum.
    """
    import numpy as np

    if spike_width_percent is None:
        spike_width_percent = bandwidth_percent / 10.0
    fwhm = center_eV * bandwidth_percent / 100.0
    spike = center_eV * spike_width_percent / 100.0
    samples = int(samples)
    if samples < 2:
        raise InputError(f"option -sase_samples: at least 2 energies are needed, got {samples}")
    step = SASE_SPAN_FWHM * fwhm / (samples - 1)
    if spike < 2.0 * step:
        need = int(math.ceil(SASE_SPAN_FWHM * fwhm / (spike / 2.0))) + 1
        raise InputError(f"option -sase_spike_width: spikes of {spike_width_percent:g}% are narrower than two "
                         f"sampling steps; use -sase_samples {need} or more")
    energies = center_eV + step * (np.arange(samples) - (samples - 1) / 2.0)
    if energies[0] <= 0:
        raise InputError(f"option -sase_bandwidth: {bandwidth_percent:g}% reaches energies at or below 0")
    sigma = spike / FWHM_PER_SIGMA / step  # in samples; the field kernel of this sigma gives spikes of FWHM spike
    half = int(math.ceil(4.0 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    noise = rng.standard_normal(samples + 2 * half) + 1j * rng.standard_normal(samples + 2 * half)
    field = np.convolve(noise, kernel, mode="valid")
    envelope = np.exp(-0.5 * ((energies - center_eV) / (fwhm / FWHM_PER_SIGMA)) ** 2)
    weights = envelope * np.abs(field) ** 2
    for e in (energies[0], energies[-1]):
        _check_wavelength(HC_EV_A / e, "option -sase_bandwidth")
    return Spectrum([_wavelength_m(HC_EV_A / e) for e in energies], np.maximum(weights, 1e-300))


def kernel_weights(spectrum: Spectrum) -> list:
    """Each line's weight over the mean weight, as the Bragg renderer counts its sources (exactly 1
    for all when the weights are equal)."""
    w = spectrum.weights
    if all(x == w[0] for x in w):
        return [1.0] * len(w)
    return [x * len(w) for x in w]


def amorphous_sources(summary: dict, spectrum: Spectrum):
    """(xyz, weights, wavelengths) of nonBragg sources that follow a spectrum: every divergence
    direction of a prepared amorphous run (its ``summary``, sources generated from its divergence
    and dispersion options) with every line of the spectrum, weighted as the Bragg image weights
    them. nonBragg divides by its source count as nanoBragg does, so the background is normalised
    as the Bragg image: sum over lines of weight x image at that wavelength, over the total weight."""
    per_direction = summary["dispsteps"]
    raw = summary["source_raw_xyz"]
    weights = kernel_weights(spectrum)
    xyz, w, lam = [], [], []
    for first in range(0, summary["sources"], per_direction):
        for line, wavelength in enumerate(spectrum.wavelengths_m):
            xyz += raw[3 * first:3 * first + 3]
            w.append(weights[line])
            lam.append(wavelength)
    return xyz, w, lam


def from_request(req, sase_seed=None, warn=None):
    """The spectrum a parsed run asks for (None: -dispersion/-dispsteps as the C).

    sase_seed: replaces -sase_seed (datasets give each frame its own); warn: as for
    :func:`read_spectrum_file`. Raises InputError naming the options when more than one gives
    the wavelengths.
    """
    if req.spectrum_bins and req.spectrum_file is None:
        raise InputError("option -spectrum_bins: it groups the lines of a -spectrum file, and none is given")
    if req.spectrum_file is None and not req.sase_bandwidth > 0 and req.two_colour is None:
        return None
    given = [name for name, on in (("-spectrum", req.spectrum_file is not None), ("-sase_bandwidth", req.sase_bandwidth > 0),
                                   ("-two_colour", req.two_colour is not None),
                                   ("-sourcefile", req.sourcefile is not None),
                                   ("-dispersion", req.options.dispersion != 0.0),
                                   ("-dispsteps", req.options.dispsteps > 0)) if on]
    if len(given) > 1:
        raise InputError(f"options {' and '.join(given)} both give the wavelengths: use one")
    if req.spectrum_file is not None:
        return read_spectrum_file(req.spectrum_file, req.spectrum_bins, warn)
    if req.two_colour is not None:
        return two_colour(*req.two_colour)
    center = HC_EV_A / (req.options.lambda0 * 1e10)
    spike = req.sase_spike_width if req.sase_spike_width > 0 else None
    return sase(center, req.sase_bandwidth, spike, req.sase_samples, req.sase_seed if sase_seed is None else sase_seed)
