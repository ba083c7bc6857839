// core/amorphous.hpp: the look-up without history equals nonBragg.c's persistent walk on
// non-decreasing tables from every starting state (ties and NaN included), the SIMD-lane helpers
// equal the scalar ones bit for bit, and the lanes of a block equal pixels rendered one by one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "nanobragg/amorphous.hpp"
#include "nanobragg/core/amorphous.hpp"

namespace nanobragg {
namespace {

StolTableData table_with_ties() {
  // Repeated points (as nanoice's comment rows give at stol 0) and a flat run in the middle.
  std::vector<double> stol = {0, 0, 0, 0.01, 0.02, 0.02, 0.02, 0.05, 0.1, 0.2, 0.2, 0.3, 0.5};
  std::vector<double> F = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  return pad_stol_table(stol, F, 1e10);
}

StolTable<double> view(const StolTableData& d) {
  return {d.stol.data(), d.F.data(), int(d.stol.size()), d.monotonic ? 1 : 0,
          d.bucket.data(), int(d.bucket.size()), d.bucket_origin, d.bucket_scale};
}

TEST(Amorphous, MonotonicLookUpEqualsTheWalkFromEveryState) {
  const StolTableData d = table_with_ties();
  ASSERT_TRUE(d.monotonic);
  const StolTable<double> t = view(d);
  std::vector<double> xs = {-1.0, 0.0, 1e7, 1e8, 2e8, 2.5e8, 5e8, 1e9, 2e9, 2.2e9, 3e9, 5e9, 6e9, NAN};
  for (int i = 2; i < t.n - 2; ++i) xs.push_back(t.stol[i]);  // every tie
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-1e8, 6e9);
  for (int k = 0; k < 500; ++k) xs.push_back(u(rng));
  for (double x : xs) {
    for (int previous = 0; previous < t.n - 1; ++previous) {
      int hint = (previous * 7) % t.n;  // any starting guess
      bool determined = false;
      const int got = monotonic_nearest(t, x, previous, hint, determined);
      EXPECT_EQ(got, walk_nearest(t, x, previous)) << "stol " << x << " from " << previous;
      if (determined) EXPECT_EQ(got, walk_nearest(t, x, 0));
    }
  }
}

TEST(Amorphous, BucketLookUpEqualsTheWalk) {
  // A fine uniform table like water.stol and the one with ties, every starting hint.
  std::vector<double> stol, F;
  for (int i = 0; i < 2000; ++i) stol.push_back(i * 2.5e-4), F.push_back(std::sin(i * 0.01));
  for (const StolTableData& d : {pad_stol_table(stol, F, 1e10), table_with_ties()}) {
    const StolTable<double> t = view(d);
    ASSERT_GT(t.buckets, 0);
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-1e8, 6e9);
    std::vector<double> xs = {-1.0, 0.0, 1e7, 5e9, 4.9975e9, 1e12};
    for (int i = 2; i < t.n - 2; i += 7) xs.push_back(t.stol[i]), xs.push_back(std::nextafter(t.stol[i], 0.0));
    for (int k = 0; k < 3000; ++k) xs.push_back(u(rng));
    for (double x : xs) {
      for (int hint = -1; hint < t.n + 1; hint += 37) {
        EXPECT_EQ(bucket_lookup(t, x, hint), last_at_or_below(t, x, 1)) << "stol " << x << " hint " << hint;
        bool tie = false;
        const int i = bucket_lookup(t, x, hint, tie);
        EXPECT_EQ(i, last_at_or_below(t, x, 1)) << "stol " << x << " hint " << hint;
        EXPECT_EQ(tie, t.stol[i] == x) << "stol " << x << " hint " << hint;
      }
    }
  }
}

TEST(Amorphous, DecreasingColumnIsNotMonotonic) {
  const StolTableData d = pad_stol_table({0, 0.162, 0.2, 0.18, 0.5}, {1, 2, 3, 4, 5}, 1e10);
  EXPECT_FALSE(d.monotonic);
  EXPECT_EQ(d.first_decrease, 3);
}

