/// plan(): the set-up of a run without its tables, for checks and estimates before it is built.
#pragma once
#include "nanobragg/setup.hpp"

namespace nanobragg {

/// prepare() without its tables (sources, mosaic domains, orientations): the detector, sampling,
/// crystal and oversampling, in microseconds whatever the step counts. sampling.steps is 0 (no
/// sources counted yet).
Prepared plan(const Options& opt);

}  // namespace nanobragg
