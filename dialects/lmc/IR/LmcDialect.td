//===- LmcDialect.td - the lmc dialect and its shared constraints ---------===//
//
// The dialect, the base class of every lmc op, and the constraints the
// op families share. Ops live in the Lmc*Ops.td files included by LmcOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_TD
#define LMC_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Lmc_Dialect : Dialect {
  let name = "lmc";
  let cppNamespace = "::mlir::lmc";
  let summary = "Graphs of feature-column transforms feeding transformers";
  let description = [{
    The `lmc` dialect describes a model and its input transforms as one graph
    over builtin ranked tensors. Batch and token dimensions are dynamic
    (`tensor<?x256xf16>`). Element types are `f32`, `f16`, `bf16`, `i64`,
    `i32` and `i1`.

    Conventions shared by every op:

    * **Broadcasting** (elementwise ops, `compare`, `select`): shapes are
      aligned on their trailing dimensions, as in NumPy. Two aligned
      dimensions are compatible when they are equal, when one of them is 1,
      or when one of them is dynamic (checked at run time). A missing leading
      dimension counts as 1. The result dimension is the non-1 one; the
      result type must be compatible with the broadcast shape (each dimension
      equal, or dynamic in one of the two).
    * **Padded batches** are `[B, S, ...]` tensors with per-sequence
      `lengths` of shape `[B]`; positions at or past a sequence's length are
      padding. **Packed batches** are `[T, ...]` tensors holding the real
      tokens of every sequence back to back, with `cu_seqlens` of shape
      `[N + 1]` (`i32`): sequence `i` holds tokens `cu_seqlens[i]` to
      `cu_seqlens[i+1] - 1`.
    * **Strings** never reach the graph: the host turns each string into its
      64-bit FarmHash `Fingerprint64`, so categorical feature columns take
      `i64` fingerprints. Categorical ids below zero mean "missing" and are
      ignored by the ops that consume ids (`fc.embedding_bag`,
      `fc.indicator`). A categorical feature is a variable-length list per
      example held at a fixed width: the frontend marks the slots an example
      leaves empty (its `counts` input says how many values it holds) with
      INT64_MIN, through `lmc.compare` and `lmc.select`.
    * **Parameters** are named symbols (`lmc.parameter`), read with
      `lmc.param_load`; their names are the tensor names of the weights file.
  }];
  let hasConstantMaterializer = 1;
  let usePropertiesForAttributes = 1;
}

class Lmc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lmc_Dialect, mnemonic, traits>;

// Properties the passes ask about instead of keeping lists of ops; their
// meaning is in LmcTraits.h.
class Lmc_Trait<string name> : NativeOpTrait<name> {
  let cppNamespace = "::mlir::lmc::LmcTrait";
}
def Lmc_Elementwise : Lmc_Trait<"Elementwise">;
def Lmc_RowLocal : Lmc_Trait<"RowLocal">;
def Lmc_LowPrecisionSafe : Lmc_Trait<"LowPrecisionSafe">;

// A 64-bit integer attribute read back as a signed int64_t (upstream's I64Attr
// returns uint64_t, which would hide negative axes and bucket counts from the
// verifiers).
def Lmc_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
                                               "64-bit signed integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

// Tensors of the element types lmc computes in, by role.
def Lmc_Tensor : RankedTensorOf<[F32, F16, BF16, I64, I32, I1]>;
def Lmc_NumericTensor : RankedTensorOf<[F32, F16, BF16, I64, I32]>;
def Lmc_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Lmc_IndexTensor : RankedTensorOf<[I32, I64]>;
def Lmc_FingerprintTensor : RankedTensorOf<[I64]>;
def Lmc_BoolTensor : RankedTensorOf<[I1]>;
def Lmc_LengthsTensor : 1DTensorOf<[I32, I64]>;
def Lmc_CuSeqlensTensor : 1DTensorOf<[I32]>;

#endif // LMC_DIALECT_TD
