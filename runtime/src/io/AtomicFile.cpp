// AtomicFile.cpp - exclusive temporaries renamed into place, and whole-file
// reads.

#include "io/AtomicFile.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace lmc::rt {
namespace {

// Temporaries not yet renamed, for the signal handler: fixed storage, since
// a handler may not allocate.
constexpr int kMaxPending = 32;
constexpr size_t kMaxPath = 4096;
char pendingPaths[kMaxPending][kMaxPath];
volatile sig_atomic_t pendingUsed[kMaxPending];

std::mutex pendingSlots; // between threads; the handler only reads

int addPending(const std::string &path) {
  if (path.size() >= kMaxPath)
    return -1;
  std::lock_guard<std::mutex> lock(pendingSlots);
  for (int i = 0; i < kMaxPending; ++i)
    if (!pendingUsed[i]) {
      std::memcpy(pendingPaths[i], path.c_str(), path.size() + 1);
      pendingUsed[i] = 1;
      return i;
    }
  return -1;
}

void removePending(int slot) {
  std::lock_guard<std::mutex> lock(pendingSlots);
  if (slot >= 0)
    pendingUsed[slot] = 0;
}

extern "C" void removeTemporariesAndExit(int signal) {
  for (int i = 0; i < kMaxPending; ++i)
    if (pendingUsed[i])
      ::unlink(pendingPaths[i]);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// Temporaries of `base` left by processes that no longer run (killed
/// between writing and renaming) are removed by the next write.
void removeStaleTemporaries(const std::string &directory, const std::string &prefix) {
  DIR *folder = ::opendir(directory.c_str());
  if (!folder)
    return;
  while (dirent *entry = ::readdir(folder)) {
    std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0)
      continue;
    // Only names this writer makes: <prefix><pid>-XXXXXX.
    const char *at = name.c_str() + prefix.size();
    char *end = nullptr;
    long pid = std::strtol(at, &end, 10);
    if (end == at || *end != '-' || std::strlen(end + 1) != 6 || pid <= 0)
      continue;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
      ::unlink((directory + "/" + name).c_str());
  }
  ::closedir(folder);
}

/// The process's umask, read without changing it (umask() would, for a
/// moment, for every thread).
mode_t currentUmask() {
  if (FILE *status = std::fopen("/proc/self/status", "r")) {
    char line[256];
    unsigned mask = 0;
    while (std::fgets(line, sizeof line, status))
      if (std::sscanf(line, "Umask: %o", &mask) == 1) {
        std::fclose(status);
        return mode_t(mask);
      }
    std::fclose(status);
  }
  return 022;
}

void syncDirectory(const std::string &directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

} // namespace

OutputFile::~OutputFile() { abandon(); }

bool OutputFile::fail(const std::string &what, rt::Status &error) {
  abandon();
  return error.fail("cannot write '" + path + "': " + what);
}

void OutputFile::abandon() {
  if (ownsDescriptor && fd >= 0)
    ::close(fd);
  fd = -1;
  ownsDescriptor = false;
  if (!temporary.empty())
    ::unlink(temporary.c_str());
  temporary.clear();
  removePending(pendingSlot);
  pendingSlot = -1;
}

bool OutputFile::open(const std::string &target, rt::Status &error) {
  abandon();
  path = target;
  if (path.empty())
    return fail("no path was given", error);
  if (path == "-") {
    fd = STDOUT_FILENO;
    return true;
  }
  struct stat status = {};
  bool exists = ::stat(path.c_str(), &status) == 0;
  // /dev/stdout, /proc/self/fd/N: the caller's own descriptors, written in
  // place like devices and pipes, never replaced by a file.
  bool descriptor = path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0;
  if (exists && S_ISDIR(status.st_mode))
    return fail("it is a directory", error);
  if (exists && (!S_ISREG(status.st_mode) || descriptor)) {
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return fail(std::strerror(errno), error);
    ownsDescriptor = true;
    return true;
  }
  // A symlink is kept: the file it names is the one replaced.
  struct stat link = {};
  if (exists && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    char *resolved = ::realpath(path.c_str(), nullptr);
    if (!resolved)
      return fail(std::strerror(errno), error);
    path = resolved;
    std::free(resolved);
  }
  std::string directory = directoryOf(path);
  std::string prefix = "." + baseOf(path) + ".lmc-";
  removeStaleTemporaries(directory, prefix);
  std::string name = directory + "/" + prefix + std::to_string(::getpid()) + "-XXXXXX";
  // mkstemp creates the file exclusively (O_EXCL): a planted name or
  // symlink makes it pick another, never write through it.
  fd = ::mkstemp(name.data());
  if (fd < 0)
    return fail(std::strerror(errno), error);
  ownsDescriptor = true;
  temporary = name;
  pendingSlot = addPending(temporary);
  // mkstemp makes the file private (0600): give it the mode of the file it
  // replaces, or of a new file under the umask.
  ::fchmod(fd, exists ? (status.st_mode & 07777) : (0666 & ~currentUmask()));
  return true;
}

bool OutputFile::write(const void *data, size_t size, rt::Status &error) {
  if (fd < 0)
    return fail("it is not open", error);
  const char *bytes = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t count = ::write(fd, bytes, size);
    if (count < 0) {
      if (errno == EINTR)
        continue;
      return fail(std::strerror(errno), error);
    }
    bytes += count;
    size -= size_t(count);
    written += uint64_t(count);
  }
  return true;
}

