//===- Passes.td - every lmc pass ------------------------------------------===//

#ifndef LMC_PASSES_TD
#define LMC_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseAttentionPass : Pass<"lmc-fuse-attention", "::mlir::func::FuncOp"> {
  let summary = "Rewrites primitive attention chains into lmc.attention";
  let description = [{
    Finds `softmax(scale * Q K^T + mask) V` written op by op over
    `[B, H, S, D]` operands and replaces it with one `lmc.attention` over
    `[B, S, H, D]` (transposes are inserted or, when the chain starts from
    head-split transposes, taken back), so later passes see one op they can
    tile and pack.

    Recognized spellings: the scale multiplied after the product, multiplied
    into Q or K before it, or divided out; `lmc.softmax` or its decomposed
    form `exp(s - reduce_max(s)) / reduce_sum(exp(s - reduce_max(s)))`; an
    additive causal mask (a constant lower-triangular 0 / large-negative
    matrix) and a key-length mask (`select(compare(lt, iota, lengths), 0,
    -large)` added, or `select(valid, s, -large)`) becoming `causal` and
    `lengths`.

    ```mlir
    // Before
    %s = lmc.matmul %q, %k transpose_rhs : ... -> tensor<?x4x128x128xf32>
    %t = lmc.mul %s, %c : ...
    %p = lmc.softmax %t axis 3 : tensor<?x4x128x128xf32>
    %o = lmc.matmul %p, %v : ... -> tensor<?x4x128x64xf32>
    // After
    %a = lmc.attention %qt, %kt, %vt scale 1.250000e-01 : ... -> tensor<?x128x4x64xf32>
    %o = lmc.transpose %a [0, 2, 1, 3] : ...
    ```

    A chain it cannot prove equivalent stays as it is, with a remark saying
    why: softmax over another axis, an intermediate with another user, a
    bias it does not model, a scale that is not a constant.
  }];
  let dependentDialects = ["::mlir::lmc::LmcDialect"];
}

def RemovePaddingPass : Pass<"lmc-remove-padding", "::mlir::func::FuncOp"> {
  let summary = "Computes sequence ops on packed tokens instead of padded batches";
  let description = [{
    Starting from each `lmc.unpad %x, %lengths` (where a padded batch is
    turned into packed tokens, as pooling does), the pass rebuilds the
    computation of `%x` on packed `[T, ...]` tokens: token-wise ops
    (elementwise ops, casts, `gelu`, `layer_norm`, `rms_norm`, matmuls with a
    shared rank-2 weight, `embedding`, reshapes that keep `[B, S]`, softmax
    and reductions over feature axes, and the feature-column ops) are
    recreated on packed operands, and `lmc.attention` with `lengths(%lengths)`
    becomes packed attention over `cu_seqlens`. The unpad moves to where the
    padded values enter: the function's inputs. Padded ops left without
    users are erased, so no op but the boundary `unpad` touches a pad token.

    ```mlir
    // Before
    %h = lmc.matmul %x, %w : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    %a = lmc.attention %q, %k, %v lengths(%len) : ...
    %p, %cu = lmc.unpad %a, %len : ...
    // After
    %xp, %cu = lmc.unpad %x, %len : ...
    %h = lmc.matmul %xp, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
    %a = lmc.attention %qp, %kp, %vp cu_seqlens(%cu) : ...
    ```

    Only values whose every step is token-wise are packed; anything else (an
    op mixing sequence positions, an attention with other lengths) is
    unpadded where it is and computed padded as before.

    Pooling written on the padded batch becomes `segment_reduce`: a masked
    sum over S (`reduce_sum(select(compare(lt, iota, reshape(lengths)), x,
    0), axis 1)`) and a first-token `slice(x, axis 1, 0, 1)`, whose lengths
    come from the padded attention computing `x`.

    A padded output of the function (`[?, ?, ...]` per-token states) whose
    computation contains padded attention over one `lengths` is packed too,
    and `lmc.pad` restores the padded layout at the return: positions past
    each length become zero, and a dynamic `S` becomes the batch's longest
    sequence. With `keep-outputs-packed` the output stays packed `[T, ...]`
    and its `cu_seqlens` follows it as an extra result named
    `<output>.cu_seqlens`.
  }];
  let options = [
    Option<"keepOutputsPacked", "keep-outputs-packed", "bool",
           /*default=*/"false",
           "return packed outputs and their cu_seqlens instead of re-padding">
  ];
  let dependentDialects = ["::mlir::lmc::LmcDialect"];
}

