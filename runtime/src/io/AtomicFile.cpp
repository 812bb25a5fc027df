// AtomicFile.cpp - temp file + rename, and whole-file reads.

#include "io/AtomicFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace lmc::rt {

bool writeFileAtomically(const std::string &path, const std::string &bytes,
                         std::string &error) {
  std::string temporary = path + ".tmp" + std::to_string(::getpid());
  FILE *file = std::fopen(temporary.c_str(), "wb");
  if (!file)
    return (error = "cannot write '" + path + "': " + std::strerror(errno)), false;
  bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  written = (std::fclose(file) == 0) && written;
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

bool readFile(const std::string &path, std::string &bytes, std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return (error = "cannot read '" + path + "': " + std::strerror(errno)), false;
  bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return true;
}

} // namespace lmc::rt
