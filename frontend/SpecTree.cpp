//===- SpecTree.cpp - a YAML document as an owned tree --------------------===//

#include "frontend/SpecTree.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/YAMLParser.h"

namespace lmc::frontend {

namespace yaml = llvm::yaml;

static std::optional<SpecNode> copyNode(yaml::Node *node,
                                        llvm::SourceMgr &sourceMgr) {
  SpecNode copy;
  copy.loc = node->getSourceRange().Start;
  if (auto *scalar = llvm::dyn_cast<yaml::ScalarNode>(node)) {
    llvm::SmallString<64> storage;
    copy.scalar = scalar->getValue(storage).str();
    return copy;
  }
  if (auto *sequence = llvm::dyn_cast<yaml::SequenceNode>(node)) {
    copy.kind = SpecNode::Kind::Sequence;
    for (yaml::Node &item : *sequence) {
      std::optional<SpecNode> child = copyNode(&item, sourceMgr);
      if (!child)
        return std::nullopt;
      copy.items.push_back(std::move(*child));
    }
    return copy;
  }
  if (auto *mapping = llvm::dyn_cast<yaml::MappingNode>(node)) {
    copy.kind = SpecNode::Kind::Mapping;
    for (yaml::KeyValueNode &entry : *mapping) {
      auto *key = llvm::dyn_cast_or_null<yaml::ScalarNode>(entry.getKey());
      if (!key) {
        sourceMgr.PrintMessage(entry.getSourceRange().Start,
                               llvm::SourceMgr::DK_Error,
                               "expected a plain field name");
        return std::nullopt;
      }
      llvm::SmallString<32> storage;
      std::string name = key->getValue(storage).str();
      yaml::Node *value = entry.getValue();
      std::optional<SpecNode> child =
          value ? copyNode(value, sourceMgr) : std::nullopt;
      if (!child)
        return std::nullopt;
      copy.fields.push_back(
          {std::move(name), key->getSourceRange().Start, std::move(*child)});
    }
    return copy;
  }
  if (llvm::isa<yaml::NullNode>(node))
    return copy;
  sourceMgr.PrintMessage(copy.loc, llvm::SourceMgr::DK_Error,
                         "expected a scalar, a list or a mapping");
  return std::nullopt;
}

std::optional<SpecNode> parseSpecTree(llvm::SourceMgr &sourceMgr,
                                      unsigned buffer) {
  yaml::Stream stream(sourceMgr.getMemoryBuffer(buffer)->getMemBufferRef(),
                      sourceMgr);
  yaml::document_iterator document = stream.begin();
  if (document == stream.end() || !document->getRoot()) {
    sourceMgr.PrintMessage(llvm::SMLoc(), llvm::SourceMgr::DK_Error,
                           "the spec file is empty");
    return std::nullopt;
  }
  std::optional<SpecNode> root = copyNode(document->getRoot(), sourceMgr);
  if (stream.failed())
    return std::nullopt;
  if (++document != stream.end()) {
    sourceMgr.PrintMessage(llvm::SMLoc(), llvm::SourceMgr::DK_Error,
                           "a spec file holds one YAML document");
    return std::nullopt;
  }
  return root;
}

} // namespace lmc::frontend
