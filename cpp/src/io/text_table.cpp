/// nonBragg.c's read_text_file() (L2201-L2301) with the C library calls it makes, so every quirk of
/// it (comment lines as rows of zeros, missing values NaN, a last line without a newline padded
/// with zeros, 10239-character line pieces) is the C's; and the table padding of L1232-L1255.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "nanobragg/amorphous.hpp"
#include "nanobragg/io/errors.hpp"

namespace nanobragg {

namespace {
constexpr const char* kDelimiters = " \t,;:!";
constexpr const char* kNumberChars = "0123456789-+.EGeg";

bool is_blank(const char* text) { return std::strcmp(text + std::strspn(text, kDelimiters), "\n") == 0; }
}  // namespace

TextColumns read_text_columns(const std::string& path, int ncols) {
  std::FILE* in = std::fopen(path.c_str(), "r");
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  TextColumns t;
  t.columns.assign(std::size_t(ncols), {});
  char text[10240];
  long line_no = 0;
  while (std::fgets(text, sizeof text, in) != nullptr) {
    ++line_no;
    if (is_blank(text)) continue;
    const char* token = text + std::strspn(text, kDelimiters);
    // atof's value of the first token (atof is strtod), and whether it read a number (atof
    // returns 0 for words such as '#'): one conversion serves both.
    char* end = nullptr;
    const double first = std::strtod(token, &end);
    if (end == token) t.non_numeric_rows.push_back(t.rows);
    t.file_lines.push_back(line_no);
    for (auto& c : t.columns) c.push_back(NAN);
    int i = 0;
    do {
      t.columns[std::size_t(i)].back() = i == 0 ? first : std::atof(token);  // i is 0 on the first pass only
      token += std::strspn(token, kNumberChars);
      if (std::strcmp(token, "\n") == 0) continue;
      token += std::strcspn(token, kDelimiters);
      token += std::strspn(token, kDelimiters);
      if (std::strcmp(token, "\n") == 0) continue;
      ++i;
      if (i >= ncols) break;
    } while (std::strcmp(token, "\n") != 0);
    ++t.rows;
  }
  std::fclose(in);
  return t;
}

StolTableData pad_stol_table(const std::vector<double>& stol_rows, const std::vector<double>& F_rows, double mult) {
  StolTableData t;
  const int n = int(stol_rows.size()) + 4;
  t.stol.assign(std::size_t(n), 0.0);
  t.F.assign(std::size_t(n), 0.0);
  double F_low = NAN, F_high = NAN;
  for (int i = n - 3; i > 1; --i) {
    t.stol[i] = stol_rows[std::size_t(i - 2)] * mult;
    t.F[i] = F_rows[std::size_t(i - 2)];
    if (!std::isnan(t.F[i])) {
      F_low = t.F[i];
      if (std::isnan(F_high)) F_high = t.F[i];
    } else {
      t.F[i] = 0.0;  // the C: missing values are zero
    }
  }
  t.stol[0] = -1e99;
  t.stol[1] = -1e98;
  t.F[0] = t.F[1] = F_low;
  t.stol[n - 2] = 1e98;
  t.stol[n - 1] = 1e99;
  t.F[n - 1] = t.F[n - 2] = F_high;
  for (int i = 3; i < n - 2; ++i) {
    if (t.stol[i] < t.stol[i - 1]) {
      t.monotonic = false;
      t.first_decrease = i - 2;
      break;
    }
  }
  // Look-up guesses: as many buckets as points over the table's span.
  const double lo = t.stol[2], hi = t.stol[std::size_t(n - 3)];
  if (t.monotonic && hi > lo && std::isfinite(hi - lo)) {
    const int buckets = n;
    t.bucket_origin = lo;
    t.bucket_scale = buckets / (hi - lo);
    t.bucket.assign(std::size_t(buckets), 1);
    int i = 1;
    for (int b = 0; b < buckets; ++b) {
      const double edge = lo + b / t.bucket_scale;
      while (i + 1 < n - 2 && t.stol[std::size_t(i + 1)] <= edge) ++i;
      t.bucket[std::size_t(b)] = i;
    }
  }
  return t;
}

}  // namespace nanobragg