bool OutputFile::reserve(uint64_t bytes, rt::Status &error) {
  struct statvfs space;
  if (temporary.empty() || ::fstatvfs(fd, &space) != 0)
    return true;
  uint64_t free = uint64_t(space.f_bavail) * uint64_t(space.f_frsize);
  if (bytes <= free)
    return true;
  char text[160];
  std::snprintf(text, sizeof text, "it needs %.1f GiB; its file system has %.1f GiB free",
                double(bytes) / double(1 << 30), double(free) / double(1 << 30));
  return fail(text, error);
}

bool OutputFile::commit(rt::Status &error) {
  if (fd < 0)
    return fail("it is not open", error);
  // The descriptor is closed exactly once, whatever fails.
  bool owned = ownsDescriptor;
  int descriptor = fd;
  ownsDescriptor = false;
  fd = -1;
  if (temporary.empty()) { // stdout, a device or a pipe
    if (owned && ::close(descriptor) != 0)
      return fail(std::strerror(errno), error);
    return true;
  }
  bool synced = ::fsync(descriptor) == 0;
  int code = errno;
  if (::close(descriptor) != 0 || !synced)
    return fail(std::strerror(synced ? errno : code), error);
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    return fail(std::strerror(errno), error);
  temporary.clear();
  removePending(pendingSlot);
  pendingSlot = -1;
  syncDirectory(directoryOf(path));
  return true;
}

bool writeFileAtomically(const std::string &path, const std::string &bytes, rt::Status &error) {
  OutputFile out;
  return out.open(path, error) && out.write(bytes, error) && out.commit(error);
}

void removeTemporariesOnSignals() {
  // A signal the caller ignores (nohup, a background job's SIGINT) stays
  // ignored.
  for (int signal : {SIGINT, SIGTERM, SIGHUP})
    if (std::signal(signal, removeTemporariesAndExit) == SIG_IGN)
      std::signal(signal, SIG_IGN);
}

bool openRegularFile(const std::string &path, int &fd, size_t &size, rt::Status &error) {
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int code = errno;
    return error.fail(code == ENOENT ? LMC_STATUS_NOT_FOUND : LMC_STATUS_INVALID_ARGUMENT,
                      "cannot read '" + path + "': " + std::strerror(code));
  }
  struct stat status = {};
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    // A pipe or device may never end: packages, weights and checkpoints
    // are regular files of a known size.
    ::close(fd);
    fd = -1;
    return error.fail("cannot read '" + path + "': " +
                      (S_ISDIR(status.st_mode) ? "it is a directory" : "it is not a regular file"));
  }
  size = size_t(status.st_size);
  return true;
}

bool readFile(const std::string &path, std::string &bytes, rt::Status &error) {
  int fd = -1;
  size_t size = 0;
  if (!openRegularFile(path, fd, size, error))
    return false;
  bytes.clear();
  bytes.reserve(size);
  char buffer[1 << 16];
  for (;;) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      int code = errno;
      ::close(fd);
      return error.fail("cannot read '" + path + "': " + std::strerror(code));
    }
    if (got == 0)
      break;
    bytes.append(buffer, size_t(got));
  }
  ::close(fd);
  return true;
}

} // namespace lmc::rt
