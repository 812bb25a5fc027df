// AtomicFile.h - writing a whole file or nothing.

#ifndef LMC_RUNTIME_IO_ATOMICFILE_H
#define LMC_RUNTIME_IO_ATOMICFILE_H

#include "Status.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace lmc::rt {

/// An output that readers see whole or not at all. `-` is standard output;
/// a character device or FIFO (/dev/null, a pipe) is written in place,
/// never replaced; a directory is refused; any other path (a regular file,
/// or nothing yet) is written to a new temporary beside it, created
/// exclusively (no symlink is followed), synced, and renamed over the path
/// by commit(). Destroying an uncommitted output removes its temporary.
class OutputFile {
public:
  OutputFile() = default;
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;
  ~OutputFile();

  bool open(const std::string &path, rt::Status &error);
  bool write(const void *data, size_t size, rt::Status &error);
  bool write(const std::string &text, rt::Status &error) {
    return write(text.data(), text.size(), error);
  }
  /// Refuses, with the sizes, to start writing `bytes` that the file system
  /// holding the path has no room for (devices and pipes are not checked).
  bool reserve(uint64_t bytes, rt::Status &error);
  /// Syncs and renames the temporary into place (and syncs its folder).
  bool commit(rt::Status &error);
  /// The bytes written so far.
  uint64_t bytesWritten() const { return written; }

private:
  bool fail(const std::string &what, rt::Status &error);
  void abandon();

  std::string path, temporary;
  int fd = -1;
  int pendingSlot = -1;
  bool ownsDescriptor = false;
  uint64_t written = 0;
};

/// Writes `bytes` to `path` through an OutputFile.
bool writeFileAtomically(const std::string &path, const std::string &bytes, rt::Status &error);

/// Makes SIGINT, SIGTERM and SIGHUP remove the temporaries of outputs not
/// yet committed before the process ends; for programs (the lmc tool), not
/// libraries, which leave signals to their host.
void removeTemporariesOnSignals();

/// Opens the regular file at `path` for reading: its descriptor (the caller
/// closes it) and size. False with `error` set otherwise (NOT_FOUND for a
/// missing file; a directory, pipe or device is refused by name: it may
/// never end).
bool openRegularFile(const std::string &path, int &fd, size_t &size, rt::Status &error);

/// Reads a whole regular file; false with `error` set when it cannot (a
/// directory, pipe or device is refused by name: it may never end).
bool readFile(const std::string &path, std::string &bytes, rt::Status &error);

} // namespace lmc::rt

#endif // LMC_RUNTIME_IO_ATOMICFILE_H
