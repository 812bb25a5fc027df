//===- OpRuleSwitch.h - per-op rules that can say whether they exist ------===//
//
// The evaluator and autodiff keep one rule per op in a switch over op
// classes, written like llvm::TypeSwitch. The op-table consistency test must
// learn, for every op the dialect registers, whether such a rule exists, and
// a rule cannot run on a bare op; so this switch has a probing mode in which
// a matching case is recorded as success() without running.
//
//   return OpRuleSwitch(op, probing)
//       .Case([&](AddOp add) { ...; return success(); })
//       .Case<ParamLoadOp, ConstantOp>([&](Operation *) { return success(); })
//       .Default();  // std::nullopt: no rule for this op here
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_OPRULESWITCH_H
#define LMC_DIALECT_OPRULESWITCH_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/STLExtras.h"

#include <optional>
#include <type_traits>

namespace mlir::lmc {

class OpRuleSwitch {
public:
  /// With `probing`, cases only report that they match.
  OpRuleSwitch(Operation *op, bool probing) : op(op), probing(probing) {}

  /// A case for one op class, deduced from the callable's parameter.
  template <typename Fn>
  OpRuleSwitch &Case(Fn &&fn) {
    using Parameter = typename llvm::function_traits<std::decay_t<Fn>>::template arg_t<0>;
    return Case<std::remove_cv_t<std::remove_reference_t<Parameter>>>(std::forward<Fn>(fn));
  }

  /// A case for the listed op classes.
  template <typename OpT, typename... More, typename Fn>
  OpRuleSwitch &Case(Fn &&fn) {
    if (!result && llvm::isa<OpT>(op))
      result = probing ? std::optional<LogicalResult>(success())
                       : std::optional<LogicalResult>(fn(llvm::cast<OpT>(op)));
    if constexpr (sizeof...(More) > 0)
      return Case<More...>(std::forward<Fn>(fn));
    return *this;
  }

  /// The matched case's result, or std::nullopt when no case matched.
  std::optional<LogicalResult> Default() const { return result; }

private:
  Operation *op;
  bool probing;
  std::optional<LogicalResult> result;
};

} // namespace mlir::lmc

#endif // LMC_DIALECT_OPRULESWITCH_H
