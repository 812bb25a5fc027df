//===- EvalTrainingOps.cpp - the evaluator's lmc.adamw_rows ---------------===//
//
// The lazy AdamW update of an embedding table's touched rows, in f64, on a
// step of one rank (the runtime's OpsOptimizer.cpp is the f32 twin). The
// collectives and lmc.rank need the ranks of a training run: the evaluator
// runs one process and refuses them with a message.
//
//===----------------------------------------------------------------------===//

#include "compiler/eval/EvalOps.h"
#include "dialects/lmc/IR/OpRuleSwitch.h"

#include "dialects/lmc/IR/LmcOps.h"


#include <cmath>
#include <map>

namespace mlir::lmc::eval {
namespace {

LogicalResult evalAdamwRows(AdamwRowsOp op, EvalFrame &frame) {
  if (op.getRanks() != 1)
    return op.emitError("the evaluator runs one rank; this update is one rank's of ")
           << op.getRanks();
  const EvalTensor &ids = frame.get(op.getIds()), &rows = frame.get(op.getRows());
  const EvalTensor &step = frame.get(op.getStep());
  EvalTensor table = frame.get(op.getTable()), m = frame.get(op.getM()), v = frame.get(op.getV());
  int64_t width = rows.shape.back(), tableRows = op.getTableRows();
  if (frame.get(op.getApply()).real(0) != 0) {
    std::map<int64_t, std::vector<double>> summed;
    for (int64_t k = 0; k < ids.numElements(); ++k) {
      int64_t id = ids.integers[size_t(k)];
      if (id < 0 || id >= tableRows)
        continue; // the forward read zeros for it
      std::vector<double> &row = summed[id];
      row.resize(size_t(width), 0.0);
      for (int64_t d = 0; d < width; ++d)
        row[size_t(d)] += rows.reals[size_t(k * width + d)];
    }
    const double b1 = op.getBeta1().convertToDouble(), b2 = op.getBeta2().convertToDouble();
    const double epsilon = op.getEpsilon().convertToDouble();
    const double rate = step.reals[0], decay = 1 - rate * op.getWeightDecay().convertToDouble();
    for (auto &[id, gradient] : summed)
      for (int64_t d = 0; d < width; ++d) {
        size_t at = size_t(id * width + d);
        double g = gradient[size_t(d)] * step.reals[3];
        m.reals[at] = b1 * m.reals[at] + (1 - b1) * g;
        v.reals[at] = b2 * v.reals[at] + (1 - b2) * g * g;
        table.reals[at] = table.reals[at] * decay - rate * step.reals[1] * m.reals[at] /
                                                        (std::sqrt(v.reals[at]) * step.reals[2] +
                                                         epsilon);
      }
  }
  return success(succeeded(frame.set(op, op.getNewTable(), std::move(table))) &&
                 succeeded(frame.set(op, op.getNewM(), std::move(m))) &&
                 succeeded(frame.set(op, op.getNewV(), std::move(v))));
}

} // namespace

std::optional<LogicalResult> evaluateTrainingOp(Operation *op, EvalFrame &frame) {
  return OpRuleSwitch(op, frame.probing)
      .Case([&](AdamwRowsOp update) { return evalAdamwRows(update, frame); })
      .Case<AllReduceOp, ReduceScatterOp, AllGatherOp, AllGatherRowsOp, ShardSliceOp, RankOp>(
          [&](Operation *collective) -> std::optional<LogicalResult> {
            return collective->emitError("the evaluator runs one process; '")
                   << collective->getName()
                   << "' needs the ranks of a training run (lmc train under mpirun)";
          })
      .Default();
}

} // namespace mlir::lmc::eval
