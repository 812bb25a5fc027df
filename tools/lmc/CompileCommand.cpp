//===- CompileCommand.cpp - `lmc compile` ---------------------------------===//
//
// Reads a model (lmc IR, or a YAML spec declared through the frontend),
// verifies it, runs the compile pipeline and writes the result. Diagnostics carry file:line:col; on any failure the exit code is 1
// and the output file is not created (the output is written to a temporary
// file that is renamed into place only once it is complete).
//
//===----------------------------------------------------------------------===//

#include "tools/lmc/CompileCommand.h"

#include "compiler/Pipeline.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/Target.h"
#include "compiler/cuda/CudaCodegen.h"
#include "tools/lmc/LoadModel.h"

#include "io/AtomicFile.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace lmc::tools {

cl::SubCommand compileCommand("compile",
                              "Verify and compile a model: lmc IR (.mlir) or "
                              "a YAML spec (.yaml)");

namespace {

enum class EmitKind { Mlir, Kernels, Package };

cl::opt<std::string> inputPath(cl::Positional,
                               cl::desc("<model.mlir | model.yaml>"),
                               cl::Required, cl::sub(compileCommand));

cl::opt<std::string> outputPath("o",
                                cl::desc("Output file ('-' for stdout); a .lmcpkg "
                                         "name writes the runtime package"),
                                cl::value_desc("path"), cl::init("-"),
                                cl::sub(compileCommand));

cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to write"), cl::init(EmitKind::Mlir),
    cl::values(clEnumValN(EmitKind::Mlir, "mlir",
                          "the optimized lmc IR"),
               clEnumValN(EmitKind::Kernels, "kernels",
                          "the kernel-level IR with its memory plan"),
               clEnumValN(EmitKind::Package, "package",
                          "the .lmcpkg the runtime loads (the default for "
                          "-o *.lmcpkg)")),
    cl::sub(compileCommand));

cl::opt<mlir::lmc::Precision> precision(
    "precision", cl::desc("Storage precision of parameters and activations"),
    cl::init(mlir::lmc::Precision::FP32),
    cl::values(clEnumValN(mlir::lmc::Precision::FP32, "fp32", "f32 throughout"),
               clEnumValN(mlir::lmc::Precision::FP16, "fp16",
                          "f16 storage, f32 accumulation and statistics"),
               clEnumValN(mlir::lmc::Precision::BF16, "bf16",
                          "bf16 storage, f32 accumulation and statistics")),
    cl::sub(compileCommand));

cl::opt<std::string> targetName(
    "target", cl::desc("What to compile for: cpu, cuda, or sm_75 .. sm_121"),
    cl::value_desc("target"), cl::init("cuda"), cl::sub(compileCommand));

cl::opt<bool> train("train",
                    cl::desc("Compile the training step (forward, loss, backward) "
                             "named by the model's training section"),
                    cl::init(false), cl::sub(compileCommand));

cl::opt<int> zeroStage("zero-stage",
                       cl::desc("With --train: the ZeRO stage (0-3), instead of the training "
                                "section's"),
                       cl::init(-1), cl::sub(compileCommand));
cl::opt<int> ranks("ranks",
                   cl::desc("With --train: the ranks the training state is sharded over, "
                            "instead of the training section's"),
                   cl::init(0), cl::sub(compileCommand));

cl::opt<bool> packing("packing",
                      cl::desc("Compute sequences on packed tokens "
                               "(--lmc-remove-padding); =false keeps padding"),
                      cl::init(true), cl::sub(compileCommand));

cl::opt<int64_t> maxBatch("max-batch",
                          cl::desc("Examples per batch the memory plan is made for"),
                          cl::init(mlir::lmc::kDefaultMaxBatch), cl::sub(compileCommand));
cl::opt<int64_t> maxSequence("max-sequence",
                             cl::desc("Sequence length the memory plan is made for (also "
                                      "the runtime's default packing length, up to "
                                      "--max-tokens)"),
                             cl::init(mlir::lmc::kDefaultMaxSequence), cl::sub(compileCommand));
cl::opt<int64_t> maxTokens("max-tokens",
                           cl::desc("Packed tokens per batch the memory plan is made for"),
                           cl::init(mlir::lmc::kDefaultMaxTokens), cl::sub(compileCommand));

// MLIR's own pass-manager flags, under the names mlir-opt gives them.
cl::opt<bool> printIRAfterAll("mlir-print-ir-after-all",
                              cl::desc("Print the IR after every pass"),
                              cl::init(false), cl::sub(compileCommand));
cl::opt<bool> timing("mlir-timing",
                     cl::desc("Report the time each pass takes"),
                     cl::init(false), cl::sub(compileCommand));

const char *precisionName(mlir::lmc::Precision precision) {
  switch (precision) {
  case mlir::lmc::Precision::FP32: return "fp32";
  case mlir::lmc::Precision::FP16: return "fp16";
  case mlir::lmc::Precision::BF16: return "bf16";
  }
  return "fp32";
}

} // namespace

