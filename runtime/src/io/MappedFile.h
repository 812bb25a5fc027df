// MappedFile.h - a regular file's bytes mapped into memory.

#ifndef LMC_RUNTIME_IO_MAPPEDFILE_H
#define LMC_RUNTIME_IO_MAPPEDFILE_H

#include "Status.h"

#include <cstdint>
#include <memory>
#include <string>

namespace lmc::rt {

/// The bytes of the regular file at `path`, mapped copy-on-write: pages are
/// read from the page cache when first touched, and writes stay private to
/// the process (the file never changes). The mapping lasts while any copy
/// of `bytes` (or a pointer aliasing it) lives. An empty file gives size 0
/// and null bytes. Errors as readFile's (NOT_FOUND for a missing file).
///
/// A mapped file that another process truncates while it is mapped makes
/// the pages past its new end fault (SIGBUS): lmc's own writers replace
/// files by renaming (AtomicFile), which leaves a mapped file intact.
bool mapFile(const std::string &path, std::shared_ptr<uint8_t[]> &bytes, size_t &size,
             Status &error);

} // namespace lmc::rt

#endif // LMC_RUNTIME_IO_MAPPEDFILE_H
