// RandomExamples.h - random raw examples for any plan, for the backend
// tests and the fuzz targets (runtime-only: no compiler needed).

#ifndef LMC_TEST_SUPPORT_RANDOMEXAMPLES_H
#define LMC_TEST_SUPPORT_RANDOMEXAMPLES_H

#include "artifact/Plan.h"
#include "packer/Example.h"

#include <vector>

namespace lmc::testing {

/// Random raw examples for `plan`'s inputs: sequences of 1..maxLength
/// tokens, strings from a small pool (some in the vocabularies), small
/// integers, reals in [0, 60] (log1p needs x > -1).
std::vector<rt::Example> randomExamples(const rt::Plan &plan, size_t count,
                                        int64_t maxLength, uint64_t seed);

} // namespace lmc::testing

#endif // LMC_TEST_SUPPORT_RANDOMEXAMPLES_H
