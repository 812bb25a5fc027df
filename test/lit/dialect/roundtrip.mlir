// Tests that every lmc op parses, prints and parses again unchanged, through
// the custom and the generic assembly forms.
// RUN: lmc-opt %s | lmc-opt | FileCheck %s
// RUN: lmc-opt %s --mlir-print-op-generic | lmc-opt | FileCheck %s

// CHECK: lmc.parameter @encoder.wq : tensor<64x64xf32>
lmc.parameter @encoder.wq : tensor<64x64xf32>
// CHECK: lmc.parameter @emb.country : tensor<5x8xf32> initializer {kind = "truncated_normal", mean = 0.000000e+00 : f64, stddev = 0.35355339059327373 : f64}
lmc.parameter @emb.country : tensor<5x8xf32> initializer {kind = "truncated_normal", mean = 0.0 : f64, stddev = 0.35355339059327373 : f64}
// CHECK: lmc.parameter @head.kernel : tensor<8x1xf32> initializer {kind = "glorot_uniform"}
lmc.parameter @head.kernel : tensor<8x1xf32> initializer {kind = "glorot_uniform"}

// CHECK-LABEL: func.func @parameters_and_constants
func.func @parameters_and_constants() -> (tensor<64x64xf32>, tensor<f32>, tensor<2x3xf16>) {
  // CHECK: lmc.param_load @encoder.wq : tensor<64x64xf32>
  %w = lmc.param_load @encoder.wq : tensor<64x64xf32>
  // CHECK: lmc.constant dense<1.000000e+00> : tensor<f32>
  %one = lmc.constant dense<1.0> : tensor<f32>
  // CHECK: lmc.constant dense<0.000000e+00> : tensor<2x3xf16>
  %zeros = lmc.constant dense<0.0> : tensor<2x3xf16>
  return %w, %one, %zeros : tensor<64x64xf32>, tensor<f32>, tensor<2x3xf16>
}

