// BackendTestSupport.h - example packages compiled in-process for the
// backend tests.

#ifndef LMC_TEST_UNIT_BACKEND_BACKENDTESTSUPPORT_H
#define LMC_TEST_UNIT_BACKEND_BACKENDTESTSUPPORT_H

#include "compiler/CompileOptions.h"
#include "support/RandomExamples.h"

#include <string>
#include <vector>

namespace lmc::testing {

/// examples/<name> compiled to package bytes; empty on failure.
std::string compileExample(const std::string &name, mlir::lmc::CompileOptions options);
/// A module in the lmc dialect, given as text, compiled to package bytes.
std::string compileSource(const std::string &source, mlir::lmc::CompileOptions options);

} // namespace lmc::testing

#endif // LMC_TEST_UNIT_BACKEND_BACKENDTESTSUPPORT_H
