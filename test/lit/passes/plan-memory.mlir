// RUN: lmc-opt %s --split-input-file --lmc-plan-memory=tokens=1000 --verify-diagnostics | FileCheck %s

// Tests that elementwise kernels write over an input they read last, that
// sizes use the token budget ([?, 64] f32 is 1000 * 64 * 4 = 256000 bytes),
// and that a result read by the return stays live.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: lmc.arena_bytes = 256000 : i64
// CHECK: lmc.kernel fused "k0"{{.*}}lmc.offsets = array<i64: 0>
// CHECK: lmc.kernel fused "k1"{{.*}}lmc.offsets = array<i64: 0>
// CHECK: lmc.kernel fused "k2"{{.*}}lmc.offsets = array<i64: 0>
// expected-remark @+1 {{memory plan: 3 kernels (2 writing in place), arena of 256000 bytes for batch 64, sequence 512, tokens 1000}}
func.func @chain(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %a = lmc.kernel fused "k0" (%x) : (tensor<?x64xf32>) -> tensor<?x64xf32> {
  ^bb0(%i: tensor<?x64xf32>):
    %r = lmc.exp %i : tensor<?x64xf32>
    lmc.yield %r : tensor<?x64xf32>
  }
  %b = lmc.kernel fused "k1" (%a) : (tensor<?x64xf32>) -> tensor<?x64xf32> {
  ^bb0(%i: tensor<?x64xf32>):
    %r = lmc.tanh %i : tensor<?x64xf32>
    lmc.yield %r : tensor<?x64xf32>
  }
  %c = lmc.kernel fused "k2" (%b) : (tensor<?x64xf32>) -> tensor<?x64xf32> {
  ^bb0(%i: tensor<?x64xf32>):
    %r = lmc.neg %i : tensor<?x64xf32>
    lmc.yield %r : tensor<?x64xf32>
  }
  return %c : tensor<?x64xf32>
}

// -----

// Tests that a result dead after its reader frees its space for a later
// kernel when it cannot be written in place (a layer norm reads whole rows),
// and that a value read again later keeps its space.
// CHECK-LABEL: func.func @rows
// CHECK-SAME: lmc.arena_bytes = 768000 : i64
// CHECK: lmc.kernel fused "k0"{{.*}}lmc.offsets = array<i64: 0>
// CHECK: lmc.kernel fused "k1"{{.*}}lmc.offsets = array<i64: 256000>
// CHECK: lmc.kernel fused "k2"{{.*}}lmc.offsets = array<i64: 512000>
// CHECK: lmc.kernel fused "k3"{{.*}}lmc.offsets = array<i64: 256000>
// expected-remark @+1 {{memory plan: 4 kernels (0 writing in place), arena of 768000 bytes}}
func.func @rows(%x: tensor<?x64xf32>, %g: tensor<64xf32>) -> tensor<?x64xf32> {
  %a = lmc.kernel fused "k0" (%x, %g) : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32> {
  ^bb0(%i: tensor<?x64xf32>, %w: tensor<64xf32>):
    %r = lmc.rms_norm %i, %w epsilon 1.0e-06 : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
    lmc.yield %r : tensor<?x64xf32>
  }
  %b = lmc.kernel fused "k1" (%a, %g) : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32> {
  ^bb0(%i: tensor<?x64xf32>, %w: tensor<64xf32>):
    %r = lmc.rms_norm %i, %w epsilon 1.0e-06 : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
    lmc.yield %r : tensor<?x64xf32>
  }
  %c = lmc.kernel fused "k2" (%b, %g) : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32> {
  ^bb0(%i: tensor<?x64xf32>, %w: tensor<64xf32>):
    %r = lmc.rms_norm %i, %w epsilon 1.0e-06 : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
    lmc.yield %r : tensor<?x64xf32>
  }
  %d = lmc.kernel fused "k3" (%a, %c, %g) : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32> {
  ^bb0(%i: tensor<?x64xf32>, %j: tensor<?x64xf32>, %w: tensor<64xf32>):
    %s = lmc.add %i, %j : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    %r = lmc.rms_norm %s, %w epsilon 1.0e-06 : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
    lmc.yield %r : tensor<?x64xf32>
  }
  return %d : tensor<?x64xf32>
}

// -----

// Tests that a reshape lives in the space of the input it views (each
// result in its own input's, whatever the order), and that a kernel with
// two elementwise results writes neither in place: the first could clobber
// an input the second still reads.
// CHECK-LABEL: func.func @views
// CHECK: lmc.kernel fused "k0"{{.*}}lmc.offsets = array<i64: 0, 256000>
// CHECK: lmc.kernel fused "k1"{{.*}}lmc.offsets = array<i64: 256000, 0>
// CHECK: lmc.kernel fused "k2"{{.*}}lmc.offsets = array<i64: 512000, 768000>
// expected-remark @+1 {{memory plan: 3 kernels (2 writing in place), arena of 1024000 bytes}}
func.func @views(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %a:2 = lmc.kernel fused "k0" (%x) : (tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  ^bb0(%i: tensor<?x64xf32>):
    %e = lmc.exp %i : tensor<?x64xf32>
    %t = lmc.tanh %i : tensor<?x64xf32>
    lmc.yield %e, %t : tensor<?x64xf32>, tensor<?x64xf32>
  }
  %b:2 = lmc.kernel fused "k1" (%a#0, %a#1) : (tensor<?x64xf32>, tensor<?x64xf32>) -> (tensor<?x4x16xf32>, tensor<?x4x16xf32>) {
  ^bb0(%i: tensor<?x64xf32>, %j: tensor<?x64xf32>):
    %rj = lmc.reshape %j : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %ri = lmc.reshape %i : tensor<?x64xf32> -> tensor<?x4x16xf32>
    lmc.yield %rj, %ri : tensor<?x4x16xf32>, tensor<?x4x16xf32>
  }
  %c:2 = lmc.kernel fused "k2" (%b#0, %b#1) : (tensor<?x4x16xf32>, tensor<?x4x16xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  ^bb0(%i: tensor<?x4x16xf32>, %j: tensor<?x4x16xf32>):
    %s = lmc.add %i, %j : (tensor<?x4x16xf32>, tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
    %d = lmc.sub %i, %j : (tensor<?x4x16xf32>, tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
    %rs = lmc.reshape %s : tensor<?x4x16xf32> -> tensor<?x64xf32>
    %rd = lmc.reshape %d : tensor<?x4x16xf32> -> tensor<?x64xf32>
    lmc.yield %rs, %rd : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %c#0, %c#1 : tensor<?x64xf32>, tensor<?x64xf32>
}