// CHECK-LABEL: func.func @linear_algebra
func.func @linear_algebra(%x: tensor<?x8x64xf32>, %w: tensor<32x64xf32>, %k: tensor<?x16x64xf32>)
    -> (tensor<?x8x32xf32>, tensor<?x8x16xf32>, tensor<?x64x64xf32>) {
  // CHECK: lmc.matmul %{{.*}}, %{{.*}} transpose_rhs : (tensor<?x8x64xf32>, tensor<32x64xf32>) -> tensor<?x8x32xf32>
  %y = lmc.matmul %x, %w transpose_rhs : (tensor<?x8x64xf32>, tensor<32x64xf32>) -> tensor<?x8x32xf32>
  // CHECK: lmc.matmul %{{.*}}, %{{.*}} transpose_rhs : (tensor<?x8x64xf32>, tensor<?x16x64xf32>) -> tensor<?x8x16xf32>
  %s = lmc.matmul %x, %k transpose_rhs : (tensor<?x8x64xf32>, tensor<?x16x64xf32>) -> tensor<?x8x16xf32>
  // CHECK: lmc.matmul %{{.*}}, %{{.*}} transpose_lhs : (tensor<?x8x64xf32>, tensor<?x8x64xf32>) -> tensor<?x64x64xf32>
  %g = lmc.matmul %x, %x transpose_lhs : (tensor<?x8x64xf32>, tensor<?x8x64xf32>) -> tensor<?x64x64xf32>
  return %y, %s, %g : tensor<?x8x32xf32>, tensor<?x8x16xf32>, tensor<?x64x64xf32>
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<?x4xf32>, %b: tensor<4xf32>, %c: tensor<f32>, %i: tensor<?x4xi64>) {
  // CHECK: lmc.add %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %0 = lmc.add %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  // CHECK: lmc.sub
  %1 = lmc.sub %a, %c : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  // CHECK: lmc.mul
  %2 = lmc.mul %a, %a : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  // CHECK: lmc.div
  %3 = lmc.div %c, %a : (tensor<f32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  // CHECK: lmc.max
  %4 = lmc.max %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  // CHECK: lmc.min
  %5 = lmc.min %i, %i : (tensor<?x4xi64>, tensor<?x4xi64>) -> tensor<?x4xi64>
  // CHECK: lmc.exp %{{.*}} : tensor<?x4xf32>
  %6 = lmc.exp %a : tensor<?x4xf32>
  // CHECK: lmc.tanh
  %7 = lmc.tanh %a : tensor<?x4xf32>
  // CHECK: lmc.rsqrt
  %8 = lmc.rsqrt %a : tensor<?x4xf32>
  // CHECK: lmc.neg %{{.*}} : tensor<?x4xi64>
  %9 = lmc.neg %i : tensor<?x4xi64>
  // CHECK: lmc.erf
  %10 = lmc.erf %a : tensor<?x4xf32>
  // CHECK: lmc.log %{{.*}} : tensor<?x4xf32>
  %13 = lmc.log %a : tensor<?x4xf32>
  // CHECK: lmc.sqrt %{{.*}} : tensor<?x4xf32>
  %15 = lmc.sqrt %a : tensor<?x4xf32>
  // CHECK: lmc.silu %{{.*}} : tensor<?x4xf32>
  %16 = lmc.silu %a : tensor<?x4xf32>
  // CHECK: lmc.broadcast_like %{{.*}}, %{{.*}} : (tensor<f32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %14 = lmc.broadcast_like %c, %a : (tensor<f32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  // CHECK: lmc.compare ge, %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xi1>
  %11 = lmc.compare ge, %a, %c : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xi1>
  // CHECK: lmc.select %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x4xi1>, tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %12 = lmc.select %11, %a, %c : (tensor<?x4xi1>, tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  return
}

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<?x8x16xf32>) {
  // CHECK: lmc.reduce_sum %{{.*}} axis 2 : tensor<?x8x16xf32> -> tensor<?x8xf32>
  %0 = lmc.reduce_sum %x axis 2 : tensor<?x8x16xf32> -> tensor<?x8xf32>
  // CHECK: lmc.reduce_max %{{.*}} axis 2 keep_dims : tensor<?x8x16xf32> -> tensor<?x8x1xf32>
  %1 = lmc.reduce_max %x axis 2 keep_dims : tensor<?x8x16xf32> -> tensor<?x8x1xf32>
  // CHECK: lmc.softmax %{{.*}} axis 2 : tensor<?x8x16xf32>
  %2 = lmc.softmax %x axis 2 : tensor<?x8x16xf32>
  return
}

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<?x8x4x16xf32>, %y: tensor<?x768xf16>, %z: tensor<?x256xf16>) {
  // CHECK: lmc.transpose %{{.*}} [0, 2, 1, 3] : tensor<?x8x4x16xf32> -> tensor<?x4x8x16xf32>
  %0 = lmc.transpose %x [0, 2, 1, 3] : tensor<?x8x4x16xf32> -> tensor<?x4x8x16xf32>
  // CHECK: lmc.reshape %{{.*}} : tensor<?x8x4x16xf32> -> tensor<?x8x64xf32>
  %1 = lmc.reshape %x : tensor<?x8x4x16xf32> -> tensor<?x8x64xf32>
  // CHECK: lmc.concat %{{.*}}, %{{.*}} axis 1 : (tensor<?x768xf16>, tensor<?x256xf16>) -> tensor<?x1024xf16>
  %2 = lmc.concat %y, %z axis 1 : (tensor<?x768xf16>, tensor<?x256xf16>) -> tensor<?x1024xf16>
  // CHECK: lmc.slice %{{.*}} axis 1 start 256 limit 512 : tensor<?x768xf16> -> tensor<?x256xf16>
  %3 = lmc.slice %y axis 1 start 256 limit 512 : tensor<?x768xf16> -> tensor<?x256xf16>
  // CHECK: lmc.cast %{{.*}} : tensor<?x768xf16> -> tensor<?x768xf32>
  %4 = lmc.cast %y : tensor<?x768xf16> -> tensor<?x768xf32>
  return
}

