/// Structure-factor files: the "h k l F" text list (read as nanoBragg.c does, L2140-L2225) and the
/// Fdump cache nanoBragg writes beside it (L2104-L2139). Host only.
#pragma once
#include <string>
#include <vector>

#include "nanobragg/io/images.hpp"  // for StagedFile
#include "nanobragg/options.hpp"     // for FTableData

namespace nanobragg {

/// Reads an HKL text file into the padded dense table; cells not listed hold default_F (the
/// padding planes hold 0). Throws InputError for unreadable, non-numeric, non-integer-index,
/// non-finite or empty files, or a column count that is not 4 per reflection.
FTableData read_hkl(const std::string& path, double default_F);

/// The padded dense table of reflections given as h, k, l, F per row (4 values each, later rows
/// overwrite earlier ones); unlisted cells inside the box hold default_F. Throws
/// std::invalid_argument for no rows, non-integer indices, non-finite F or a table too large.
FTableData dense_table(const std::vector<double>& rows, double default_F);

/// Writes the Fdump cache: "h_min h_max k_min k_max l_min l_max\n\f" then native doubles, l fastest.
void write_fdump(const std::string& path, const FTableData& table);
/// The same file staged (written to its temporary; in place after commit()).
StagedFile staged_fdump(const std::string& path, const FTableData& table);

/// Reads an Fdump cache as nanoBragg.c does (whitespace after the header skipped, a short file
/// leaving zeros); hkls is h_range * k_range * l_range as in the C. Throws InputError without six
/// header integers, for impossible index ranges or non-finite values.
FTableData read_fdump(const std::string& path);

}  // namespace nanobragg