TEST(Amorphous, LaneHelpersEqualTheScalarOnes) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(-3, 3);
  for (int k = 0; k < 1000; ++k) {
    // Four lanes reading one table (stol, F) at increasing points, each at its own x.
    double stol[7], F[7], x[4], lanes[4];
    for (int i = 0; i < 7; ++i) stol[i] = u(rng) + 4 * i, F[i] = u(rng);
    const StolTable<double> t = {stol, F, 7, 1, nullptr, 0, 0.0, 0.0};
    const int first[4] = {0, 1, 2, 3};
    for (int w = 0; w < 4; ++w) x[w] = u(rng) + 4 * (w + 1);
    polint_lanes4(t, first, x, lanes);
    for (int w = 0; w < 4; ++w) {
      const double a = polint(stol + w, F + w, x[w]);
      EXPECT_EQ(std::memcmp(&a, &lanes[w], sizeof a), 0);
    }
    Vec3<double> v = {u(rng), u(rng), u(rng)};
    double x3 = v.x, y3 = v.y, z3 = v.z;
    const double m1 = unitize(v), m2 = unitize3(x3, y3, z3);
    EXPECT_EQ(m1, m2);
    EXPECT_EQ(v.x, x3);
    EXPECT_EQ(v.y, y3);
    EXPECT_EQ(v.z, z3);
  }
}

// Blocks of kLanes pixels (sources kChunk at a time once settled) against the pixels one by one
// on a 24-pixel-wide detector; returns how many blocks were compared.
template <int kLanes, int kChunk>
int compare_blocks(const AmorphousParams<double>& p, const char* what) {
  int blocks = 0;
  for (int row : {0, 7, 23}) {
    for (int f0 = 0; f0 + kLanes <= 24; f0 += kLanes) {
      AmorphousPixel<double> lanes[kLanes];
      WalkState wb{0, 1, 0, 1};
      if (!amorphous_block<kLanes, double, kChunk>(p, f0, row, wb, lanes)) continue;  // a tie: one by one
      ++blocks;
      WalkState w1{0, 1, 0, 1};
      for (int w = 0; w < kLanes; ++w) {
        const AmorphousPixel<double> one = amorphous_pixel(p, f0 + w, row, w1);
        EXPECT_EQ(lanes[w].value, one.value) << what << " lanes " << kLanes << " pixel " << f0 + w << "," << row;
        EXPECT_EQ(lanes[w].omega_sum, one.omega_sum);
        EXPECT_EQ(lanes[w].nearest, one.nearest);
        EXPECT_EQ(lanes[w].stol, one.stol);
      }
    }
  }
  return blocks;
}

TEST(Amorphous, BlockEqualsPixelsOneByOne) {
  Options opt;
  opt.convention = Convention::Custom;
  opt.fpixels = opt.spixels = 24;
  opt.distance = 10e-3;
  opt.oversample = 2;
  opt.hdivrange = opt.vdivrange = 2e-3;
  opt.hdivsteps = opt.vdivsteps = 3;  // 9 sources (square): chunks of 2 leave one over
  opt.round_div = false;
  int blocks = 0;
  const char* cases[] = {"K 0", "K 0.9", "nopolar"};
  for (int c = 0; c < 3; ++c) {
    opt.polarization = c == 1 ? 0.9 : 0.0;
    opt.nopolar = c == 2;
    std::vector<double> stol, F;
    for (int i = 0; i <= 50; ++i) stol.push_back(0.01 * i), F.push_back(3 + std::sin(0.3 * i));
    AmorphousOptions a;
    const AmorphousSetup s = prepare_amorphous(opt, a, pad_stol_table(stol, F, 1e10), SourceList{});
    const AmorphousParams<double> p = s.params();
    ASSERT_EQ(p.n_sources, 9);
    blocks += compare_blocks<8, 8>(p, cases[c]);
    blocks += compare_blocks<16, 8>(p, cases[c]);
    blocks += compare_blocks<8, 2>(p, cases[c]);
  }
  EXPECT_GT(blocks, 40);
}

}  // namespace
}  // namespace nanobragg
