"""Amorphous backgrounds that follow the Bragg run's spectrum (compose's -background groups,
``Background(spectrum=...)``, the dataset's background stage): a group that gives no wavelength
gets the spectrum's lines in each of its divergence directions, weighted and normalised as the
Bragg image (docs/spectra.md); a group with its own -lambda keeps its own beam."""
import numpy as np
import pytest

from nanobragg_ext import compose, spectra
from nanobragg_ext.background import Background, Material
from nanobragg_ext.config import SimulationConfig

# A detector out to 2theta = 20 deg, so water's ring (stol up to 0.18 at 1 A) depends on the wavelength.
BRAGG = ("-cell 50 60 70 90 90 90 -default_F 100 -N 4 -detpixels 40 -pixel 0.4 -distance 30 -lambda 1.0 "
         "-misset 10 20 30 -oversample 2").split()
# nonBragg's options for the same detector, without a wavelength: the group follows the spectrum.
GROUP = "-detpixels 40 -pixel 0.4 -distance 30 -flux 1e12 -oversample 2 -stol water -thick 0.1".split()
E1, E2, W2 = 12398.42, 12398.42 / 1.3, 0.5  # 1.0 and 1.3 A: far apart on water's ring


def single(energy_eV, group=GROUP):
    return Background.from_groups([group + ["-energy", repr(energy_eV)]]).render().astype(np.float64)


def test_a_two_colour_background_is_the_weighted_sum_of_the_single_wavelength_ones():
    # Each image is float32, rounded once per pixel (6e-8 relative); the two-line run sums its
    # lines in one double accumulation, and water's table is monotonic so the look-up does not
    # depend on the order of the sources. 1e-6 leaves room for those roundings only.
    got = Background.from_groups([GROUP], spectrum=spectra.two_colour(E1, E2, W2)).render()
    want = (single(E1) + W2 * single(E2)) / (1.0 + W2)
    assert want.max() > 0 and not np.allclose(want, single(E1), rtol=1e-2)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * want.max())


def test_divergence_is_the_groups_own_and_each_direction_gets_every_line():
    group = GROUP + ["-divergence", "2", "-divsteps", "3"]
    two = spectra.two_colour(E1, E2, W2)
    bg = Background.from_groups([group], spectrum=two)
    s = bg._setups[0].summary
    directions = len({tuple(s["source_raw_xyz"][3 * i:3 * i + 3]) for i in range(s["sources"])})
    assert directions >= 5 and s["sources"] == 2 * directions
    assert s["source_weight"][:2] == pytest.approx([2 / 1.5, 1 / 1.5], rel=1e-15)
    want = (single(E1, group) + W2 * single(E2, group)) / (1.0 + W2)
    np.testing.assert_allclose(bg.render(), want, rtol=1e-6, atol=1e-6 * want.max())


def test_a_group_with_its_own_wavelength_keeps_its_beam():
    two = spectra.two_colour(E1, E2, W2)
    for own in (["-lambda", "1.1"], ["-energy", "9000"], ["-dispersion", "1", "-dispsteps", "3"]):
        np.testing.assert_array_equal(Background.from_groups([GROUP + own], spectrum=two).render(),
                                      Background.from_groups([GROUP + own]).render())
    # Materials through the class constructor follow it in the same way.
    material = Material("water", thickness_mm=0.1)
    args = GROUP[:GROUP.index("-stol")]
    np.testing.assert_array_equal(Background(args, [material], spectrum=two).render(),
                                  Background.from_groups([GROUP], spectrum=two).render())


def test_a_spectrum_per_call_overrides_the_backgrounds_own():
    two = spectra.two_colour(E1, E2, W2)
    bg = Background.from_groups([GROUP])
    np.testing.assert_array_equal(bg.render(two), Background.from_groups([GROUP], spectrum=two).render())
    np.testing.assert_array_equal(bg.render(), Background.from_groups([GROUP]).render())
    image = np.zeros(bg.shape, dtype=np.float32)
    np.testing.assert_array_equal(bg.add_to(image, two), bg.material_images(two)[0])


def test_compose_backgrounds_follow_the_bragg_spectrum():
    two_colour = ["-two_colour", repr(E1), repr(E2), repr(W2)]
    warn = [].append
    bragg = compose.photons(BRAGG + two_colour, [], warn).astype(np.float64)
    composed = compose.photons(BRAGG + two_colour, [GROUP], warn).astype(np.float64)
    want = bragg + (single(E1) + W2 * single(E2)) / (1.0 + W2)
    np.testing.assert_allclose(composed, want, rtol=1e-6, atol=1e-6 * want.max())
    # Without a spectrum the group keeps nonBragg's own beam (-lambda 1 A), as the C programs.
    plain = compose.photons(BRAGG, [GROUP], warn).astype(np.float64)
    bragg_plain = compose.photons(BRAGG, [], warn).astype(np.float64)
    np.testing.assert_allclose(plain - bragg_plain, single(E1), rtol=1e-5, atol=1e-6 * want.max())


def test_a_dataset_frames_background_follows_its_sase_shot():
    pytest.importorskip("h5py", reason="h5py is not installed (pip install -e '.[test]')")
    from nanobragg_ext.dataset import Dataset, StillSeries

    cfg = SimulationConfig.from_cli_args(BRAGG + "-sase_bandwidth 5 -sase_samples 64 -sase_seed 5".split())
    series = StillSeries(count=2, seed=4)
    with_bg = Dataset(cfg, series, background=Background.from_groups([GROUP]))
    without = Dataset(cfg, series)
    backgrounds = []
    for i in range(2):
        added = with_bg.render_frame(i).astype(np.float64) - without.render_frame(i).astype(np.float64)
        shot = with_bg.frame_spectrum(i)
        want = Background.from_groups([GROUP], spectrum=shot).render().astype(np.float64)
        # frame = float32(Bragg + background): the difference is the background within the
        # rounding of the sum (one float32 ulp of the frame's largest pixel).
        np.testing.assert_allclose(added, want, rtol=1e-5, atol=2e-7 * with_bg.render_frame(i).max())
        backgrounds.append(want)
    assert np.abs(backgrounds[0] - backgrounds[1]).max() > 1e-3 * backgrounds[0].max()