def AttachLossPass : Pass<"lmc-attach-loss", "::mlir::ModuleOp"> {
  let summary = "Turns the model function into its training loss";
  let description = [{
    Reads the module's `lmc.training` dictionary (`loss`, `label`, and
    `output` when the model has several) and rewrites the function that
    returns that output into one returning the mean loss, marked
    `{lmc.loss, lmc.output = "loss"}`, for `--lmc-autodiff`. The label
    becomes a new last argument `{lmc.feature = <label>, lmc.ingest = "value"}`:

    * `binary_cross_entropy`: labels in [0, 1] of the logits' shape;
      `max(z, 0) - z y + log(1 + exp(-|z|))`, averaged over every element;
    * `softmax_cross_entropy`: class ids `[B, 1]` (i64);
      `logsumexp(z) - z[label]` per row, averaged over rows (an id outside
      the classes picks nothing, leaving `logsumexp(z)`);
    * `mean_squared_error`: targets of the outputs' shape; `mean((z - y)^2)`.

    The output must be `[B, units]` f32 (the pass runs before
    `--lmc-mixed-precision`). Built from primitive ops plus `lmc.log`, so
    the gradients come from the ordinary rules.

    ```mlir
    // Before
    module attributes {lmc.training = {loss = "binary_cross_entropy", label = "clicked"}} {
      func.func @ranker(...) -> (tensor<?x1xf32> {lmc.output = "ctr_logit"})
    // After
      func.func @ranker(..., %clicked: tensor<?x1xf32> {lmc.feature = "clicked", lmc.ingest = "value"})
          -> (tensor<f32> {lmc.loss, lmc.output = "loss"})
    ```
  }];
  let dependentDialects = ["::mlir::lmc::LmcDialect"];
}

def AutodiffPass : Pass<"lmc-autodiff", "::mlir::ModuleOp"> {
  let summary = "Adds the gradients of a loss with respect to every parameter";
  let description = [{
    Every function whose result carries `{lmc.loss}` (an f32 scalar)
    becomes a training step: it takes one more argument, the loss scale
    (`tensor<f32> {lmc.loss_scale}`, the seed of the backward pass, so every
    gradient comes out multiplied by it), and returns, after its own
    results, the gradient of `scale * loss` with respect to each f32/f16/bf16
    parameter it reads, in the module's parameter order:
    * a dense gradient of the parameter's type, `{lmc.gradient = "name"}`;
    * for a table read by `lmc.embedding` or `lmc.fc.embedding_bag`,
      row-sparse parts instead: pairs of results `indices` (the ids read) and
      `rows` (`indices.shape + [D]`), marked
      `{lmc.gradient = "name", lmc.sparse = "indices" | "rows"}`; ids outside
      the table contribute nothing, as they read zeros.

    Reverse mode, with one rule per op (passes/autodiff/): a rule builds its
    operands' gradients out of lmc ops, so the backward pass runs on every
    backend the forward does. Only values that depend on a parameter and
    that the loss depends on get gradients. Normalizations recompute their
    statistics; `lmc.attention` gains its log-sum-exp result and its
    gradient is one `lmc.attention_grad` (FlashAttention-2's backward, over
    padded or packed sequences).

    ```mlir
    // Before
    func.func @step(%x: tensor<4x8xf32>) -> (tensor<f32> {lmc.loss}) { ... }
    // After
    func.func @step(%x: tensor<4x8xf32>, %scale: tensor<f32> {lmc.loss_scale})
        -> (tensor<f32> {lmc.loss}, tensor<8x2xf32> {lmc.gradient = "w"}) { ... }
    ```

    An op on the path from a parameter to the loss without a rule, a
    feature-column op other than `embedding_bag` on that path, or a gathered
    table that is not a parameter is an error at the op's location.
  }];
  let dependentDialects = ["::mlir::lmc::LmcDialect"];
}