// CHECK-LABEL: func.func @composites
func.func @composites(%x: tensor<?x64xbf16>, %g: tensor<64xbf16>, %table: tensor<100x64xbf16>, %ids: tensor<?x?xi32>) {
  // CHECK: lmc.layer_norm %{{.*}}, %{{.*}}, %{{.*}} epsilon 9.99999974E-6 : (tensor<?x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %0 = lmc.layer_norm %x, %g, %g epsilon 1.0e-05 : (tensor<?x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  // CHECK: lmc.rms_norm %{{.*}}, %{{.*}} epsilon 9.99999997E-7 : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %1 = lmc.rms_norm %x, %g epsilon 1.0e-06 : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  // CHECK: lmc.gelu erf %{{.*}} : tensor<?x64xbf16>
  %2 = lmc.gelu erf %x : tensor<?x64xbf16>
  // CHECK: lmc.gelu tanh %{{.*}} : tensor<?x64xbf16>
  %3 = lmc.gelu tanh %x : tensor<?x64xbf16>
  // CHECK: lmc.embedding %{{.*}}[%{{.*}}] : (tensor<100x64xbf16>, tensor<?x?xi32>) -> tensor<?x?x64xbf16>
  %4 = lmc.embedding %table[%ids] : (tensor<100x64xbf16>, tensor<?x?xi32>) -> tensor<?x?x64xbf16>
  return
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<?x?x8x64xf16>, %kv: tensor<?x?x2x64xf16>, %len: tensor<?xi32>,
                     %pq: tensor<?x8x64xf16>, %pkv: tensor<?x8x64xf16>, %cu: tensor<?xi32>) {
  // CHECK: lmc.attention %{{.*}}, %{{.*}}, %{{.*}} lengths(%{{.*}}) causal scale 1.250000e-01 : (tensor<?x?x8x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16>, tensor<?xi32>) -> tensor<?x?x8x64xf16>
  %0 = lmc.attention %q, %kv, %kv lengths(%len) causal scale 0.125 : (tensor<?x?x8x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16>, tensor<?xi32>) -> tensor<?x?x8x64xf16>
  // CHECK: lmc.attention %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x8x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16>) -> tensor<?x?x8x64xf16>
  %1 = lmc.attention %q, %kv, %kv : (tensor<?x?x8x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16>) -> tensor<?x?x8x64xf16>
  // CHECK: lmc.attention %{{.*}}, %{{.*}}, %{{.*}} cu_seqlens(%{{.*}}) : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?xi32>) -> tensor<?x8x64xf16>
  %2 = lmc.attention %pq, %pkv, %pkv cu_seqlens(%cu) : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?xi32>) -> tensor<?x8x64xf16>
  // CHECK: %[[O:.*]], %[[LSE:.*]] = lmc.attention %{{.*}}, %{{.*}}, %{{.*}} cu_seqlens(%{{.*}}) causal : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?xi32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>)
  %3, %lse = lmc.attention %pq, %pkv, %pkv cu_seqlens(%cu) causal : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?xi32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>)
  // CHECK: lmc.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %[[O]], %[[LSE]], %{{.*}} cu_seqlens(%{{.*}}) causal : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8xf32>, tensor<?x8x64xf16>, tensor<?xi32>) -> (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>)
  %4:3 = lmc.attention_grad %pq, %pkv, %pkv, %3, %lse, %3 cu_seqlens(%cu) causal : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8xf32>, tensor<?x8x64xf16>, tensor<?xi32>) -> (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>)
  return
}

