//===- LmcDialect.cpp - registration of the lmc dialect -------------------===//

#include "dialects/lmc/IR/LmcDialect.h"

#include "dialects/lmc/IR/LmcOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::lmc;

#include "dialects/lmc/IR/LmcDialect.cpp.inc"
#include "dialects/lmc/IR/LmcEnums.cpp.inc"

void LmcDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/lmc/IR/LmcOps.cpp.inc"
      >();
}

// Folders return attributes; canonicalization turns them back into ops here.
Operation *LmcDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = llvm::dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}
