// core/amorphous.hpp: the look-up without history equals nonBragg.c's persistent walk on
// non-decreasing tables from every starting state (ties and NaN included), the SIMD-lane helpers
// equal the scalar ones bit for bit, and the lanes of a block equal pixels rendered one by one
// (also the in-order block of non-monotonic tables, the C's walk carried across lanes and rows).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
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

// Blocks whose walk runs lane after lane against the pixels one by one, the walk carried across
// blocks and rows as render_row carries it; every term bit for bit. Returns how many pixels' look-up
// depended on the walk's history (so a walk in another order would give other results).
template <int kLanes>
int compare_in_order_blocks(const AmorphousParams<double>& p, const std::string& what) {
  EXPECT_TRUE(in_order_block_fits<kLanes>(p)) << what;
  int history = 0;
  WalkState wb{0, 1, 0, 1}, w1{0, 1, 0, 1};
  for (int row : {0, 7, 8, 23}) {
    for (int f0 = 0; f0 + kLanes <= 24; f0 += kLanes) {
      AmorphousPixel<double> lanes[kLanes];
      amorphous_block_in_order<kLanes>(p, f0, row, wb, lanes);
      for (int w = 0; w < kLanes; ++w) {
        const AmorphousPixel<double> one = amorphous_pixel(p, f0 + w, row, w1);
        const AmorphousPixel<double>& got = lanes[w];
        const std::string at = what + " lanes " + std::to_string(kLanes) + " pixel " + std::to_string(f0 + w) +
                               "," + std::to_string(row);
        for (auto term : {&AmorphousPixel<double>::value, &AmorphousPixel<double>::I, &AmorphousPixel<double>::F,
                          &AmorphousPixel<double>::stol, &AmorphousPixel<double>::polar,
                          &AmorphousPixel<double>::omega, &AmorphousPixel<double>::omega_sum}) {
          EXPECT_EQ(std::memcmp(&(got.*term), &(one.*term), sizeof(double)), 0) << at;
        }
        EXPECT_EQ(got.nearest, one.nearest) << at;
        if (walk_nearest(p.table, one.stol, 0) != one.nearest) ++history;
      }
      EXPECT_EQ(wb.nearest, w1.nearest) << what;
    }
  }
  return history;
}

TEST(Amorphous, InOrderBlockEqualsPixelsOneByOne) {
  Options opt;
  opt.convention = Convention::Custom;
  opt.fpixels = opt.spixels = 24;
  opt.distance = 3e-3;  // stol up to about 0.3/A: across every table's decreases
  opt.round_div = false;
  // shortwater.stol's column (one decrease), a zig-zag with a decrease every third point, and
  // one with ties and decreases; a monotonic one too (the block serves any table).
  const std::vector<std::vector<double>> stols = {
      {0, 0.0365, 0.07, 0.12, 0.162, 0.2, 0.18, 0.216, 0.3, 0.5},
      {0, 0.03, 0.06, 0.05, 0.09, 0.12, 0.11, 0.15, 0.18, 0.17, 0.21, 0.24, 0.23, 0.27, 0.3, 0.29, 0.5},
      {0, 0, 0.05, 0.1, 0.1, 0.08, 0.15, 0.15, 0.2, 0.19, 0.19, 0.25, 0.5},
      {0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5}};
  int history = 0, cases = 0;
  for (std::size_t t = 0; t < stols.size(); ++t) {
    std::vector<double> F;
    for (std::size_t i = 0; i < stols[t].size(); ++i) F.push_back(3 + std::sin(0.7 * double(i)) * (i % 2 ? 2 : -4));
    const StolTableData table = pad_stol_table(stols[t], F, 1e10);
    EXPECT_EQ(table.monotonic, t == 3);
    for (int c = 0; c < 3; ++c) {
      opt.polarization = c == 1 ? 0.9 : 0.0;
      opt.nopolar = c == 2;
      for (int oversample : {1, 2}) {
        for (int steps : {1, 2, 3}) {  // 1, 4 and 9 sources
          opt.oversample = oversample;
          opt.hdivrange = opt.vdivrange = steps > 1 ? 2e-3 : 0.0;
          opt.hdivsteps = opt.vdivsteps = steps;
          AmorphousOptions a;
          const AmorphousSetup s = prepare_amorphous(opt, a, table, SourceList{});
          AmorphousParams<double> p = s.params();
          p.table.monotonic = 0;  // the C's walk (render_row sends only non-monotonic tables here)
          ASSERT_EQ(p.n_sources, steps * steps);
          const std::string what = "table " + std::to_string(t) + (c == 1 ? " K 0.9" : c == 2 ? " nopolar" : " K 0") +
                                   " oversample " + std::to_string(oversample) + " sources " +
                                   std::to_string(p.n_sources);
          const int h = compare_in_order_blocks<8>(p, what) + compare_in_order_blocks<16>(p, what);
          if (t < 3) history += h;
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 4 * 3 * 2 * 3);
  EXPECT_GT(history, 100);  // the non-monotonic tables' look-ups depend on the walk's order
}

TEST(Amorphous, InOrderBlockWithANanStolEqualsPixels) {
  // A NaN stol leaves the walk where it was (both comparisons false): the block must too.
  Options opt;
  opt.convention = Convention::Custom;
  opt.fpixels = opt.spixels = 24;
  opt.distance = 3e-3;
  opt.hdivrange = opt.vdivrange = 2e-3;
  opt.hdivsteps = opt.vdivsteps = 2;
  opt.round_div = false;
  const StolTableData table = pad_stol_table({0, 0.0365, 0.07, 0.12, 0.162, 0.2, 0.18, 0.216, 0.3, 0.5},
                                             {2.57, 2.58, 2.8, 5, 8, 6.75, 7.32, 6.75, 4.3, 3.17}, 1e10);
  AmorphousOptions a;
  const AmorphousSetup s = prepare_amorphous(opt, a, table, SourceList{});
  AmorphousParams<double> p = s.params();
  ASSERT_EQ(p.n_sources, 4);
  std::vector<double> lambda(p.source_lambda, p.source_lambda + p.n_sources);
  lambda[1] = NAN;
  p.source_lambda = lambda.data();
  compare_in_order_blocks<16>(p, "NaN stol");
}

TEST(Amorphous, InOrderBlockScratchBound) {
  AmorphousParams<double> p{};
  p.oversample = 2, p.n_sources = kInOrderEvaluations / 16 / 4;
  EXPECT_TRUE(in_order_block_fits<16>(p));
  p.n_sources += 1;
  EXPECT_FALSE(in_order_block_fits<16>(p));  // the scalar path
  p.n_sources = 0;
  EXPECT_FALSE(in_order_block_fits<16>(p));
}

}  // namespace
}  // namespace nanobragg
