//===- SpecTree.cpp - a YAML document as an owned tree --------------------===//

#include "frontend/SpecTree.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/YAMLParser.h"

namespace lmc::frontend {

namespace yaml = llvm::yaml;

namespace {

/// Copies llvm::yaml's nodes (which live only as long as their stream) into
/// SpecNodes, expanding aliases (`*name`) into copies of their anchored node
/// (`&name`): PyYAML writes anchors for lists that repeat.
class TreeCopier {
public:
  explicit TreeCopier(llvm::SourceMgr &sourceMgr) : sourceMgr(sourceMgr) {}

  std::optional<SpecNode> copy(yaml::Node *node, unsigned depth = 0) {
    // Nesting this deep is no model; refusing it keeps the recursion's stack
    // bounded. The node budget bounds aliases of aliases ("billion laughs").
    if (depth > kMaxDepth)
      return fail(node, "the spec nests deeper than " + llvm::Twine(kMaxDepth) + " levels");
    std::optional<SpecNode> copied = copyUnanchored(node, depth);
    if (copied && !node->getAnchor().empty())
      anchors[node->getAnchor()] = *copied;
    return copied;
  }

private:
  static constexpr unsigned kMaxDepth = 200;
  static constexpr size_t kMaxNodes = 1000000;

  std::optional<SpecNode> fail(yaml::Node *node, const llvm::Twine &message) {
    sourceMgr.PrintMessage(node->getSourceRange().Start, llvm::SourceMgr::DK_Error, message);
    return std::nullopt;
  }

  std::optional<SpecNode> copyUnanchored(yaml::Node *node, unsigned depth) {
    if (++nodes > kMaxNodes)
      return fail(node, "the spec expands to more than " + llvm::Twine(kMaxNodes) +
                            " values (aliases of aliases?)");
    SpecNode copy;
    copy.loc = node->getSourceRange().Start;
    if (auto *alias = llvm::dyn_cast<yaml::AliasNode>(node)) {
      auto found = anchors.find(alias->getName());
      if (found == anchors.end())
        return fail(node, "alias '*" + alias->getName() +
                              "' names no anchor defined before it");
      nodes += countNodes(found->second);
      if (nodes > kMaxNodes)
        return fail(node, "the spec expands to more than " + llvm::Twine(kMaxNodes) +
                              " values (aliases of aliases?)");
      SpecNode expanded = found->second;
      expanded.loc = copy.loc; // the alias's place; values inside keep the anchor's
      return expanded;
    }
    if (auto *scalar = llvm::dyn_cast<yaml::ScalarNode>(node)) {
      llvm::SmallString<64> storage;
      copy.scalar = scalar->getValue(storage).str();
      return copy;
    }
    if (auto *sequence = llvm::dyn_cast<yaml::SequenceNode>(node)) {
      copy.kind = SpecNode::Kind::Sequence;
      for (yaml::Node &item : *sequence) {
        std::optional<SpecNode> child = copyChild(item, depth);
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
        if (!key)
          return fail(node, "expected a plain field name");
        llvm::SmallString<32> storage;
        std::string name = key->getValue(storage).str();
        for (const SpecField &earlier : copy.fields)
          if (earlier.key == name) {
            auto [line, column] = sourceMgr.getLineAndColumn(earlier.keyLoc);
            return fail(key, "duplicate field '" + name + "' (first at line " +
                                 llvm::Twine(line) + ":" + llvm::Twine(column) + ")");
          }
        yaml::Node *value = entry.getValue();
        std::optional<SpecNode> child = value ? copyChild(*value, depth) : std::nullopt;
        if (!child)
          return std::nullopt;
        copy.fields.push_back({std::move(name), key->getSourceRange().Start, std::move(*child)});
      }
      return copy;
    }
    if (llvm::isa<yaml::NullNode>(node))
      return copy;
    return fail(node, "expected a scalar, a list or a mapping");
  }

  std::optional<SpecNode> copyChild(yaml::Node &child, unsigned depth) {
    return copy(&child, depth + 1);
  }

  static size_t countNodes(const SpecNode &node) {
    size_t count = 1;
    for (const SpecNode &item : node.items)
      count += countNodes(item);
    for (const SpecField &field : node.fields)
      count += countNodes(field.value);
    return count;
  }

  llvm::SourceMgr &sourceMgr;
  llvm::StringMap<SpecNode> anchors;
  size_t nodes = 0;
};

} // namespace

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
  std::optional<SpecNode> root = TreeCopier(sourceMgr).copy(document->getRoot());
  if (!root || stream.failed())
    return std::nullopt;
  if (++document != stream.end()) {
    sourceMgr.PrintMessage(llvm::SMLoc(), llvm::SourceMgr::DK_Error,
                           "a spec file holds one YAML document");
    return std::nullopt;
  }
  return root;
}

} // namespace lmc::frontend
