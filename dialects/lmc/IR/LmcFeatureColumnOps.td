//===- LmcFeatureColumnOps.td - TensorFlow feature-column transforms ------===//
//
// Each op reproduces one TensorFlow feature column, so a model trained with
// TensorFlow keeps its bucket assignments. Categorical columns take i64
// FarmHash Fingerprint64 values of the raw strings (integers are fingerprinted
// as their decimal strings, as TensorFlow's hash and vocabulary columns do;
// crosses take integers as they are) and produce ids. The host side of this
// contract is runtime/include/lmc/fingerprint.h.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_FEATURE_COLUMN_OPS_TD
#define LMC_FEATURE_COLUMN_OPS_TD

include "dialects/lmc/IR/LmcDialect.td"
include "dialects/lmc/IR/LmcEnums.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Lmc_FcOp<string mnemonic, list<Trait> traits = []>
    : Lmc_Op<"fc." # mnemonic, !listconcat([Pure], traits)>;

def Lmc_FcNumericOp : Lmc_FcOp<"numeric", [Lmc_RowLocal]> {
  let summary = "numeric column: default value and normalizer";
  let description = [{
    TensorFlow's `numeric_column`. A NaN (a JSON `null`) becomes
    `default_value` when one is given (the host fills a missing feature
    with it before the graph runs). Then the normalizer:
    * `none`: `x`;
    * `zscore`: `(x - mean) / std`;
    * `minmax`: `(x - min) / (max - min)`;
    * `log1p`: `log(1 + x)`.

    ```mlir
    %age = lmc.fc.numeric %raw zscore mean 3.5e+01 std 1.2e+01 default 0.0e+00
        : tensor<?x1xf32> -> tensor<?x1xf32>
    ```

    Verifier rules:
    * the result has the input's shape and a float element type;
    * `zscore` needs `mean` and a positive `std`;
    * `minmax` needs `min` and `max` with `min < max`;
    * a normalizer takes no parameter that belongs to another one.
  }];
  let arguments = (ins Lmc_NumericTensor:$input, Lmc_Normalizer:$normalizer,
                       OptionalAttr<F64Attr>:$mean, OptionalAttr<F64Attr>:$std,
                       OptionalAttr<F64Attr>:$min, OptionalAttr<F64Attr>:$max,
                       OptionalAttr<F64Attr>:$default_value);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = [{
    $input $normalizer (`mean` $mean^)? (`std` $std^)? (`min` $min^)? (`max` $max^)?
    (`default` $default_value^)? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Lmc_FcBucketizeOp : Lmc_FcOp<"bucketize", [Lmc_RowLocal]> {
  let summary = "bucketized column: value to bucket id";
  let description = [{
    TensorFlow's `bucketized_column` (the `Bucketize` op): with boundaries
    `b`, bucket `i` holds `b[i-1] <= x < b[i]`; bucket 0 holds `x < b[0]` and
    bucket `len(b)` holds `x >= b[len(b)-1]`. Boundaries are f32, as in
    TensorFlow, and the comparison is made in f32, with subnormal values
    and boundaries read as zero (TensorFlow's CPU kernels flush them); NaN
    lands in the last bucket.

    ```mlir
    %age_bucket = lmc.fc.bucketize %age boundaries [1.8e+01, 2.5e+01, 3.5e+01]
        : tensor<?x1xf32> -> tensor<?x1xi64>
    ```

    Verifier rules:
    * `boundaries` is not empty and strictly increasing;
    * the result has the input's shape.
  }];
  let arguments = (ins Lmc_NumericTensor:$input, DenseF32ArrayAttr:$boundaries);
  let results = (outs Lmc_IndexTensor:$result);
  let assemblyFormat = [{
    $input `boundaries` $boundaries attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Lmc_FcHashBucketOp : Lmc_FcOp<"hash_bucket", [Lmc_RowLocal]> {
  let summary = "hashed categorical column: fingerprint modulo buckets";
  let description = [{
    TensorFlow's `categorical_column_with_hash_bucket`
    (`string_to_hash_bucket_fast`): `id = uint64(fingerprint) % num_buckets`.

    Verifier rules:
    * `num_buckets` is greater than 1 (TensorFlow's rule);
    * the result has the input's shape.
  }];
  let arguments = (ins Lmc_FingerprintTensor:$input, Lmc_I64Attr:$num_buckets);
  let results = (outs Lmc_IndexTensor:$result);
  let assemblyFormat = [{
    $input `buckets` $num_buckets attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Lmc_FcVocabLookupOp : Lmc_FcOp<"vocab_lookup", [Lmc_RowLocal]> {
  let summary = "vocabulary column: fingerprint to vocabulary index";
  let description = [{
    TensorFlow's `categorical_column_with_vocabulary_list` over the
    fingerprints of the vocabulary's strings. A fingerprint found at position
    `i` gets id `i`. Others get `V + uint64(fingerprint) % num_oov_buckets`
    with out-of-vocabulary buckets, else `default_value` (-1, missing, when
    absent).

    ```mlir
    %country = lmc.fc.vocab_lookup %fp vocabulary dense<[101, 202, 303]> : tensor<3xi64>
        oov_buckets 2 : tensor<?x1xi64> -> tensor<?x1xi64>
    ```

    The vocabulary is a dense `i64` tensor rather than an array attribute:
    MLIR 19's array parser rejects some negative 64-bit values, and half of
    all fingerprints are negative as `i64`.

    Verifier rules:
    * `vocabulary` has rank 1, is not empty and has no duplicate;
    * `num_oov_buckets` is not negative;
    * `default_value` and a positive `num_oov_buckets` are not both given;
    * the result has the input's shape.
  }];
  let arguments = (ins Lmc_FingerprintTensor:$input, I64ElementsAttr:$vocabulary,
                       OptionalAttr<Lmc_I64Attr>:$num_oov_buckets,
                       OptionalAttr<Lmc_I64Attr>:$default_value);
  let results = (outs Lmc_IndexTensor:$result);
  let assemblyFormat = [{
    $input `vocabulary` $vocabulary (`oov_buckets` $num_oov_buckets^)?
    (`default` $default_value^)? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Lmc_FcIdentityOp : Lmc_FcOp<"identity", [Lmc_RowLocal]> {
  let summary = "identity column: integer id checked against a range";
  let description = [{
    TensorFlow's `categorical_column_with_identity`: ids in
    `[0, num_buckets)` pass through; others become `default_value`, or -1
    (missing) when it is absent.

    Verifier rules:
    * `num_buckets` is at least 1;
    * `default_value`, when given, is in `[0, num_buckets)`;
    * the result has the input's shape.
  }];
  let arguments = (ins Lmc_IndexTensor:$input, Lmc_I64Attr:$num_buckets,
                       OptionalAttr<Lmc_I64Attr>:$default_value);
  let results = (outs Lmc_IndexTensor:$result);
  let assemblyFormat = [{
    $input `buckets` $num_buckets (`default` $default_value^)? attr-dict
    `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Lmc_FcCrossOp : Lmc_FcOp<"cross"> {
  let summary = "crossed column: hashed combinations of fingerprints";
  let description = [{
    TensorFlow's `crossed_column` (`sparse_cross_hashed`): for every
    combination of one value per input, `h = hash_key`, then
    `h = FingerprintCat64(h, value)` for each input in order, and
    `id = h % num_buckets`. Each input holds, per feature, what TensorFlow
    crosses: the Fingerprint64 of a string feature, the value itself of an
    integer feature (not the fingerprint of its decimal text, unlike
    `fc.hash_bucket`). `hash_key` defaults to TensorFlow's `0xDECAFCAFFE`.
    Inputs are `[B]` (one value each, result `[B]`) or `[B, k_i]` (result
    `[B, k_1 * k_2 * ...]`, combinations in row-major order: the last input
    varies fastest, as in TensorFlow's output).

    Verifier rules:
    * there are at least two inputs, all of rank 1 or all of rank 2;
    * the inputs' batch dimensions are compatible;
    * `num_buckets` is greater than 1 (TensorFlow's rule);
    * the result shape is compatible with `[B]` or `[B, k_1 * k_2 * ...]`.
  }];
  let arguments = (ins Variadic<Lmc_FingerprintTensor>:$inputs, Lmc_I64Attr:$num_buckets,
                       OptionalAttr<Lmc_I64Attr>:$hash_key);
  let results = (outs Lmc_IndexTensor:$result);
  let assemblyFormat = [{
    $inputs `buckets` $num_buckets (`hash_key` $hash_key^)? attr-dict
    `:` functional-type($inputs, results)
  }];
  let hasVerifier = 1;
}

def Lmc_FcEmbeddingBagOp : Lmc_FcOp<"embedding_bag", [Lmc_LowPrecisionSafe]> {
  let summary = "embedding column: combined rows of a table per example";
  let description = [{
    TensorFlow's `embedding_column` (`embedding_lookup_sparse`): for example
    `b`, the rows `table[ids[b, j]]` with weights `w[b, j]` (1 without
    `weights`) combine as
    * `sum`: `sum_j w * row`;
    * `mean`: `sum_j w * row / sum_j w`;
    * `sqrtn`: `sum_j w * row / sqrt(sum_j w^2)`.
    Ids outside `[0, V)` are missing and skipped, and so, under `mean` and
    `sqrtn`, are ids whose weight is not positive; an example with no id
    left gives zeros. Without weights, `n` ids left, the sum is multiplied
    by `1 / n` (or `1 / sqrt(n)`) when `n < 10` and divided by `n` (or
    `sqrt(n)`) from 10 on, as TensorFlow's kernels round. With `max_norm`,
    every row is first clipped as `clip_by_norm` does:
    `row * max_norm / max(|row|, max_norm)`.

    ```mlir
    %e = lmc.fc.embedding_bag mean %table[%ids]
        : (tensor<1000x16xf32>, tensor<?x4xi64>) -> tensor<?x16xf32>
    ```

    Verifier rules:
    * `table` has rank 2, `[V, D]`, and `ids` rank 2, `[B, k]`;
    * `weights`, when given, has the shape of `ids`;
    * `max_norm`, when given, is positive;
    * the result has the table's element type and shape `[B, D]`, up to
      compatible dimensions.
  }];
  let arguments = (ins Lmc_Combiner:$combiner, Lmc_FloatTensor:$table,
                       Lmc_IndexTensor:$ids, Optional<Lmc_FloatTensor>:$weights,
                       OptionalAttr<F32Attr>:$max_norm);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = [{
    $combiner $table `[` $ids `]` (`weights` `(` $weights^ `)`)? (`max_norm` $max_norm^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lmc_FcIndicatorOp : Lmc_FcOp<"indicator"> {
  let summary = "indicator column: one-hot or multi-hot ids";
  let description = [{
    TensorFlow's `indicator_column`: `result[b, i]` counts the ids of example
    `b` equal to `i` (or sums their `weights`). Ids outside
    `[0, num_buckets)` are missing.

    ```mlir
    %onehot = lmc.fc.indicator %ids buckets 8 : (tensor<?x1xi64>) -> tensor<?x8xf32>
    ```

    Verifier rules:
    * `ids` has rank 1 (`[B]`) or 2 (`[B, k]`);
    * `weights`, when given, has the shape of `ids`;
    * `num_buckets` is at least 1;
    * the result shape is compatible with `[B, num_buckets]`.
  }];
  let arguments = (ins Lmc_IndexTensor:$ids, Optional<Lmc_FloatTensor>:$weights,
                       Lmc_I64Attr:$num_buckets);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = [{
    $ids (`weights` `(` $weights^ `)`)? `buckets` $num_buckets attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // LMC_FEATURE_COLUMN_OPS_TD
