// ExampleJson.h - examples as JSON: one object per example, each feature a
// string, a number or a flat array of them ({"country": "US", "age": 31,
// "history": ["a", "b"]}). null is a missing number (NaN, which a numeric
// column's default_value replaces).

#ifndef LMC_RUNTIME_IO_EXAMPLEJSON_H
#define LMC_RUNTIME_IO_EXAMPLEJSON_H

#include "Status.h"
#include "packer/Example.h"

#include <cstdint>
#include <istream>
#include <memory>
#include <vector>

namespace lmc::rt {

/// Parses one example. `origin` prefixes every message.
bool parseExample(const std::string &text, const std::string &origin, Example &example,
                  rt::Status &error);

/// Reads JSON Lines (blank lines skipped); messages name `name:line`.
bool readExamplesJsonl(std::istream &in, const std::string &name, std::vector<Example> &examples,
                       rt::Status &error);

/// readExamplesJsonl of the file at `path`, or of standard input for "-".
bool readExamplesFile(const std::string &path, std::vector<Example> &examples, rt::Status &error);

/// JSON Lines examples read a window at a time, so a run's memory does not
/// grow with its input: a file, or standard input for "-" (a pipe works).
class ExampleStream {
public:
  /// Fails for a directory or a file that cannot be opened.
  bool open(const std::string &path, rt::Status &error);
  /// Reads `stream` (which outlives this), naming lines `name:N`.
  void attach(std::istream &stream, const std::string &name);
  /// Appends up to `count` more examples; false on a bad line (`error`
  /// names it), true with none appended at the end of the input.
  bool read(size_t count, std::vector<Example> &examples, rt::Status &error);
  /// The size of a regular file being read (for progress), or 0.
  uint64_t inputBytes() const { return bytes; }
  /// How far into it reading has got.
  uint64_t bytesRead() const { return consumed; }

private:
  std::unique_ptr<std::istream> owned;
  std::istream *in = nullptr;
  std::string name;
  size_t line = 0;
  uint64_t bytes = 0, consumed = 0;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_IO_EXAMPLEJSON_H
