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

namespace nanobragg {

namespace {
std::string slurp(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(std::string(what) + " file '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A token of a file for an error message: bytes outside printable ASCII as \xHH (the message
// becomes a Python str, which must be valid UTF-8), and at most 40 characters of it.
std::string printable(const char* begin, const char* end) {
  std::string out;
  for (const char* c = begin; c < end && out.size() < 40; ++c) {
    const unsigned char u = static_cast<unsigned char>(*c);
    if (u >= 0x20 && u < 0x7f) {
      out += char(u);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", u);
      out += esc;
    }
  }
  return end - begin > 40 ? out + "..." : out;
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
      throw InputError("HKL file '" + path + "': '" + printable(p, tok_end) + "' is not a number");
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

StagedFile staged_fdump(const std::string& path, const FTableData& t) {
  char head[128];
  std::snprintf(head, sizeof head, "%d %d %d %d %d %d\n\f", t.h_min, t.h_max, t.k_min, t.k_max, t.l_min, t.l_max);
  return StagedFile(path, std::string(head), t.values.data(), t.values.size() * sizeof(double));
}

void write_fdump(const std::string& path, const FTableData& t) { staged_fdump(path, t).commit(); }

FTableData read_fdump(const std::string& path) {
  const std::string raw = slurp(path, "dump");
  // Same as nanoBragg.c (L2111-L2127): fscanf("%d%d%d%d%d%d\n\f") reads six integers (across
  // lines if need be) and then skips every whitespace byte that follows ("\n" and "\f" are both
  // whitespace directives), data bytes that happen to be whitespace included; fread then fills
  // the table row by row until the file ends, the rest staying 0 (calloc).
  const char* text = raw.c_str();
  std::size_t pos = 0;
  long bounds[6];
  for (long& b : bounds) {
    char* stop = nullptr;
    errno = 0;
    b = std::strtol(text + pos, &stop, 10);
    if (stop == text + pos || errno == ERANGE || b < std::numeric_limits<int>::min() ||
        b > std::numeric_limits<int>::max()) {
      throw InputError("dump file '" + path + "': header needs 6 integers");
    }
    pos = std::size_t(stop - text);
  }
  while (pos < raw.size() && std::isspace(static_cast<unsigned char>(raw[pos]))) ++pos;
  FTableData t;
  t.h_min = int(bounds[0]), t.h_max = int(bounds[1]), t.k_min = int(bounds[2]), t.k_max = int(bounds[3]);
  t.l_min = int(bounds[4]), t.l_max = int(bounds[5]);
  const long rh = long(t.h_max) - t.h_min + 1, rk = long(t.k_max) - t.k_min + 1, rl = long(t.l_max) - t.l_min + 1;
  if (rh < 1 || rk < 1 || rl < 1 || double(rh + 1) * (rk + 1) * (rl + 1) > 2.5e8) {
    throw InputError("dump file '" + path + "': bad index ranges in header");
  }
  const std::size_t count = std::size_t(rh + 1) * (rk + 1) * (rl + 1);
  t.values.assign(count, 0.0);
  std::memcpy(t.values.data(), raw.data() + pos, std::min(raw.size() - pos, count * sizeof(double)));
  for (const double F : t.values) {
    if (!std::isfinite(F)) throw InputError("dump file '" + path + "': contains non-finite structure factors");
  }
  t.hkls = std::int64_t(rh) * rk * rl;
  return t;
}

}  // namespace nanobragg
