//===- Vocabulary.cpp - vocabulary lists and files as tables --------------===//

#include "frontend/Vocabulary.h"

#include "lmc/fingerprint.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

namespace lmc::frontend {

llvm::Expected<std::vector<std::string>>
readVocabularyFile(llvm::StringRef path, std::optional<int64_t> size) {
  // A device or FIFO (/dev/zero, /dev/stdin) would be read without end.
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(path, status) && !llvm::sys::fs::is_regular_file(status))
    return llvm::createStringError(
        std::make_error_code(std::errc::invalid_argument),
        "cannot read vocabulary file '" + path + "': " +
            (llvm::sys::fs::is_directory(status) ? "it is a directory"
                                                  : "it is not a regular file"));
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read vocabulary file '" + path +
                                       "': " + buffer.getError().message());
  std::vector<std::string> entries;
  llvm::StringRef rest = (*buffer)->getBuffer();
  while (!rest.empty() && (!size || int64_t(entries.size()) < *size)) {
    auto [line, after] = rest.split('\n');
    line.consume_back("\r");
    entries.push_back(line.str());
    rest = after;
  }
  if (size && int64_t(entries.size()) < *size)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "vocabulary file '" + path + "' has " +
            std::to_string(entries.size()) + " lines, fewer than its size " +
            std::to_string(*size));
  return entries;
}

llvm::Expected<VocabularyTable>
compileVocabulary(const std::vector<std::string> &entries, KeyType keyType,
                  size_t &badEntry) {
  VocabularyTable table;
  // The text each fingerprint was computed from: equal texts are duplicate
  // entries, different texts with one fingerprint are a collision.
  std::vector<std::string> hashedText;
  llvm::DenseMap<uint64_t, size_t> firstWithFingerprint;
  for (size_t i = 0; i < entries.size(); ++i) {
    badEntry = i;
    std::string text = entries[i];
    if (keyType == KeyType::Int64) {
      int64_t value;
      if (llvm::StringRef(text).getAsInteger(10, value))
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "entry #" + std::to_string(i) + " '" +
                                           text + "' is not an int64");
      text = std::to_string(value);
    }
    uint64_t fingerprint = lmc_fingerprint64(text.data(), text.size());
    auto [it, inserted] = firstWithFingerprint.try_emplace(fingerprint, i);
    if (!inserted) {
      std::string both = "entries #" + std::to_string(it->second) + " '" +
                         entries[it->second] + "' and #" + std::to_string(i) +
                         " '" + entries[i] + "'";
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     hashedText[it->second] == text
                                         ? "duplicate " + both
                                         : both + " have the same fingerprint");
    }
    hashedText.push_back(text);
    table.fingerprints.push_back(static_cast<int64_t>(fingerprint));
  }
  return table;
}

} // namespace lmc::frontend
