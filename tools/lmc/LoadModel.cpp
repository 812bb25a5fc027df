//===- LoadModel.cpp - read a model for any lmc subcommand ----------------===//

#include "tools/lmc/LoadModel.h"

#include "compiler/Registration.h"
#include "frontend/SpecLoader.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/WithColor.h"

namespace lmc::tools {

static mlir::DialectRegistry lmcDialects() {
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  return registry;
}

namespace {

/// Deeper nesting than any model needs; the parser's recursion would
/// overflow the stack long before a real model got here.
constexpr int kMaxIrNesting = 256;

/// The first bracket ({, [ or () past kMaxIrNesting levels in lmc IR, outside
/// strings and comments; null when there is none.
const char *firstTooDeep(llvm::StringRef text) {
  int depth = 0;
  for (const char *at = text.begin(); at < text.end(); ++at) {
    switch (*at) {
    case '"':
      for (++at; at < text.end() && *at != '"'; ++at)
        if (*at == '\\')
          ++at;
      break;
    case '/':
      if (at + 1 < text.end() && at[1] == '/')
        while (at < text.end() && *at != '\n')
          ++at;
      break;
    case '{': case '[': case '(':
      if (++depth > kMaxIrNesting)
        return at;
      break;
    case '}': case ']': case ')':
      --depth;
      break;
    default:
      break;
    }
  }
  return nullptr;
}

} // namespace

ModelSession::ModelSession(llvm::StringRef path, llvm::StringRef command)
    : context(lmcDialects()), diagnostics(sourceMgr, &context) {
  // Remarks and errors point at a location; a dump of the whole op after
  // each would bury them.
  context.printOpOnDiagnostic(false);
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = mlir::openInputFile(path, &error);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), command) << error << "\n";
    return;
  }
  if (input->getBuffer().starts_with("LMCPKG")) {
    llvm::WithColor::error(llvm::errs(), command)
        << "'" << path << "' is a compiled package, not a model: lmc inspect shows it, lmc run "
        << "runs it; " << command << " reads lmc IR (.mlir) or a YAML spec\n";
    return;
  }
  unsigned buffer = sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  // A YAML spec declares the model through the frontend; anything else is
  // read as lmc IR.
  if (lmc::frontend::isModelSpecPath(path)) {
    module = lmc::frontend::loadModelSpec(sourceMgr, context);
    return;
  }
  if (const char *tooDeep = firstTooDeep(sourceMgr.getMemoryBuffer(buffer)->getBuffer())) {
    sourceMgr.PrintMessage(llvm::SMLoc::getFromPointer(tooDeep), llvm::SourceMgr::DK_Error,
                           "the IR nests deeper than " + llvm::Twine(kMaxIrNesting) +
                               " brackets; MLIR's parser recurses once per level");
    return;
  }
  module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
}

} // namespace lmc::tools