def MixedPrecisionPass : Pass<"lmc-mixed-precision", "::mlir::ModuleOp"> {
  let summary = "Stores parameters and activations in f16 or bf16";
  let description = [{
    Retypes the f32 values of every function: parameters, matmuls,
    attention, elementwise arithmetic, normalizations, embeddings and data
    movement are stored in the low precision (their kernels accumulate in
    f32: matmul and attention by contract, normalization statistics by the
    ops' definitions). Softmax, reductions, `exp`, `rsqrt`, `erf`,
    comparisons and the numeric feature columns stay in f32, and so does the
    output layer (the op producing a returned value, the matmul it adds a
    bias to, and their parameters), as Keras keeps the last layer in
    float32. Casts are
    inserted only where a value crosses between the two, at most one per
    value and direction; constants are converted rather than cast. Function
    signatures keep their types: inputs are cast down where used, outputs
    cast back.

    ```mlir
    // Before
    lmc.parameter @w : tensor<64x64xf32>
    %y = lmc.matmul %x, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
    // After (precision=f16)
    lmc.parameter @w : tensor<64x64xf16>
    %xh = lmc.cast %x : tensor<?x64xf32> -> tensor<?x64xf16>
    %y = lmc.matmul %xh, %w : (tensor<?x64xf16>, tensor<64x64xf16>) -> tensor<?x64xf16>
    ```
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"f16\"",
           "the storage type: f16 or bf16">
  ];
  let dependentDialects = ["::mlir::lmc::LmcDialect"];
}

def ShardStatePass : Pass<"lmc-shard-state", "::mlir::ModuleOp"> {
  let summary = "Adds the optimizer update and ZeRO's collectives to a training step";
  let description = [{
    Runs after `--lmc-autodiff` (and `--lmc-mixed-precision`) on a function
    with a `{lmc.loss}` result. Its gradient results become AdamW updates of
    f32 master weights inside the step, so the step's results are the loss,
    `{lmc.output = "finite"}` (1 when every gradient of every rank was
    finite, else 0: the step changed nothing) and the new value of every
    parameter and moment, `{lmc.update = "name"}`, which the runtime writes
    back. A new last argument `{lmc.optimizer_step}` (`tensor<4xf32>`: the
    learning rate, `1 / (1 - beta1^t)`, `1 / sqrt(1 - beta2^t)` and
    `1 / loss_scale`) comes from the trainer. The moments are new
    parameters `<name>.adam_m` and `<name>.adam_v`, zeros at the start,
    marked `{lmc.optimizer_state}`; each is the rank's shard (all of the
    parameter, flattened, with one rank).

    With `ranks` above 1 the step gets ZeRO's collectives (`stage`):
    * 0: gradients all-reduced; every rank updates everything;
    * 1: gradients all-reduced; each rank keeps the moments of, and
      updates, its shard of each parameter, then the shards are
      all-gathered;
    * 2: as 1, but the gradients are reduce-scattered;
    * 3: as 2, and each rank also stores only its shard of each parameter
      (`{lmc.shards = ranks}` on the parameter): every use of a parameter
      all-gathers it just before the op that reads it, so the whole
      parameter lives only from there to that op (the backward gathers
      again).
    A collective is placed right after the value it sends is computed, so
    the runtime may overlap it with the rest of the backward pass.
    Row-sparse table gradients travel as rows (`lmc.all_gather_rows`) and
    are applied with `lmc.adamw_rows`.
  }];
  let options = [
    Option<"stage", "stage", "int64_t", /*default=*/"0",
           "ZeRO stage: 0 (replicated), 1, 2 or 3">,
    Option<"ranks", "ranks", "int64_t", /*default=*/"1", "ranks training together">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "AdamW's beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "AdamW's beta2">,
    Option<"epsilon", "epsilon", "double", /*default=*/"1e-8", "AdamW's epsilon">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.01",
           "AdamW's decoupled weight decay">
  ];
  let dependentDialects = ["::mlir::lmc::LmcDialect"];
}

def FormKernelsPass : Pass<"lmc-form-kernels", "::mlir::func::FuncOp"> {
  let summary = "Groups the ops of a function into lmc.kernel ops";
  let description = [{
    Every matmul becomes a `gemm` kernel (a library call), every attention an
    `attention` kernel with its tile shape, and each run of other ops
    between them one `fused` kernel: elementwise and normalization chains,
    data movement, pooling and the feature-column transforms of one example
    are generated as one kernel each. Parameters and constants stay outside
    as kernel inputs.

    Tile shapes (`block_q` x `block_k`, rows per step of the online
    softmax) start from FlashAttention-2's forward choices: 128 x 128 for
    head dims up to 64, 128 x 64 up to 128, 64 x 32 above, and half the key
    block for f32, whose tiles take twice the shared memory.

    ```mlir
    // After
    %h = lmc.kernel gemm "k0" (%x, %w) : ... { ... lmc.matmul ... }
    %n = lmc.kernel fused "k1" (%h, %b, %g) : ... { ... lmc.add ... lmc.layer_norm ... }
    ```
  }];
  let dependentDialects = ["::mlir::lmc::LmcDialect"];
}

def PlanMemoryPass : Pass<"lmc-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Places every kernel result in one arena";
  let description = [{
    Sizes each kernel result for a token budget (a dynamic leading pair of
    dimensions is [batch, sequence], any other dynamic dimension is
    `tokens`, an upper bound), computes when each result is last read, and
    gives it a 256-byte-aligned offset in one arena, first fit, reusing
    space freed by dead results. Each kernel gets `lmc.offsets` (one per
    result); the function gets `lmc.arena_bytes`, and a remark reports the
    peak. A fused kernel of elementwise ops writes its result over an input
    of the result's shape and size that it reads for the last time. Function arguments,
    parameters and constants live outside the arena.
  }];
  let options = [
    Option<"batch", "batch", "int64_t", /*default=*/"::mlir::lmc::kDefaultMaxBatch",
           "examples per batch">,
    Option<"sequence", "sequence", "int64_t", /*default=*/"::mlir::lmc::kDefaultMaxSequence",
           "padded sequence length">,
    Option<"tokens", "tokens", "int64_t", /*default=*/"::mlir::lmc::kDefaultMaxTokens",
           "packed tokens per batch (the packing length)">
  ];
}

#endif // LMC_PASSES_TD
