// ExampleJson.h - examples as JSON: one object per example, each feature a
// string, a number or a flat array of them ({"country": "US", "age": 31,
// "history": ["a", "b"]}). null is a missing number (NaN, which a numeric
// column's default_value replaces).

#ifndef LMC_RUNTIME_IO_EXAMPLEJSON_H
#define LMC_RUNTIME_IO_EXAMPLEJSON_H

#include "packer/Example.h"

#include <istream>
#include <vector>

namespace lmc::rt {

/// Parses one example. `origin` prefixes every message.
bool parseExample(const std::string &text, const std::string &origin, Example &example,
                  std::string &error);

/// Reads JSON Lines (blank lines skipped); messages name `name:line`.
bool readExamplesJsonl(std::istream &in, const std::string &name,
                       std::vector<Example> &examples, std::string &error);

/// readExamplesJsonl of the file at `path`, or of standard input for "-".
bool readExamplesFile(const std::string &path, std::vector<Example> &examples,
                      std::string &error);

} // namespace lmc::rt

#endif // LMC_RUNTIME_IO_EXAMPLEJSON_H
