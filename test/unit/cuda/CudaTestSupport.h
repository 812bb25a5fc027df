// CudaTestSupport.h - example packages for the CUDA tests, compiled
// in-process.

#ifndef LMC_TEST_UNIT_CUDA_CUDATESTSUPPORT_H
#define LMC_TEST_UNIT_CUDA_CUDATESTSUPPORT_H

#include "compiler/CompileOptions.h"

#include "artifact/Plan.h"
#include "session/Model.h"
#include "packer/Example.h"

#include <memory>
#include <random>
#include <string>

namespace lmc::testing {

/// examples/<name> compiled to package bytes (no CUDA code); empty on failure.
std::string compilePackage(const std::string &name, mlir::lmc::CompileOptions options);

/// The same package with every kernel's CUDA C and launches (no NVRTC).
std::string compilePackageWithCode(const std::string &name, mlir::lmc::CompileOptions options);
/// examples/<name> (a YAML spec) with the text `from` replaced by `to`,
/// compiled with CUDA C: a variant of an example. Empty on failure (also
/// when `from` is not in the spec).
std::string compileExampleVariantWithCode(const std::string &name, const std::string &from,
                                          const std::string &to,
                                          mlir::lmc::CompileOptions options);
/// A YAML spec file, compiled with CUDA C; empty on failure.
std::string compileSpecFileWithCode(const std::string &path, mlir::lmc::CompileOptions options);
/// A YAML spec given as text, compiled with CUDA C; `path` names it (its
/// relative vocabulary files are found beside it).
std::string compileSpecTextWithCode(const std::string &text, const std::string &path,
                                    mlir::lmc::CompileOptions options);
/// A module given as text, compiled with CUDA C.
std::string compileSourceWithCode(const std::string &source, mlir::lmc::CompileOptions options);

/// A training model's source (TinyTrainingModel.h) compiled as a training
/// step with the optimizer and CUDA C, for batches of up to 8 examples.
std::string compileTrainingStepWithCode(const std::string &source);

/// examples/<name> compiled and loaded.
bool compilePlan(const std::string &name, mlir::lmc::CompileOptions options, rt::Plan &plan);
/// The package `bytes` loaded twice: on the CPU backend, and on the CUDA
/// backend of an emulated device of compute capability `arch` (75 or 80).
/// With `ranks`, both train over them (the GPU's collectives over the
/// emulated NCCL). False with `error` set when either fails.
bool loadOnCpuAndEmulatedGpu(const std::string &bytes, int arch, std::unique_ptr<rt::Model> &onCpu,
                             std::unique_ptr<rt::Model> &onGpu, rt::Status &error,
                             rt::Communicator *ranks = nullptr);

/// Runs a plan without parameters on `inputs`, on the CPU backend into
/// `expected` and on the CUDA backend of an emulated device of compute
/// capability `arch` into `got`. False with `error` set when either fails.
bool runOnCpuAndEmulatedGpu(const rt::Plan &plan, int arch, const std::vector<cpu::Tensor> &inputs,
                            std::vector<cpu::Tensor> &expected, std::vector<cpu::Tensor> &got,
                            rt::Status &error);

/// Gives `onCpu` and `onGpu` (loadOnCpuAndEmulatedGpu) the same generated
/// weights, trains each `steps` optimizer steps on one batch of `examples`
/// over `ranks`, then expects every weight and moment they store to agree
/// within 1e-5 relative (the GPU's square root is within 2 ulp). Reports
/// through gtest.
void trainBothAndCompare(rt::Model &onCpu, rt::Model &onGpu, rt::Communicator &ranks,
                         const std::vector<rt::Example> &examples, int steps);

/// A tensor of `shape` holding standard normal values rounded to `dtype`
/// (f32, f16 or bf16).
cpu::Tensor randomNormal(rt::DType dtype, std::vector<int64_t> shape, std::mt19937 &engine);

/// The relative L2 distance of `got` from `expected`; fails the running
/// test (naming `what` and the element) when `got` holds a NaN: the
/// emulator's fresh memory is NaN, so that is an element no kernel wrote.
double relativeL2(const cpu::Tensor &got, const cpu::Tensor &expected, const std::string &what);

} // namespace lmc::testing

#endif // LMC_TEST_UNIT_CUDA_CUDATESTSUPPORT_H
