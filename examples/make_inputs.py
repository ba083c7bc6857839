"""Write the example inputs of this folder: P1.hkl, A.mat and sources.txt (deterministic).

    python examples/make_inputs.py [folder]      (default: this script's folder)

Nothing here comes from a real protein or from another program's test data:

- P1.hkl: h k l F for a made-up triclinic crystal (cell 48 52 56 88 93 97, space group P1) of
  200 carbon-like atoms at seeded random positions (overall B = 20 A^2), every reflection to
  4 A resolution, both Friedel mates listed (nanoBragg applies no symmetry). F is the amplitude
  of the structure factor, electrons, computed directly from the atoms.
- A.mat: a MOSFLM orientation matrix of that cell, turned by misset angles 12 -7 25 degrees,
  for a wavelength of 1 A (MOSFLM folds the wavelength into the matrix: use it with -lambda 1).
- P1_asu.mtz (written when gemmi is installed): the same amplitudes, only the reflections of
  P1's reciprocal asymmetric unit (half the sphere), as an MTZ with column F: the input of
  ``nanobragg-ext hkl examples/P1_asu.mtz P1.hkl``, which adds the Friedel mates back.
- sources.txt: a -sourcefile of 9 sources (a 3 x 3 grid 0.2 mrad apart, 10 m upstream, weight 1,
  wavelength 1 A): columns X Y Z (m, sample to source), weight, wavelength (m).
"""
import os
import sys

import numpy as np

CELL = (48.0, 52.0, 56.0, 88.0, 93.0, 97.0)  # a b c (A), alpha beta gamma (degrees)
MISSET_DEG = (12.0, -7.0, 25.0)
WAVELENGTH_A = 1.0
D_MIN_A = 4.0
ATOMS = 200
B_OVERALL = 20.0
SEED = 20


def direct_axes(cell):
    """Real-space axes a, b, c (rows, Angstrom) in the usual orthogonal frame (a along x)."""
    a, b, c = cell[:3]
    al, be, ga = np.radians(cell[3:])
    cx = c * np.cos(be)
    cy = c * (np.cos(al) - np.cos(be) * np.cos(ga)) / np.sin(ga)
    cz = np.sqrt(c * c - cx * cx - cy * cy)
    return np.array([[a, 0.0, 0.0], [b * np.cos(ga), b * np.sin(ga), 0.0], [cx, cy, cz]])


def rotation_xyz(deg):
    """Rotation about x, then y, then z, by deg (degrees)."""
    x, y, z = np.radians(deg)
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    return rz @ ry @ rx


def carbon_f(s):
    """Carbon's scattering factor at s = 1/d (International Tables 4-Gaussian fit), electrons."""
    a = (2.31, 1.02, 1.5886, 0.865)
    b = (20.8439, 10.2075, 0.5687, 51.6512)
    q = (s / 2.0) ** 2
    return sum(ai * np.exp(-bi * q) for ai, bi in zip(a, b)) + 0.2156


def structure_factors(rng):
    axes = direct_axes(CELL)
    recip = np.linalg.inv(axes).T                       # rows a*, b*, c* (1/A)
    hmax = [int(np.ceil(np.linalg.norm(ax) / D_MIN_A)) for ax in axes]
    grid = np.mgrid[-hmax[0]:hmax[0] + 1, -hmax[1]:hmax[1] + 1, -hmax[2]:hmax[2] + 1]
    hkl = grid.reshape(3, -1).T
    s = np.linalg.norm(hkl @ recip, axis=1)
    hkl, s = hkl[s <= 1.0 / D_MIN_A], s[s <= 1.0 / D_MIN_A]
    xyz = rng.random((ATOMS, 3))                        # fractional coordinates
    phase = np.exp(2j * np.pi * (hkl @ xyz.T))          # (reflections, atoms)
    f = carbon_f(s) * np.exp(-B_OVERALL * (s / 2.0) ** 2)
    return hkl, np.abs(phase.sum(axis=1)) * f


def write_hkl(path, hkl, F):
    with open(path, "w") as fh:
        fh.writelines(f"{h} {k} {l} {f:.2f}\n" for (h, k, l), f in zip(hkl, F))


def write_mosflm_matrix(path):
    """MOSFLM layout: the wavelength-scaled reciprocal axes as columns (3 lines), missets, U,
    the cell, missets. nanoBragg reads the first nine numbers."""
    axes = direct_axes(CELL) @ rotation_xyz(MISSET_DEG).T
    recip = np.linalg.inv(axes).T * WAVELENGTH_A        # rows a*, b*, c*, times lambda
    u = rotation_xyz(MISSET_DEG)
    lines = [" ".join(f"{x:12.8f}" for x in row) for row in recip.T]
    lines.append(" ".join(f"{0.0:12.3f}" for _ in range(3)))
    lines += [" ".join(f"{x:12.7f}" for x in row) for row in u]
    lines.append(" ".join(f"{x:12.4f}" for x in CELL))
    lines.append(" ".join(f"{0.0:12.3f}" for _ in range(3)))
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def write_mtz(path, hkl, F):
    import gemmi

    sg = gemmi.find_spacegroup_by_name("P 1")
    asu = gemmi.ReciprocalAsu(sg)
    keep = [asu.is_in(list(map(int, idx))) for idx in hkl]
    mtz = gemmi.Mtz(with_base=True)
    mtz.spacegroup = sg
    mtz.set_cell_for_all(gemmi.UnitCell(*CELL))
    mtz.add_dataset("synthetic")
    mtz.add_column("F", "F")
    rows = np.column_stack([hkl[keep], np.round(F[keep], 2)]).astype(np.float32)
    mtz.set_data(rows)
    mtz.write_to_file(path)


def write_sources(path):
    step = 0.2e-3 * 10.0                                # 0.2 mrad at 10 m
    with open(path, "w") as fh:
        for dy in (-step, 0.0, step):
            for dz in (-step, 0.0, step):
                fh.write(f"-10.0 {dy:.4f} {dz:.4f} 1.0 {WAVELENGTH_A * 1e-10:.1e}\n")


def main(folder=None):
    folder = folder or os.path.dirname(os.path.abspath(__file__))
    hkl, F = structure_factors(np.random.default_rng(SEED))
    write_hkl(os.path.join(folder, "P1.hkl"), hkl, F)
    write_mosflm_matrix(os.path.join(folder, "A.mat"))
    write_sources(os.path.join(folder, "sources.txt"))
    try:
        write_mtz(os.path.join(folder, "P1_asu.mtz"), hkl, F)
        mtz = ", P1_asu.mtz"
    except ImportError:
        mtz = " (not P1_asu.mtz: gemmi is not installed)"
    print(f"wrote P1.hkl ({len(F)} reflections to {D_MIN_A:g} A), A.mat, sources.txt{mtz} in {folder}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
