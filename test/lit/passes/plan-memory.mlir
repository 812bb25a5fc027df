// RUN: lmc-opt %s --split-input-file --lmc-plan-memory=tokens=1000 --verify-diagnostics | FileCheck %s

// Tests that a result dead after its reader frees its space for the next
// kernel, that a result read by the return stays live, and that sizes use
// the token budget: [?, 64] f32 is 1000 * 64 * 4 = 256000 bytes.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: lmc.arena_bytes = 512000 : i64
// CHECK: lmc.kernel fused "k0"{{.*}}lmc.offsets = array<i64: 0>
// CHECK: lmc.kernel fused "k1"{{.*}}lmc.offsets = array<i64: 256000>
// CHECK: lmc.kernel fused "k2"{{.*}}lmc.offsets = array<i64: 0>
// expected-remark @+1 {{memory plan: 3 kernels, arena of 512000 bytes for batch 64, sequence 512, tokens 1000}}
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