int runCompileCommand() {
  ModelSession session(inputPath, "lmc compile");
  mlir::OwningOpRef<mlir::ModuleOp> &module = session.module;
  std::string targetError;
  mlir::FailureOr<mlir::lmc::Target> target =
      mlir::lmc::parseTarget(targetName, targetError);
  if (mlir::failed(target)) {
    llvm::WithColor::error(llvm::errs(), "lmc compile")
        << "--target: " << targetError << "\n";
    return 1;
  }
  EmitKind emit = emitKind;
  if (!emitKind.getNumOccurrences() && llvm::StringRef(outputPath).ends_with(".lmcpkg"))
    emit = EmitKind::Package;
  mlir::lmc::CompileOptions options;
  options.precision = precision;
  // A training step takes the training section's precision unless
  // --precision says otherwise.
  if (train && module && !precision.getNumOccurrences())
    if (auto settings = (*module)->getAttrOfType<mlir::DictionaryAttr>("lmc.training"))
      if (auto name = settings.getAs<mlir::StringAttr>("precision"))
        options.precision = name.getValue() == "fp16"   ? mlir::lmc::Precision::FP16
                            : name.getValue() == "bf16" ? mlir::lmc::Precision::BF16
                                                        : mlir::lmc::Precision::FP32;
  options.formKernels = emit != EmitKind::Mlir;
  options.packing = packing;
  options.train = train;
  if ((zeroStage.getNumOccurrences() || ranks.getNumOccurrences()) && !train) {
    llvm::WithColor::error(llvm::errs(), "lmc compile")
        << "--zero-stage and --ranks need --train\n";
    return 1;
  }
  // --zero-stage and --ranks override the training section's settings (the
  // package checks their ranges).
  if (train && module)
    if (auto settings = (*module)->getAttrOfType<mlir::DictionaryAttr>("lmc.training")) {
      mlir::NamedAttrList fields(settings);
      mlir::Builder builder(&session.context);
      if (zeroStage.getNumOccurrences())
        fields.set("zero_stage", builder.getI64IntegerAttr(zeroStage));
      if (ranks.getNumOccurrences())
        fields.set("ranks", builder.getI64IntegerAttr(ranks));
      (*module)->setAttr("lmc.training", fields.getDictionary(&session.context));
    }
  if (maxBatch <= 0 || maxSequence <= 0 || maxTokens <= 0) {
    llvm::WithColor::error(llvm::errs(), "lmc compile")
        << "--max-batch, --max-sequence and --max-tokens must be positive\n";
    return 1;
  }
  options.maxBatch = maxBatch;
  options.maxSequence = maxSequence;
  options.maxTokens = maxTokens;
  mlir::DefaultTimingManager timingManager;
  timingManager.setEnabled(timing);
  mlir::TimingScope timingScope = timingManager.getRootScope();
  auto configure = [&](mlir::PassManager &pm) {
    if (printIRAfterAll) {
      session.context.disableMultithreading();
      pm.enableIRPrinting([](mlir::Pass *, mlir::Operation *) { return false; },
                          [](mlir::Pass *, mlir::Operation *) { return true; },
                          /*printModuleScope=*/true,
                          /*printAfterOnlyOnChange=*/false);
    }
    if (timing)
      pm.enableTiming(timingScope);
  };
  if (!module || mlir::failed(mlir::lmc::applyTarget(*module, *target, options.precision)) ||
      mlir::failed(mlir::lmc::runCompilePipeline(*module, options, configure)))
    return 1;

  std::string package;
  if (emit == EmitKind::Package) {
    mlir::FailureOr<std::string> bytes =
        mlir::lmc::writeArtifact(*module, precisionName(options.precision));
    if (mlir::failed(bytes))
      return 1;
    // A GPU package carries each kernel's CUDA C (and NVRTC's PTX/cubin),
    // generated from the plan just written, then written again with it.
    if (!target->isCpu()) {
      mlir::FailureOr<mlir::lmc::CodeByKernel> code =
          mlir::lmc::generateCudaCode(*module, *bytes, *target);
      if (mlir::failed(code))
        return 1;
      bytes = mlir::lmc::writeArtifact(*module, precisionName(options.precision), *code);
      if (mlir::failed(bytes))
        return 1;
    }
    package = std::move(*bytes);
  }
  std::string text;
  ::lmc::rt::Status error;
  if (emit == EmitKind::Package) {
    text = std::move(package);
  } else {
    llvm::raw_string_ostream os(text);
    module->print(os);
  }
  if (!rt::writeFileAtomically(outputPath, text, error)) {
    llvm::WithColor::error(llvm::errs(), "lmc compile") << error.message() << "\n";
    return 1;
  }
  return 0;
}

} // namespace lmc::tools
