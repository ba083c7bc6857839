/// Ports of the Numerical Recipes generators used by nanoBragg.c (L3439-L3804).
#include "nanobragg/random.hpp"

#include <cmath>
#include <vector>

#include "nanobragg/random_draws.hpp"

// The C promotes float arguments of exp/log/sqrt to double; std:: would pick the float overloads,
// so every such call below casts to double explicitly.

namespace nanobragg {

namespace draws {
Ran1Table ran1_load(long idum) {
  Ran1Table t;
  long k;
  if (-idum < 1) idum = 1;
  else idum = -idum;
  for (int j = NTAB + 7; j >= 0; j--) {
    k = idum / IQ;
    idum = IA * (idum - k * IQ) - IR * k;
    if (idum < 0) idum += IM;
    if (j < NTAB) t.iv[j] = idum;
  }
  t.idum = idum;
  return t;
}

// gammln of the small integers, the rejection loop's gammln(em + 1): computed once, same values.
const float* gammln_integers() {
  static const std::vector<float> table = [] {
    std::vector<float> t(gammln_table_size);
    for (int k = 1; k < gammln_table_size; ++k) t[k] = gammln(float(k));
    return t;
  }();
  return table.data();
}
}  // namespace draws

namespace {
/// The seed a deviate works on, copied to a local for the call and written back at its end: the
/// compiler must assume *idum may alias the shuffle table it stores into, and would otherwise load
/// and store the seed around every draw. Same values.
struct LocalSeed {
  long* out;
  long value;
  explicit LocalSeed(long* idum) : out(idum), value(*idum) {}
  ~LocalSeed() { *out = value; }
  LocalSeed(const LocalSeed&) = delete;
  LocalSeed& operator=(const LocalSeed&) = delete;
};
}  // namespace

float ran1(long* idum, RandomState& st) { return draws::ran1_step(*idum, st); }

float gaussdev(long* seed, RandomState& st) {
  LocalSeed local(seed);
  return draws::gaussdev(local.value, st);
}

float gammln(float xx) {
  static const double cof[6] = {76.18009172947146,     -86.50532032941677,   24.01409824083091,
                                -1.231739572450155,    0.1208650973866179e-2, -0.5395239384953e-5};
  double x, y, tmp, ser;
  y = x = xx;
  tmp = x + 5.5;
  tmp -= (x + 0.5) * std::log(tmp);
  ser = 1.000000000190015;
  for (int j = 0; j <= 5; ++j) ser += cof[j] / ++y;
  return float(-tmp + std::log(2.5066282746310005 * ser / x));
}

float poidev(float xm, long* seed, RandomState& st) {
  LocalSeed local(seed);
  return draws::poidev(xm, local.value, st, [xm] { return draws::poisson_setup(xm); });
}

void mosaic_rotation_umat(float mosaicity, double umat[9], long* idum, RandomState& st) {
  const double r1 = 2.0 * draws::ran1_step(*idum, st) - 1.0;
  const double r2 = 2.0 * draws::ran1_step(*idum, st) - 1.0;
  const double r3 = 2.0 * draws::ran1_step(*idum, st) - 1.0;
  const double xyrad = std::sqrt(1.0 - r2 * r2);
  // float arithmetic as in the C: a float spread times powf of float arguments.
  const double rot = mosaicity * powf(float(1.0 - r3 * r3), float(1.0 / 3.0));
  const double v1 = xyrad * std::sin(M_PI * r1);
  const double v2 = xyrad * std::cos(M_PI * r1);
  const double v3 = r2;
  const double t1 = std::cos(rot);
  const double t2 = 1.0 - t1;
  const double t3 = v1 * v1;
  const double t6 = t2 * v1;
  const double t7 = t6 * v2;
  const double t8 = std::sin(rot);
  const double t9 = t8 * v3;
  const double t11 = t6 * v3;
  const double t12 = t8 * v2;
  const double t15 = v2 * v2;
  const double t19 = t2 * v2 * v3;
  const double t20 = t8 * v1;
  const double t24 = v3 * v3;
  umat[0] = t1 + t2 * t3;
  umat[1] = t7 - t9;
  umat[2] = t11 + t12;
  umat[3] = t7 + t9;
  umat[4] = t1 + t2 * t15;
  umat[5] = t19 - t20;
  umat[6] = t11 - t12;
  umat[7] = t19 + t20;
  umat[8] = t1 + t2 * t24;
}

namespace {
struct Rows {
  double xx, xy, xz, yx, yy, yz, zx, zy, zz;
};

// Replaces a zero row by the normalized cross product of the other two, as umat2misset does.
void fill_empty_rows(Rows& u, double mx, double my, double mz) {
  double m;
  double xcy_x = u.xy * u.yz - u.xz * u.yy, xcy_y = u.xz * u.yx - u.xx * u.yz, xcy_z = u.xx * u.yy - u.xy * u.yx;
  m = std::sqrt(xcy_x * xcy_x + xcy_y * xcy_y + xcy_z * xcy_z);
  if (m > 0) { xcy_x /= m; xcy_y /= m; xcy_z /= m; }
  double ycz_x = u.yy * u.zz - u.yz * u.zy, ycz_y = u.yz * u.zx - u.yx * u.zz, ycz_z = u.yx * u.zy - u.yy * u.zx;
  m = std::sqrt(ycz_x * ycz_x + ycz_y * ycz_y + ycz_z * ycz_z);
  if (m > 0) { ycz_x /= m; ycz_y /= m; ycz_z /= m; }
  double zcx_x = u.zy * u.xz - u.zz * u.xy, zcx_y = u.zz * u.xx - u.zx * u.xz, zcx_z = u.zx * u.xy - u.zy * u.xx;
  m = std::sqrt(zcx_x * zcx_x + zcx_y * zcx_y + zcx_z * zcx_z);
  if (m > 0) { zcx_x /= m; zcx_y /= m; zcx_z /= m; }
  if (mx <= 0) { u.xx = ycz_x; u.xy = ycz_y; u.xz = ycz_z; }
  if (my <= 0) { u.yx = zcx_x; u.yy = zcx_y; u.yz = zcx_z; }
  if (mz <= 0) { u.zx = xcy_x; u.zy = xcy_y; u.zz = xcy_z; }
}

void normalize_rows(Rows& u, double& mx, double& my, double& mz) {
  mx = std::sqrt(u.xx * u.xx + u.xy * u.xy + u.xz * u.xz);
  my = std::sqrt(u.yx * u.yx + u.yy * u.yy + u.yz * u.yz);
  mz = std::sqrt(u.zx * u.zx + u.zy * u.zy + u.zz * u.zz);
  if (mx > 0) { u.xx /= mx; u.xy /= mx; u.xz /= mx; }
  if (my > 0) { u.yx /= my; u.yy /= my; u.yz /= my; }
  if (mz > 0) { u.zx /= mz; u.zy /= mz; u.zz /= mz; }
}
}  // namespace

void umat2misset(const double umat[9], double missets[3]) {
  Rows u = {umat[0], umat[1], umat[2], umat[3], umat[4], umat[5], umat[6], umat[7], umat[8]};
  double mx, my, mz;
  normalize_rows(u, mx, my, mz);
  if (mx >= 0 && my <= 0 && mz <= 0) { u.yx = 0; u.yy = 1; u.yz = 0; u.zx = 0; u.zy = 0; u.zz = 1; }
  if (mx <= 0 && my >= 0 && mz <= 0) { u.xx = 1; u.xy = 0; u.xz = 0; u.zx = 0; u.zy = 0; u.zz = 1; }
  if (mx <= 0 && my <= 0 && mz >= 0) { u.xx = 1; u.xy = 0; u.xz = 0; u.yx = 0; u.yy = 1; u.yz = 0; }
  fill_empty_rows(u, mx, my, mz);
  fill_empty_rows(u, mx, my, mz);
  double nx, ny, nz;
  normalize_rows(u, nx, ny, nz);
  if (u.zx * u.zx < 1.0) {
    missets[0] = std::atan2(u.zy, u.zz);
    missets[1] = std::atan2(-u.zx, std::sqrt(u.zy * u.zy + u.zz * u.zz));
    missets[2] = std::atan2(u.yx, u.xx);
  } else {
    missets[0] = std::atan2(1, 1) * 4;
    missets[1] = std::atan2(1, 1) * 2;
    missets[2] = std::atan2(u.xy, -u.yy);
  }
}

}  // namespace nanobragg
