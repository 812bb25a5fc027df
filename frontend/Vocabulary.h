//===- Vocabulary.h - vocabulary lists and files as tables ------*- C++ -*-===//

#ifndef LMC_FRONTEND_VOCABULARY_H
#define LMC_FRONTEND_VOCABULARY_H

#include "frontend/Columns.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace lmc::frontend {

/// The entries of a vocabulary file as TensorFlow reads it: one entry per
/// line, the line break ("\n" or "\r\n") removed, every other byte kept.
/// With `size`, only the first `size` lines, which must exist.
llvm::Expected<std::vector<std::string>>
readVocabularyFile(llvm::StringRef path, std::optional<int64_t> size);

/// A vocabulary compiled to the fingerprints its lookups compare against:
/// Fingerprint64 of each string, or of each integer's decimal text.
struct VocabularyTable {
  std::vector<int64_t> fingerprints;
};

/// Compiles `entries`. Fails with a message naming both entries when two are
/// equal (TensorFlow's "duplicate keys") or when their fingerprints collide,
/// and when an Int64 entry is not an integer; `badEntry` is then the index of
/// the entry at fault.
llvm::Expected<VocabularyTable>
compileVocabulary(const std::vector<std::string> &entries, KeyType keyType,
                  size_t &badEntry);

} // namespace lmc::frontend

#endif // LMC_FRONTEND_VOCABULARY_H