// CHECK-LABEL: func.func @training
func.func @training(%g: tensor<3x5xf32>, %shard: tensor<8xf32>, %ids: tensor<?xi64>,
                    %rows: tensor<?x4xf32>, %step: tensor<4xf32>, %apply: tensor<i1>) {
  // CHECK: lmc.all_reduce %{{.*}} ranks 2 : (tensor<3x5xf32>) -> tensor<3x5xf32>
  %0 = lmc.all_reduce %g ranks 2 : (tensor<3x5xf32>) -> tensor<3x5xf32>
  // CHECK: lmc.reduce_scatter %{{.*}} ranks 2 : (tensor<3x5xf32>) -> tensor<8xf32>
  %1 = lmc.reduce_scatter %g ranks 2 : (tensor<3x5xf32>) -> tensor<8xf32>
  // CHECK: lmc.all_gather %{{.*}} ranks 2 : (tensor<8xf32>) -> tensor<3x5xf32>
  %2 = lmc.all_gather %shard ranks 2 : (tensor<8xf32>) -> tensor<3x5xf32>
  // CHECK: lmc.shard_slice %{{.*}} ranks 2 : (tensor<3x5xf32>) -> tensor<8xf32>
  %3 = lmc.shard_slice %g ranks 2 : (tensor<3x5xf32>) -> tensor<8xf32>
  // CHECK: lmc.all_gather_rows %{{.*}} ranks 2 : (tensor<?xi64>) -> tensor<?xi64>
  %4 = lmc.all_gather_rows %ids ranks 2 : (tensor<?xi64>) -> tensor<?xi64>
  // CHECK: %[[RANK:.*]] = lmc.rank ranks 2 : tensor<i64>
  %5 = lmc.rank ranks 2 : tensor<i64>
  // CHECK: lmc.adamw_rows %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} rank(%[[RANK]]) ranks 2 table_rows 4 beta1
  %6:3 = lmc.adamw_rows %shard, %shard, %shard, %ids, %rows, %step, %apply rank(%5) ranks 2 table_rows 4 beta1 0.9 beta2 0.999 epsilon 1.0e-08 weight_decay 0.01 : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<?xi64>, tensor<?x4xf32>, tensor<4xf32>, tensor<i1>, tensor<i64>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// CHECK-LABEL: func.func @sequences
func.func @sequences(%x: tensor<?x?x64xf32>, %len: tensor<?xi64>) {
  // CHECK: lmc.unpad %{{.*}}, %{{.*}} : (tensor<?x?x64xf32>, tensor<?xi64>) -> (tensor<?x64xf32>, tensor<?xi32>)
  %packed, %cu = lmc.unpad %x, %len : (tensor<?x?x64xf32>, tensor<?xi64>) -> (tensor<?x64xf32>, tensor<?xi32>)
  // CHECK: lmc.pad %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<?xi32>) -> (tensor<?x128x64xf32>, tensor<?xi32>)
  %padded, %lengths = lmc.pad %packed, %cu : (tensor<?x64xf32>, tensor<?xi32>) -> (tensor<?x128x64xf32>, tensor<?xi32>)
  // CHECK: lmc.segment_reduce first %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %0 = lmc.segment_reduce first %packed, %cu : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  // CHECK: lmc.segment_reduce mean
  %1 = lmc.segment_reduce mean %packed, %cu : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  // CHECK: lmc.positions %{{.*}} : tensor<?xi32> -> tensor<?xi64>
  %2 = lmc.positions %cu : tensor<?xi32> -> tensor<?xi64>
  return
}

// CHECK-LABEL: func.func @feature_columns
func.func @feature_columns(%age: tensor<?x1xf32>, %fp: tensor<?x1xi64>, %tags: tensor<?x4xi64>,
                           %id: tensor<?xi32>, %table: tensor<50x8xf32>, %w: tensor<?x4xf32>) {
  // CHECK: lmc.fc.numeric %{{.*}} zscore mean 3.500000e+01 std 1.200000e+01 default 0.000000e+00 : tensor<?x1xf32> -> tensor<?x1xf32>
  %0 = lmc.fc.numeric %age zscore mean 35.0 std 12.0 default 0.0 : tensor<?x1xf32> -> tensor<?x1xf32>
  // CHECK: lmc.fc.numeric %{{.*}} minmax min 0.000000e+00 max 1.000000e+02 : tensor<?x1xf32> -> tensor<?x1xf32>
  %1 = lmc.fc.numeric %age minmax min 0.0 max 100.0 : tensor<?x1xf32> -> tensor<?x1xf32>
  // CHECK: lmc.fc.numeric %{{.*}} log1p : tensor<?x1xf32> -> tensor<?x1xf16>
  %2 = lmc.fc.numeric %age log1p : tensor<?x1xf32> -> tensor<?x1xf16>
  // CHECK: lmc.fc.bucketize %{{.*}} boundaries [1.800000e+01, 2.500000e+01] : tensor<?x1xf32> -> tensor<?x1xi64>
  %3 = lmc.fc.bucketize %age boundaries [18.0, 25.0] : tensor<?x1xf32> -> tensor<?x1xi64>
  // CHECK: lmc.fc.hash_bucket %{{.*}} buckets 1000 : tensor<?x4xi64> -> tensor<?x4xi64>
  %4 = lmc.fc.hash_bucket %tags buckets 1000 : tensor<?x4xi64> -> tensor<?x4xi64>
  // CHECK: lmc.fc.vocab_lookup %{{.*}} vocabulary dense<[11, -3135242802568536781, -9223372036854775808]> : tensor<3xi64> oov_buckets 2 : tensor<?x1xi64> -> tensor<?x1xi64>
  %5 = lmc.fc.vocab_lookup %fp vocabulary dense<[11, -3135242802568536781, -9223372036854775808]> : tensor<3xi64> oov_buckets 2 : tensor<?x1xi64> -> tensor<?x1xi64>
  // CHECK: lmc.fc.vocab_lookup %{{.*}} vocabulary dense<11> : tensor<1xi64> default 0 : tensor<?x1xi64> -> tensor<?x1xi32>
  %6 = lmc.fc.vocab_lookup %fp vocabulary dense<[11]> : tensor<1xi64> default 0 : tensor<?x1xi64> -> tensor<?x1xi32>
  // CHECK: lmc.fc.identity %{{.*}} buckets 10 default 0 : tensor<?xi32> -> tensor<?xi32>
  %7 = lmc.fc.identity %id buckets 10 default 0 : tensor<?xi32> -> tensor<?xi32>
  // CHECK: lmc.fc.cross %{{.*}}, %{{.*}} buckets 100 hash_key 7 : (tensor<?x1xi64>, tensor<?x4xi64>) -> tensor<?x4xi64>
  %8 = lmc.fc.cross %fp, %tags buckets 100 hash_key 7 : (tensor<?x1xi64>, tensor<?x4xi64>) -> tensor<?x4xi64>
  // CHECK: lmc.fc.embedding_bag sqrtn %{{.*}}[%{{.*}}] weights(%{{.*}}) max_norm 1.000000e+00 : (tensor<50x8xf32>, tensor<?x4xi64>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %9 = lmc.fc.embedding_bag sqrtn %table[%4] weights(%w) max_norm 1.0 : (tensor<50x8xf32>, tensor<?x4xi64>, tensor<?x4xf32>) -> tensor<?x8xf32>
  // CHECK: lmc.fc.indicator %{{.*}} buckets 3 : (tensor<?x1xi64>) -> tensor<?x3xf32>
  %10 = lmc.fc.indicator %3 buckets 3 : (tensor<?x1xi64>) -> tensor<?x3xf32>
  // CHECK: lmc.fc.indicator %{{.*}} weights(%{{.*}}) buckets 1000 : (tensor<?x4xi64>, tensor<?x4xf32>) -> tensor<?x1000xf32>
  %11 = lmc.fc.indicator %4 weights(%w) buckets 1000 : (tensor<?x4xi64>, tensor<?x4xf32>) -> tensor<?x1000xf32>
  return
}

// CHECK-LABEL: func.func @kernels
func.func @kernels(%x: tensor<?x64xf16>, %w: tensor<64x64xf16>, %g: tensor<64xf16>, %q: tensor<?x4x16xf16>, %cu: tensor<?xi32>) -> (tensor<?x64xf16>, tensor<?x4x16xf16>) {
  // CHECK: lmc.kernel gemm "k0"(%{{.*}}, %{{.*}}) : (tensor<?x64xf16>, tensor<64x64xf16>) -> tensor<?x64xf16> {
  %y = lmc.kernel gemm "k0" (%x, %w) : (tensor<?x64xf16>, tensor<64x64xf16>) -> tensor<?x64xf16> {
  ^bb0(%a: tensor<?x64xf16>, %b: tensor<64x64xf16>):
    %m = lmc.matmul %a, %b : (tensor<?x64xf16>, tensor<64x64xf16>) -> tensor<?x64xf16>
    // CHECK: lmc.yield %{{.*}} : tensor<?x64xf16>
    lmc.yield %m : tensor<?x64xf16>
  }
  // CHECK: lmc.kernel fused "k1"
  %z = lmc.kernel fused "k1" (%y, %g) : (tensor<?x64xf16>, tensor<64xf16>) -> tensor<?x64xf16> {
  ^bb0(%a: tensor<?x64xf16>, %gamma: tensor<64xf16>):
    %n = lmc.rms_norm %a, %gamma epsilon 1.0e-06 : (tensor<?x64xf16>, tensor<64xf16>) -> tensor<?x64xf16>
    %o = lmc.gelu tanh %n : tensor<?x64xf16>
    lmc.yield %o : tensor<?x64xf16>
  }
  // CHECK: lmc.kernel attention "k2"(%{{.*}}, %{{.*}}) {block_k = 64 : i64, block_q = 128 : i64}
  %o = lmc.kernel attention "k2" (%q, %cu) {block_q = 128, block_k = 64} : (tensor<?x4x16xf16>, tensor<?xi32>) -> tensor<?x4x16xf16> {
  ^bb0(%a: tensor<?x4x16xf16>, %c: tensor<?xi32>):
    %r = lmc.attention %a, %a, %a cu_seqlens(%c) : (tensor<?x4x16xf16>, tensor<?x4x16xf16>, tensor<?x4x16xf16>, tensor<?xi32>) -> tensor<?x4x16xf16>
    lmc.yield %r : tensor<?x4x16xf16>
  }
  return %z, %o : tensor<?x64xf16>, tensor<?x4x16xf16>
}
