//===- LmcPrimitiveOps.td - parameters, constants and primitive math ------===//

#ifndef LMC_PRIMITIVE_OPS_TD
#define LMC_PRIMITIVE_OPS_TD

include "dialects/lmc/IR/LmcDialect.td"
include "dialects/lmc/IR/LmcEnums.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Parameters and constants
//===----------------------------------------------------------------------===//

def Lmc_ParameterOp : Lmc_Op<"parameter", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a named, typed model parameter";
  let description = [{
    Declares a weight of the model. The symbol name is the tensor's name in
    the weights file (safetensors); names other than letters, digits, `_`,
    `$` and `.` are quoted (`@"blocks/0/wq"`). An optional initializer says
    how training starts it when no weights file provides it:

    ```mlir
    lmc.parameter @encoder.attn.wq : tensor<256x256xf32>
    lmc.parameter @emb.country : tensor<5x8xf32>
        initializer {kind = "truncated_normal", stddev = 0.35355339059327373 : f64}
    ```

    Initializer kinds: `zeros`, `ones`, `truncated_normal` and `normal`
    (`stddev`, optional `mean`; truncated at two standard deviations, as
    TensorFlow does), `uniform` (`min`, `max`), `glorot_uniform` (Keras'
    default for dense kernels).

    Verifier rules:
    * the type is a statically shaped tensor (a weights file stores every
      dimension);
    * an initializer names a known `kind`;
    * an initializer holds exactly the fields its kind takes, as f64: a
      positive `stddev` for the normal kinds, `min < max` for `uniform`.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttrOf<Lmc_Tensor>:$type,
                       OptionalAttr<DictionaryAttr>:$initializer);
  let assemblyFormat = "$sym_name `:` $type (`initializer` $initializer^)? attr-dict";
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "::mlir::RankedTensorType":$type,
                   CArg<"::mlir::DictionaryAttr", "{}">:$initializer), [{
      build($_builder, $_state, $_builder.getStringAttr(name),
            ::mlir::TypeAttr::get(type), initializer);
    }]>
  ];
  let hasVerifier = 1;
}

