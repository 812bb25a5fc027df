// fuzz_spec.cpp - libFuzzer target for the YAML spec loader
// (frontend/SpecLoader.cpp and the ModelBuilder calls it makes).
//
// Input: a spec file's text, read as a spec in LMC_SPEC_FOLDER (the seeds'
// folder, where the vocabulary files the seeds name are). Whatever it holds, loading must end in a module
// that verifies or in located errors, never a crash, a hang or unbounded
// recursion (the loader and the frontend are built with AddressSanitizer
// and UBSan; MLIR itself is not instrumented).

#include "frontend/SpecLoader.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          LMC_SPEC_FOLDER "/fuzz.yaml"),
      llvm::SMLoc());
  // YAML syntax errors go to the source manager: drop them likewise.
  sourceMgr.setDiagHandler([](const llvm::SMDiagnostic &, void *) {});
  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  // Every diagnostic must carry a location in the spec; they are printed
  // nowhere (the fuzzer would spend its time writing them).
  bool unlocated = false;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diagnostic) {
    unlocated |= diagnostic.getSeverity() == mlir::DiagnosticSeverity::Error &&
                 llvm::isa<mlir::UnknownLoc>(diagnostic.getLocation());
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = lmc::frontend::loadModelSpec(sourceMgr, context);
  // A module the loader returns is one the compiler can take.
  if (module && mlir::failed(mlir::verify(*module)))
    std::abort();
  if (unlocated)
    std::abort();
  return 0;
}
