/// The bodies of ran1, gaussdev and poidev (random.hpp) as inline functions, for the loops that
/// draw millions of deviates (noisify's pass 1). poidev's set-up from its mean (exp, or sqrt, log
/// and gammln) is a separate pure function, so a caller that knows the next mean early can have it
/// computed while the current draws run; the draws, their order and every value are the C's.
#pragma once
#include <cmath>

#include "nanobragg/random.hpp"
#include "nanobragg/tan_pi.hpp"

namespace nanobragg::draws {

constexpr long IA = 16807, IM = 2147483647, IQ = 127773, IR = 2836, NTAB = 32;
constexpr long NDIV = 1 + (IM - 1) / NTAB;
constexpr double AM = 1.0 / IM;
constexpr double RNMX = 1.0 - 1.2e-7;

/// ran1's first call of a stream (or of the program): the shuffle table loaded from the seed, and
/// the new seed. Out of line (it runs once per stream) and by value, so that no caller's state
/// has its address taken: the hot loops keep it in registers across the libm calls.
struct Ran1Table {
  long idum;
  long iv[NTAB];
};
[[gnu::noinline]] Ran1Table ran1_load(long idum);

/// gammln(k) for k = 1 .. gammln_table_size - 1 (index 0 unused): poidev's gammln(em + 1).
constexpr int gammln_table_size = 4096;
const float* gammln_integers();

/// ran1 on a seed held by the caller (by reference, so a local seed stays in a register).
[[gnu::always_inline]] inline float ran1_step(long& idum, RandomState& st) {
  if (idum <= 0 || !st.iy) {
    const Ran1Table t = ran1_load(idum);
    idum = t.idum;
    for (int j = 0; j < NTAB; ++j) st.iv[j] = t.iv[j];
    st.iy = t.iv[0];
  }
  // idum > 0 here, and every table entry (so iy) is in [0, 2^31): an unsigned division and a
  // shift give the signed quotients without their sign fix-ups, which lie on the draw chain.
  static_assert(NDIV == 1L << 26, "NDIV is 2^26");
  const long k = long(static_cast<unsigned long>(idum) / IQ);
  idum = IA * (idum - k * IQ) - IR * k;
  if (idum < 0) idum += IM;
  const long j = (st.iy >> 26) & (NTAB - 1);
  st.iy = st.iv[j];
  st.iv[j] = idum;
  float temp;
  if ((temp = float(AM * st.iy)) > RNMX) return float(RNMX);
  return temp;
}

// The C promotes float arguments of exp/log/sqrt to double; std:: would pick the float overloads,
// so every such call casts to double explicitly.

[[gnu::always_inline]] inline float gaussdev(long& idum, RandomState& st) {
  if (st.gauss_iset == 0) {
    float v1, v2, rsq;
    do {
      v1 = float(2.0 * ran1_step(idum, st) - 1.0);
      v2 = float(2.0 * ran1_step(idum, st) - 1.0);
      rsq = v1 * v1 + v2 * v2;
    } while (rsq >= 1.0 || rsq == 0);
    const float fac = float(std::sqrt(-2.0 * std::log(double(rsq)) / rsq));
    st.gauss_gset = v1 * fac;
    st.gauss_iset = 1;
    return v2 * fac;
  }
  st.gauss_iset = 0;
  return st.gauss_gset;
}

/// What poidev derives from a mean xm <= 1e6 (and caches until the mean changes): g = exp(-xm)
/// below 12; sq, alxm and g of the rejection method from 12 on (and for NaN, as in the C).
struct PoissonSetup {
  float g = 0.0f, sq = 0.0f, alxm = 0.0f;
};

inline PoissonSetup poisson_setup(float xm) {
  PoissonSetup s;
  if (xm < 12.0) {
    s.g = float(std::exp(double(-xm)));
  } else {
    s.sq = float(std::sqrt(2.0 * xm));
    s.alxm = float(std::log(double(xm)));
    s.g = float(xm * s.alxm - gammln(float(xm + 1.0)));
  }
  return s;
}

/// poidev; setup() gives poisson_setup(xm) and is called only where the C recomputes (the mean
/// differs from the cached one; the unset cache's first mean of -1 keeps g = 0, quirk N18).
template <typename Setup>
[[gnu::always_inline]] inline float poidev(float xm, long& idum, RandomState& st, Setup&& setup) {
  if (xm > 1.0e6) {
    const float g = gaussdev(idum, st);
    return float(xm + std::sqrt(double(xm)) * g);
  }
  if (xm != st.poidev_oldm) {
    const PoissonSetup s = setup();
    st.poidev_oldm = xm;
    st.poidev_g = s.g, st.poidev_sq = s.sq, st.poidev_alxm = s.alxm;
  }
  const float g = st.poidev_g;
  float em, t;
  if (xm < 12.0) {
    em = -1;
    t = 1.0;
    do {
      ++em;
      t *= ran1_step(idum, st);
    } while (t > g);
    return em;
  }
  const float sq = st.poidev_sq, alxm = st.poidev_alxm;
  const float* lg_table = gammln_integers();
  float y;
  do {
    do {
      y = tan_pi(ran1_step(idum, st));
      em = sq * y + xm;
    } while (em < 0.0);
    em = float(std::floor(em));
    // em is a whole number >= 0 here, so em + 1 indexes the table exactly.
    const float lg = em + 1.0f < gammln_table_size ? lg_table[int(em) + 1] : gammln(float(em + 1.0));
    t = float(0.9 * (1.0 + y * y) * std::exp(double(em * alxm - lg - g)));
  } while (ran1_step(idum, st) > t);
  return em;
}

}  // namespace nanobragg::draws