def Lmc_ParamLoadOp : Lmc_Op<"param_load",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>, Lmc_LowPrecisionSafe]> {
  let summary = "reads a parameter inside a function";
  let description = [{
    ```mlir
    %wq = lmc.param_load @encoder.attn.wq : tensor<256x256xf32>
    ```

    Verifier rules:
    * the symbol names an `lmc.parameter` of the enclosing module;
    * the result type equals the parameter's type, or, for a parameter
      stored in shards over N ranks (`{lmc.shards = N}`, ZeRO stage 3, see
      `--lmc-shard-state`), is the rank's `tensor<ceil(n / N)>` shard.
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def Lmc_ConstantOp : Lmc_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "a scalar, splat or dense constant";
  let description = [{
    ```mlir
    %eps = lmc.constant dense<1.0e-05> : tensor<f32>
    %zeros = lmc.constant dense<0.0> : tensor<4x8xf16>
    ```

    Verifier rules:
    * the result type equals the type of `value` (enforced by the
      declaration).
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Lmc_MatmulOp : Lmc_Op<"matmul", [Pure, Lmc_LowPrecisionSafe]> {
  let summary = "batched matrix product with transpose flags";
  let description = [{
    `result[..., m, n] = sum_k lhs'[..., m, k] * rhs'[..., k, n]` where `lhs'`
    and `rhs'` are the operands with their two innermost dimensions swapped
    when `transpose_lhs` / `transpose_rhs` are set. A rank-2 `rhs` is shared
    by every batch (a weight).

    ```mlir
    %y = lmc.matmul %x, %w transpose_rhs
        : (tensor<?x128x256xf32>, tensor<512x256xf32>) -> tensor<?x128x512xf32>
    ```

    Verifier rules:
    * both operands have rank 2 or more;
    * `rhs` has rank 2 or the rank of `lhs`;
    * batch dimensions of equal-rank operands are compatible;
    * the contraction dimensions are compatible;
    * operands and result share one element type;
    * the result shape is compatible with `[batch..., m, n]`.
  }];
  let arguments = (ins Lmc_NumericTensor:$lhs, Lmc_NumericTensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Lmc_NumericTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_lhs` $transpose_lhs^)? (`transpose_rhs` $transpose_rhs^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Lmc_BinaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Lmc_Op<mnemonic, !listconcat([Pure, Lmc_Elementwise, Lmc_LowPrecisionSafe], traits)> {
  let summary = "elementwise " # formula # " with broadcasting";
  let description = [{
    Computes `result = }] # formula # [{` element by element after
    broadcasting the operands (see the dialect's broadcasting rule).

    Verifier rules:
    * operands and result share one element type;
    * the operand shapes broadcast;
    * the result shape is compatible with the broadcast shape.
  }];
  let arguments = (ins Lmc_NumericTensor:$lhs, Lmc_NumericTensor:$rhs);
  let results = (outs Lmc_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Lmc_AddOp : Lmc_BinaryOp<"add", "lhs + rhs", [Commutative]>;
def Lmc_SubOp : Lmc_BinaryOp<"sub", "lhs - rhs">;
def Lmc_MulOp : Lmc_BinaryOp<"mul", "lhs * rhs", [Commutative]>;
def Lmc_DivOp : Lmc_BinaryOp<"div", "lhs / rhs">;
def Lmc_MaxOp : Lmc_BinaryOp<"max", "max(lhs, rhs)", [Commutative]>;
def Lmc_MinOp : Lmc_BinaryOp<"min", "min(lhs, rhs)", [Commutative]>;

class Lmc_UnaryOp<string mnemonic, string formula, Type operandType,
                  list<Trait> traits = []>
    : Lmc_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType, Lmc_Elementwise], traits)> {
  let summary = "elementwise " # formula;
  let description = [{
    Computes `result = }] # formula # [{` element by element.

    Verifier rules:
    * the result type equals the operand type (enforced by the declaration).
  }];
  let arguments = (ins operandType:$input);
  let results = (outs operandType:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Lmc_ExpOp : Lmc_UnaryOp<"exp", "exp(x)", Lmc_FloatTensor>;
def Lmc_TanhOp : Lmc_UnaryOp<"tanh", "tanh(x)", Lmc_FloatTensor, [Lmc_LowPrecisionSafe]>;
def Lmc_RsqrtOp : Lmc_UnaryOp<"rsqrt", "1 / sqrt(x)", Lmc_FloatTensor>;
def Lmc_ErfOp : Lmc_UnaryOp<"erf", "erf(x)", Lmc_FloatTensor>;
def Lmc_LogOp : Lmc_UnaryOp<"log", "log(x)", Lmc_FloatTensor>;
def Lmc_SqrtOp : Lmc_UnaryOp<"sqrt", "sqrt(x)", Lmc_FloatTensor>;
def Lmc_SiluOp : Lmc_UnaryOp<"silu", "x * sigmoid(x)", Lmc_FloatTensor, [Lmc_LowPrecisionSafe]>;
def Lmc_NegOp : Lmc_UnaryOp<"neg", "-x", Lmc_NumericTensor, [Lmc_LowPrecisionSafe]> {
  let hasFolder = 1;
}

def Lmc_CompareOp : Lmc_Op<"compare", [Pure, Lmc_Elementwise]> {
  let summary = "elementwise comparison with broadcasting";
  let description = [{
    ```mlir
    %valid = lmc.compare lt, %pos, %len
        : (tensor<1x128xi64>, tensor<?x1xi64>) -> tensor<?x128xi1>
    ```

    Verifier rules:
    * both operands share one element type;
    * the result element type is `i1`;
    * the operand shapes broadcast and the result shape is compatible with
      the broadcast shape.
  }];
  let arguments = (ins Lmc_ComparePredicate:$predicate,
                       Lmc_NumericTensor:$lhs, Lmc_NumericTensor:$rhs);
  let results = (outs Lmc_BoolTensor:$result);
  let assemblyFormat = [{
    $predicate `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lmc_SelectOp : Lmc_Op<"select", [Pure, Lmc_Elementwise, Lmc_LowPrecisionSafe]> {
  let summary = "elementwise choice between two tensors with broadcasting";
  let description = [{
    `result = condition ? on_true : on_false`, element by element after
    broadcasting all three operands.

    Verifier rules:
    * `on_true`, `on_false` and the result share one element type;
    * the three operand shapes broadcast and the result shape is compatible
      with the broadcast shape.
  }];
  let arguments = (ins Lmc_BoolTensor:$condition, Lmc_Tensor:$on_true,
                       Lmc_Tensor:$on_false);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = [{
    $condition `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Lmc_ReduceOp<string mnemonic, string reduction>
    : Lmc_Op<mnemonic, [Pure, Lmc_RowLocal]> {
  let summary = reduction # " over one axis";
  let description = [{
    Reduces `axis` with }] # reduction # [{. The axis is removed from the
    result, or kept with size 1 when `keep_dims` is set (so the result
    broadcasts against the input).

    Verifier rules:
    * `axis` is in `[0, rank)`;
    * the result has the input's element type;
    * the result shape is the input shape with `axis` removed (or set to 1
      with `keep_dims`), up to compatible dimensions.
  }];
  let arguments = (ins Lmc_NumericTensor:$input, Lmc_I64Attr:$axis, UnitAttr:$keep_dims);
  let results = (outs Lmc_NumericTensor:$result);
  let assemblyFormat = [{
    $input `axis` $axis (`keep_dims` $keep_dims^)? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Lmc_ReduceSumOp : Lmc_ReduceOp<"reduce_sum", "a sum"> {
  // A sum of lmc.attention_grad's key gradient over the key positions is
  // zero (see the folder): the gradient of a bias added to the keys.
  let hasFolder = 1;
}
def Lmc_ReduceMaxOp : Lmc_ReduceOp<"reduce_max", "the maximum">;

def Lmc_SoftmaxOp : Lmc_Op<"softmax", [Pure, SameOperandsAndResultType, Lmc_RowLocal]> {
  let summary = "softmax over one axis";
  let description = [{
    `result = exp(x - max(x)) / sum(exp(x - max(x)))` along `axis`.

    Verifier rules:
    * `axis` is in `[0, rank)`;
    * the result type equals the input type (enforced by the declaration).
  }];
  let arguments = (ins Lmc_FloatTensor:$input, Lmc_I64Attr:$axis);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = "$input `axis` $axis attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Lmc_TransposeOp : Lmc_Op<"transpose", [Pure, Lmc_LowPrecisionSafe]> {
  let summary = "permutes dimensions";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]`.

    ```mlir
    %t = lmc.transpose %x [0, 2, 1, 3] : tensor<?x128x4x64xf32> -> tensor<?x4x128x64xf32>
    ```

    Verifier rules:
    * `permutation` is a permutation of `[0, rank)`;
    * the result has the input's element type and the permuted shape, up to
      compatible dimensions.

    An identity permutation folds away; two transposes in a row fold into one.
  }];
  let arguments = (ins Lmc_Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = "$input $permutation attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lmc_ReshapeOp : Lmc_Op<"reshape", [Pure, Lmc_LowPrecisionSafe]> {
  let summary = "reinterprets the elements in a new shape";
  let description = [{
    Keeps the elements in row-major order and changes the shape. The leading
    dimensions that input and result share (equal sizes, or dynamic in both)
    pass through unchanged; after them the result may have one dynamic
    dimension, inferred at run time from the element count. So heads split
    and merge over a dynamic batch and sequence:

    ```mlir
    %heads = lmc.reshape %x : tensor<?x?x256xf32> -> tensor<?x?x4x64xf32>
    ```

    Merging a dynamic batch with a dynamic sequence is not a reshape: pack
    the tokens with `lmc.unpad`.

    Verifier rules:
    * the result has the input's element type;
    * after the shared leading dimensions the result has at most one dynamic
      dimension;
    * after the shared leading dimensions, when input and result are static
      their element counts are equal, and when only the input is static the
      result's static dimensions divide its element count.

    A reshape to the input's own type folds away; a reshape of a reshape
    reads the original input; a reshape of a constant folds into a constant.
  }];
  let arguments = (ins Lmc_Tensor:$input);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lmc_BroadcastLikeOp : Lmc_Op<"broadcast_like", [Pure]> {
  let summary = "repeats a tensor to the shape of another";
  let description = [{
    `result` has the shape of `like` and holds `input` broadcast to it (see
    the dialect's broadcasting rule); only `like`'s shape is read. Gradients
    use it to spread a reduced value back over the tensor it came from,
    whose dimensions may only be known at run time.

    ```mlir
    %g = lmc.broadcast_like %dy, %x
        : (tensor<?x1xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    ```

    Verifier rules:
    * the result has the input's element type;
    * the input broadcasts to `like`'s shape, and the result shape is
      compatible with it.
  }];
  let arguments = (ins Lmc_Tensor:$input, Lmc_Tensor:$like);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = "$input `,` $like attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Lmc_ConcatOp : Lmc_Op<"concat", [Pure, Lmc_LowPrecisionSafe]> {
  let summary = "joins tensors along one axis";
  let description = [{
    Verifier rules:
    * there is at least one input;
    * inputs and result share one element type and one rank;
    * `axis` is in `[0, rank)`;
    * the inputs' dimensions other than `axis` are compatible with each
      other and with the result's;
    * the result's `axis` dimension is the sum of the inputs' (dynamic when
      one of them is).
  }];
  let arguments = (ins Variadic<Lmc_Tensor>:$inputs, Lmc_I64Attr:$axis);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = [{
    $inputs `axis` $axis attr-dict `:` functional-type($inputs, results)
  }];
  let hasVerifier = 1;
}

def Lmc_SliceOp : Lmc_Op<"slice", [Pure, Lmc_LowPrecisionSafe]> {
  let summary = "takes a contiguous range of one axis";
  let description = [{
    Keeps indices `start <= i < limit` of `axis` and every index of the
    other axes.

    ```mlir
    %q = lmc.slice %qkv axis 1 start 0 limit 256 : tensor<?x768xf32> -> tensor<?x256xf32>
    ```

    Verifier rules:
    * `axis` is in `[0, rank)`;
    * `0 <= start < limit`, and `limit` is at most the static size of
      `axis`;
    * the result has the input's element type, `limit - start` at `axis`,
      and the input's other dimensions up to compatible dimensions.

    A slice that keeps the whole of a static axis folds away.
  }];
  let arguments = (ins Lmc_Tensor:$input, Lmc_I64Attr:$axis, Lmc_I64Attr:$start, Lmc_I64Attr:$limit);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = [{
    $input `axis` $axis `start` $start `limit` $limit attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lmc_CastOp : Lmc_Op<"cast", [Pure, SameOperandsAndResultShape, Lmc_Elementwise]> {
  let summary = "converts the element type";
  let description = [{
    Floats round to nearest even; float to integer truncates toward zero;
    `i1` converts to 0 or 1.

    Verifier rules:
    * input and result have the same shape (enforced by the declaration).

    A cast to the input's own type folds away. `cast(cast(x))` folds into one
    cast when the middle type holds every value of the input type exactly
    (`f16 -> f32 -> T` is `f16 -> T`, and `f16 -> f32 -> f16` is `x`);
    a narrowing middle step such as `f32 -> f16 -> f32` rounds, so it stays.
  }];
  let arguments = (ins Lmc_Tensor:$input);
  let results = (outs Lmc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

#endif // LMC_PRIMITIVE_OPS_TD
