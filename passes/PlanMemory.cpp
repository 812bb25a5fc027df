//===- PlanMemory.cpp - one arena for every kernel result -----------------===//
//
// Liveness over the kernel list, then first-fit placement: a result lives
// from its kernel to the last kernel (or return) that reads it.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include <map>

namespace mlir::lmc {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;

namespace {

constexpr int64_t kAlignment = 256;

int64_t alignUp(int64_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

struct Budget {
  int64_t batch, sequence, tokens;
};

/// Bytes of `type` under the budget: a dynamic leading pair is [batch,
/// sequence]; any other dynamic dimension is `tokens`, an upper bound.
int64_t bytesUnder(RankedTensorType type, const Budget &budget) {
  ArrayRef<int64_t> shape = type.getShape();
  bool paddedPair = shape.size() >= 2 && ShapedType::isDynamic(shape[0]) &&
                    ShapedType::isDynamic(shape[1]);
  int64_t elements = 1;
  for (auto [d, dim] : llvm::enumerate(shape)) {
    if (!ShapedType::isDynamic(dim))
      elements *= dim;
    else if (paddedPair && d == 0)
      elements *= budget.batch;
    else if (paddedPair && d == 1)
      elements *= budget.sequence;
    else
      elements *= budget.tokens;
  }
  unsigned bits = type.getElementType().getIntOrFloatBitWidth();
  return elements * std::max<int64_t>(1, bits / 8);
}

/// How many ranks' rows a kernel's result may hold: lmc.all_gather_rows
/// joins every rank's, each within the budget (the runtime reserves the
/// same).
int64_t gatheredRanks(KernelOp kernel) {
  if (kernel.getKind() != KernelKind::collective)
    return 1;
  auto gather = llvm::dyn_cast<AllGatherRowsOp>(kernel.getBody().front().front());
  return gather ? gather.getRanks() : 1;
}

/// First-fit allocator over one arena.
class Arena {
public:
  int64_t allocate(int64_t bytes) {
    int64_t offset = 0;
    for (auto [start, size] : used) {
      if (start - offset >= bytes)
        break;
      offset = std::max(offset, start + size);
    }
    used[offset] = bytes;
    peak = std::max(peak, offset + bytes);
    return offset;
  }
  void release(int64_t offset) { used.erase(offset); }
  int64_t peakBytes() const { return peak; }

private:
  std::map<int64_t, int64_t> used; // offset -> size
  int64_t peak = 0;
};

/// A fused kernel of elementwise ops with one result may write it over an
/// input of the result's shape that it reads for the last time: every
/// element is read before it is written. (With two results, writing the
/// first could clobber an input the second still reads; a broadcast input's
/// element is read after others are written.)
bool isElementwise(KernelOp kernel) {
  if (kernel.getKind() != KernelKind::fused || kernel->getNumResults() != 1)
    return false;
  return llvm::all_of(kernel.getBody().front(), [](Operation &op) {
    return op.hasTrait<LmcTrait::Elementwise>() || isa<YieldOp>(op);
  });
}

/// The kernel input result #`index` is a reshape (a chain of reshapes) of,
/// or null. A reshape keeps the row-major bytes, so it may live in its
/// input's space: the kernel then moves nothing (the CUDA backend skips it).
Value reshapedInput(KernelOp kernel, unsigned index) {
  if (kernel.getKind() != KernelKind::fused)
    return nullptr;
  auto yield = llvm::cast<YieldOp>(kernel.getBody().front().getTerminator());
  Value value = yield.getOperand(index);
  while (auto reshape = value.getDefiningOp<ReshapeOp>())
    value = reshape->getOperand(0);
  auto argument = llvm::dyn_cast<BlockArgument>(value);
  if (!argument || value == yield.getOperand(index))
    return nullptr;
  return kernel.getInputs()[argument.getArgNumber()];
}

struct PlanMemoryPass : mlir::lmc::impl::PlanMemoryPassBase<PlanMemoryPass> {
  using PlanMemoryPassBase::PlanMemoryPassBase;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    Budget budget{batch, sequence, tokens};
    SmallVector<KernelOp> kernels(function.getBody().front().getOps<KernelOp>());
    if (kernels.empty())
      return;
    // The position of every kernel, and of the return, in execution order.
    DenseMap<Operation *, int64_t> position;
    for (auto [i, kernel] : llvm::enumerate(kernels))
      position[kernel] = int64_t(i);
    int64_t end = int64_t(kernels.size());
    // Results to free after each step, and where each result lives.
    SmallVector<SmallVector<Value>> freeAfter(kernels.size() + 1);
    DenseMap<Value, int64_t> offsetOf, sizeOf, lastUseOf;
    Arena arena;
    Builder builder(function.getContext());
    int64_t inPlace = 0;
    for (auto [i, kernel] : llvm::enumerate(kernels)) {
      SmallVector<int64_t> offsets;
      bool elementwise = isElementwise(kernel);
      for (Value result : kernel.getResults()) {
        int64_t lastUse = int64_t(i);
        for (Operation *user : result.getUsers()) {
          auto found = position.find(user);
          if (found != position.end())
            lastUse = std::max(lastUse, found->second);
          else if (isa<func::ReturnOp>(user))
            lastUse = end;
        }
        int64_t bytes = alignUp(bytesUnder(llvm::cast<RankedTensorType>(result.getType()), budget) *
                                gatheredRanks(kernel));
        // Reuse the space of an input read for the last time here: any
        // input of an elementwise kernel, the input a reshape views.
        int64_t step = int64_t(i);
        auto canDonate = [&](Value input) {
          return input && offsetOf.count(input) && lastUseOf[input] == step &&
                 sizeOf[input] == bytes;
        };
        Value donor = reshapedInput(kernel, llvm::cast<OpResult>(result).getResultNumber());
        if (!canDonate(donor))
          donor = nullptr;
        // Equal bytes and equal (static or dynamic) shapes: element i of
        // the input is where element i of the result goes.
        auto alignedDonor = [&](Value input) {
          return canDonate(input) && llvm::cast<RankedTensorType>(input.getType()).getShape() ==
                                         llvm::cast<RankedTensorType>(result.getType()).getShape();
        };
        if (!donor && elementwise)
          if (auto found = llvm::find_if(kernel.getInputs(), alignedDonor);
              found != kernel.getInputs().end())
            donor = *found;
        int64_t offset;
        if (donor) {
          offset = offsetOf[donor];
          llvm::erase(freeAfter[i], donor); // its space lives on as `result`
          offsetOf.erase(donor);
          ++inPlace;
        } else {
          offset = arena.allocate(bytes);
        }
        offsets.push_back(offset);
        offsetOf[result] = offset;
        sizeOf[result] = bytes;
        lastUseOf[result] = lastUse;
        freeAfter[size_t(lastUse)].push_back(result);
      }
      kernel->setAttr("lmc.offsets", builder.getDenseI64ArrayAttr(offsets));
      // Inputs read for the last time here are free for later kernels.
      for (Value value : freeAfter[i])
        arena.release(offsetOf.lookup(value));
    }
    function->setAttr("lmc.arena_bytes", builder.getI64IntegerAttr(arena.peakBytes()));
    // The runtime checks each value against the slot planned for it.
    function->setAttr("lmc.budget", builder.getDenseI64ArrayAttr(
                                        {budget.batch, budget.sequence, budget.tokens}));
    function.emitRemark("memory plan: ")
        << kernels.size() << " kernels (" << inPlace
        << " writing in place), arena of " << arena.peakBytes()
        << " bytes for batch " << budget.batch << ", sequence "
        << budget.sequence << ", tokens " << budget.tokens;
  }
};

} // namespace
