//===- SpecTree.h - a YAML document as an owned tree -------------*- C++ -*-===//
//
// LLVM's YAML parser streams: a node can be read once, in order. The spec
// loader looks fields up by name and in any order, so the document is first
// copied into this tree, every node keeping its source location.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_FRONTEND_SPECTREE_H
#define LMC_FRONTEND_SPECTREE_H

#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lmc::frontend {

struct SpecField;

struct SpecNode {
  enum class Kind { Scalar, Sequence, Mapping };
  Kind kind = Kind::Scalar;
  llvm::SMLoc loc;
  std::string scalar;
  std::vector<SpecNode> items;
  /// Mapping entries, in file order.
  std::vector<SpecField> fields;
};

struct SpecField {
  std::string key;
  llvm::SMLoc keyLoc;
  SpecNode value;
};

/// Parses the YAML document in `buffer` (one document). Syntax errors are
/// reported through `sourceMgr` with their line:col; returns nullopt then.
std::optional<SpecNode> parseSpecTree(llvm::SourceMgr &sourceMgr,
                                      unsigned buffer);

} // namespace lmc::frontend

#endif // LMC_FRONTEND_SPECTREE_H
