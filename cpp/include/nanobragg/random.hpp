/// The random-number generators of nanoBragg.c (Numerical Recipes ran1, poidev, gaussdev, gammln)
/// and the random rotations built on them. Same draws, same float/double mix, so the same seeds
/// give the same mosaic domains, random missets and noise images as the C.
#pragma once
#include <cstdint>

namespace nanobragg {

/// The state the C keeps in statics. One instance is shared by every stream of a run (misset,
/// mosaic, noise), because the C's shuffle table is shared (BEHAVIOUR.md Q16).
struct RandomState {
  long iy = 0;
  long iv[32] = {};
  int gauss_iset = 0;    // gaussdev keeps its second deviate
  float gauss_gset = 0;
  // poidev caches exp(-xm) keyed by the last mean, which starts at -1 with the cache unset (0):
  // a first call with a mean of exactly -1 uses that 0 (noisify quirk N18).
  float poidev_oldm = -1.0f;
  float poidev_g = 0.0f;
};

/// Uniform deviate in (0, 1); *idum <= 0 reseeds. Ports nanoBragg.c ran1().
float ran1(long* idum, RandomState& st);
/// Standard normal deviate (polar Box-Muller). Ports gaussdev().
float gaussdev(long* idum, RandomState& st);
/// ln Gamma(x), Lanczos. Ports gammln().
float gammln(float xx);
/// Poisson deviate of mean xm (a Gaussian approximation above 1e6). Ports poidev().
float poidev(float xm, long* idum, RandomState& st);

/// Random rotation within a spherical cap of the given spread (radians, passed as float as in
/// the C), row-major 3x3. Ports mosaic_rotation_umat().
void mosaic_rotation_umat(float mosaicity, double umat[9], long* idum, RandomState& st);
/// Rotation matrix to x, y, z missetting angles (radians). Ports umat2misset().
void umat2misset(const double umat[9], double missets[3]);

}  // namespace nanobragg
