/// HKL text files and the Fdump cache.
#include "nanobragg/io/hkl.hpp"

#include <cctype>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "nanobragg/io/errors.hpp"
#include "nanobragg/io/images.hpp"  // for write_file_atomic

namespace nanobragg {

namespace {
std::string slurp(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(std::string(what) + " file '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

FTableData read_hkl(const std::string& path, double default_F) {
  const std::string text = slurp(path, "HKL");
  std::vector<double> v;
  v.reserve(text.size() / 8);
  const char* p = text.c_str();
  const char* end = p + text.size();
  while (p < end) {
    while (p < end && std::isspace(static_cast<unsigned char>(*p))) ++p;
    if (p >= end) break;
    char* stop = nullptr;
    const double x = std::strtod(p, &stop);
    const char* tok_end = p;
    while (tok_end < end && !std::isspace(static_cast<unsigned char>(*tok_end))) ++tok_end;
    if (stop != tok_end) {
      throw InputError("HKL file '" + path + "': '" + std::string(p, tok_end) + "' is not a number");
    }
    if (!std::isfinite(x)) throw InputError("HKL file '" + path + "': contains non-finite numbers");
    v.push_back(x);
    p = tok_end;
  }
  if (v.empty()) throw InputError("HKL file '" + path + "': no reflections");
  if (v.size() % 4 != 0) {
    throw InputError("HKL file '" + path + "': " + std::to_string(v.size()) +
                     " numbers, not a multiple of 4 (h k l F per line)");
  }
  try {
    return dense_table(v, default_F);
  } catch (const std::invalid_argument& e) {
    throw InputError("HKL file '" + path + "': " + e.what());
  }
}

FTableData dense_table(const std::vector<double>& rows, double default_F) {
  if (rows.empty()) throw std::invalid_argument("no reflections");
  if (rows.size() % 4 != 0) throw std::invalid_argument("h, k, l and F must come 4 values per reflection");
  const std::size_t n = rows.size() / 4;
  long lo[3] = {std::numeric_limits<long>::max(), std::numeric_limits<long>::max(), std::numeric_limits<long>::max()};
  long hi[3] = {std::numeric_limits<long>::min(), std::numeric_limits<long>::min(), std::numeric_limits<long>::min()};
  for (std::size_t r = 0; r < n; ++r) {
    for (int a = 0; a < 3; ++a) {
      const double x = rows[4 * r + a];
      if (!(x == std::round(x)) || std::fabs(x) > 1e6) throw std::invalid_argument("Miller indices must be integers");
      lo[a] = std::min(lo[a], long(x));
      hi[a] = std::max(hi[a], long(x));
    }
    if (!std::isfinite(rows[4 * r + 3])) throw std::invalid_argument("F contains non-finite values");
  }
  const long rh = hi[0] - lo[0] + 1, rk = hi[1] - lo[1] + 1, rl = hi[2] - lo[2] + 1;
  const double cells = double(rh + 1) * double(rk + 1) * double(rl + 1);
  if (cells > 2.5e8) {
    throw std::invalid_argument("index ranges " + std::to_string(rh) + " x " + std::to_string(rk) + " x " +
                                std::to_string(rl) + " are too large for a dense table");
  }
  FTableData t;
  t.h_min = int(lo[0]), t.h_max = int(hi[0]), t.k_min = int(lo[1]), t.k_max = int(hi[1]);
  t.l_min = int(lo[2]), t.l_max = int(hi[2]);
  t.values.assign(std::size_t(cells), 0.0);
  auto at = [&](long h, long k, long l) -> double& {
    return t.values[(std::size_t(h) * (rk + 1) + std::size_t(k)) * (rl + 1) + std::size_t(l)];
  };
  if (default_F != 0.0) {
    for (long h = 0; h < rh; ++h)
      for (long k = 0; k < rk; ++k)
        for (long l = 0; l < rl; ++l) at(h, k, l) = default_F;
  }
  // Later entries overwrite earlier ones, as the C's second pass does.
  for (std::size_t r = 0; r < n; ++r) {
    at(long(rows[4 * r]) - lo[0], long(rows[4 * r + 1]) - lo[1], long(rows[4 * r + 2]) - lo[2]) = rows[4 * r + 3];
  }
  t.hkls = std::int64_t(n);
  return t;
}

void write_fdump(const std::string& path, const FTableData& t) {
  char head[128];
  std::snprintf(head, sizeof head, "%d %d %d %d %d %d\n\f", t.h_min, t.h_max, t.k_min, t.k_max, t.l_min, t.l_max);
  write_file_atomic(path, std::string(head), t.values.data(), t.values.size() * sizeof(double));
}

FTableData read_fdump(const std::string& path) {
  const std::string raw = slurp(path, "dump");
  const std::size_t nl = raw.find('\n');
  if (nl == std::string::npos || nl + 1 >= raw.size() || raw[nl + 1] != '\f') {
    throw InputError("dump file '" + path + "': not an Fdump file (no header line and form feed)");
  }
  FTableData t;
  std::istringstream head(raw.substr(0, nl));
  if (!(head >> t.h_min >> t.h_max >> t.k_min >> t.k_max >> t.l_min >> t.l_max)) {
    throw InputError("dump file '" + path + "': header needs 6 integers");
  }
  const long rh = long(t.h_max) - t.h_min + 1, rk = long(t.k_max) - t.k_min + 1, rl = long(t.l_max) - t.l_min + 1;
  if (rh < 1 || rk < 1 || rl < 1 || double(rh + 1) * (rk + 1) * (rl + 1) > 2.5e8) {
    throw InputError("dump file '" + path + "': bad index ranges in header");
  }
  const std::size_t count = std::size_t(rh + 1) * (rk + 1) * (rl + 1);
  const std::size_t body = raw.size() - (nl + 2);
  if (body < count * sizeof(double)) {
    throw InputError("dump file '" + path + "': truncated (" + std::to_string(body) + " of " +
                     std::to_string(count * sizeof(double)) + " data bytes)");
  }
  t.values.resize(count);
  std::memcpy(t.values.data(), raw.data() + nl + 2, count * sizeof(double));
  t.hkls = std::int64_t(rh) * rk * rl;
  return t;
}

}  // namespace nanobragg
