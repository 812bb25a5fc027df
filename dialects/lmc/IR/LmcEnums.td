//===- LmcEnums.td - enumerated attributes of the lmc dialect -------------===//

#ifndef LMC_ENUMS_TD
#define LMC_ENUMS_TD

include "dialects/lmc/IR/LmcDialect.td"
include "mlir/IR/EnumAttr.td"

def Lmc_ComparePredicate : I32EnumAttr<"ComparePredicate",
    "comparison predicate of lmc.compare", [
      I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
      I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
      I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]> {
  let cppNamespace = "::mlir::lmc";
}

def Lmc_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "formula of lmc.gelu", [
      I32EnumAttrCase<"erf", 0>, I32EnumAttrCase<"tanh", 1>]> {
  let cppNamespace = "::mlir::lmc";
}

def Lmc_SegmentReduction : I32EnumAttr<"SegmentReduction",
    "reduction of lmc.segment_reduce", [
      I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
      I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"first", 3>]> {
  let cppNamespace = "::mlir::lmc";
}

def Lmc_Normalizer : I32EnumAttr<"Normalizer",
    "normalizer of lmc.fc.numeric", [
      I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"zscore", 1>,
      I32EnumAttrCase<"minmax", 2>, I32EnumAttrCase<"log1p", 3>]> {
  let cppNamespace = "::mlir::lmc";
}

def Lmc_Combiner : I32EnumAttr<"Combiner",
    "combiner of lmc.fc.embedding_bag", [
      I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
      I32EnumAttrCase<"sqrtn", 2>]> {
  let cppNamespace = "::mlir::lmc";
}

#endif // LMC_ENUMS_TD
