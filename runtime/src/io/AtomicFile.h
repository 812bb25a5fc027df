// AtomicFile.h - writing a whole file or nothing.

#ifndef LMC_RUNTIME_IO_ATOMICFILE_H
#define LMC_RUNTIME_IO_ATOMICFILE_H

#include <string>

namespace lmc::rt {

/// Writes `bytes` to a temporary file beside `path` and renames it over
/// `path`: readers see the old file or the whole new one, and a failure
/// leaves no partial file.
bool writeFileAtomically(const std::string &path, const std::string &bytes,
                         std::string &error);

/// Reads a whole file; false with `error` set when it cannot.
bool readFile(const std::string &path, std::string &bytes, std::string &error);

} // namespace lmc::rt

#endif // LMC_RUNTIME_IO_ATOMICFILE_H
