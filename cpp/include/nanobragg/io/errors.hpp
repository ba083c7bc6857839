/// The exception every reader and writer throws for bad input files: the message names the file
/// and the problem (Python sees nanobragg_ext.InputError, a ValueError).
#pragma once
#include <stdexcept>
#include <string>

namespace nanobragg {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace nanobragg
