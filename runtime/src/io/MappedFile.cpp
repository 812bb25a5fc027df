// MappedFile.cpp - mmap of a regular file, released with its last owner.

#include "io/MappedFile.h"

#include "io/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace lmc::rt {

bool mapFile(const std::string &path, std::shared_ptr<uint8_t[]> &bytes, size_t &size,
             Status &error) {
  int fd = -1;
  bytes.reset();
  if (!openRegularFile(path, fd, size, error))
    return false;
  if (size == 0) {
    ::close(fd);
    return true;
  }
  void *mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int code = errno;
  ::close(fd); // the mapping keeps the file open
  if (mapped == MAP_FAILED)
    return error.fail(code == ENOMEM ? LMC_STATUS_OUT_OF_MEMORY : LMC_STATUS_INVALID_ARGUMENT,
                      "cannot map '" + path + "': " + std::strerror(code));
  // Weights are read whole, once: read ahead rather than fault page by page.
  ::madvise(mapped, size, MADV_WILLNEED);
  bytes = std::shared_ptr<uint8_t[]>(static_cast<uint8_t *>(mapped),
                                     [size](uint8_t *base) { ::munmap(base, size); });
  return true;
}

} // namespace lmc::rt
