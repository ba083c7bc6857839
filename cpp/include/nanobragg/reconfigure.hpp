/// Cheap re-derivation of a Prepared run for the reusable simulator: a new crystal orientation,
/// phi range or mosaic draw without re-placing the detector, rebuilding the sources or copying
/// the structure-factor table. Host only.
#pragma once
#include "nanobragg/setup.hpp"

namespace nanobragg {

/// Re-derives the crystal (cell, misset, size), the phi sampling, the mosaic domains, the shared
/// random state and the orientation table of p from opt; the detector, sources and structure
/// factors of p are kept. Gives the same Prepared as prepare(opt, ...) when opt differs from
/// p.options only in crystal, phi and mosaic fields (cell, matrix, misset, N, sample size,
/// shape, phi0/osc/phistep/phisteps, mosaic spread/domains/seed). Strong exception guarantee.
void reconfigure_crystal(Prepared& p, const Options& opt);

/// Replaces the unrotated (phi = 0, no mosaic) real-space cell axes by a, b, c (metres) and
/// re-derives the reciprocal vectors, the crystal size in cells (from the sample size, if
/// given), the automatic oversampling, the step count and the orientation table.
/// Mirrors the tail of build_crystal() (nanoBragg.c L2020-L2070).
void set_crystal_orientation(Prepared& p, const Vec3d& a, const Vec3d& b, const Vec3d& c);

}  // namespace nanobragg
