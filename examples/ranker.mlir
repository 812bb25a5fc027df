// A small ranking model: feature columns for the request's context and a
// one-layer transformer encoder over the user's recent token sequence, pooled
// and joined into one score per example.
//
//   lmc compile examples/ranker.mlir --emit=mlir
//
// Inputs, B examples per batch:
//   tokens  [B, S]  token ids, padded; lengths [B] real tokens per row
//   age     [B, 1]  years, NaN when missing
//   country [B, 1]  FarmHash Fingerprint64 of the country code
//   tags    [B, 4]  Fingerprint64 of four interest tags
module {
  // Encoder: width 64, 4 heads of 16, feed-forward 128, post-LayerNorm.
  lmc.parameter @encoder.tokens : tensor<1000x64xf32>
  lmc.parameter @encoder.attn.wq : tensor<64x64xf32>
  lmc.parameter @encoder.attn.wk : tensor<64x64xf32>
  lmc.parameter @encoder.attn.wv : tensor<64x64xf32>
  lmc.parameter @encoder.attn.wo : tensor<64x64xf32>
  lmc.parameter @encoder.ln1.gamma : tensor<64xf32>
  lmc.parameter @encoder.ln1.beta : tensor<64xf32>
  lmc.parameter @encoder.ffn.w1 : tensor<64x128xf32>
  lmc.parameter @encoder.ffn.b1 : tensor<128xf32>
  lmc.parameter @encoder.ffn.w2 : tensor<128x64xf32>
  lmc.parameter @encoder.ffn.b2 : tensor<64xf32>
  lmc.parameter @encoder.ln2.gamma : tensor<64xf32>
  lmc.parameter @encoder.ln2.beta : tensor<64xf32>

  // Feature-column embedding tables: 3 countries + 2 out-of-vocabulary
  // buckets, 1000 tag buckets, 10000 country x tag buckets.
  lmc.parameter @features.country : tensor<5x8xf32>
  lmc.parameter @features.tags : tensor<1000x8xf32>
  lmc.parameter @features.country_x_tags : tensor<10000x8xf32>

  // Scoring head over [pooled encoder output (64), features (30)].
  lmc.parameter @head.w : tensor<94x1xf32>
  lmc.parameter @head.b : tensor<1xf32>

  // The argument attributes tell the runtime how raw examples feed each
  // argument: token ids as values, strings fingerprinted.
  func.func @forward(%tokens: tensor<?x?xi64> {lmc.feature = "tokens", lmc.ingest = "value"},
                     %lengths: tensor<?xi32> {lmc.feature = "tokens", lmc.ingest = "lengths"},
                     %age: tensor<?x1xf32> {lmc.feature = "age", lmc.ingest = "value"},
                     %country: tensor<?x1xi64> {lmc.feature = "country", lmc.ingest = "fingerprint"},
                     %tags: tensor<?x4xi64> {lmc.feature = "tags", lmc.ingest = "fingerprint"})
      -> (tensor<?x1xf32> {lmc.output = "score"}) {
    // Feature columns.
    %age_norm = lmc.fc.numeric %age zscore mean 3.800000e+01 std 1.300000e+01 default 3.800000e+01
        : tensor<?x1xf32> -> tensor<?x1xf32>
    %age_bucket = lmc.fc.bucketize %age boundaries [1.800000e+01, 2.500000e+01, 3.500000e+01, 5.000000e+01]
        : tensor<?x1xf32> -> tensor<?x1xi64>
    %age_onehot = lmc.fc.indicator %age_bucket buckets 5 : (tensor<?x1xi64>) -> tensor<?x5xf32>
    // Fingerprint64 of "US", "DE" and "JP".
    %country_id = lmc.fc.vocab_lookup %country
        vocabulary dense<[-3135242802568536781, -685481002838860445, -7770789603557897666]> : tensor<3xi64> oov_buckets 2
        : tensor<?x1xi64> -> tensor<?x1xi64>
    %country_table = lmc.param_load @features.country : tensor<5x8xf32>
    %country_vec = lmc.fc.embedding_bag mean %country_table[%country_id]
        : (tensor<5x8xf32>, tensor<?x1xi64>) -> tensor<?x8xf32>
    %tag_id = lmc.fc.hash_bucket %tags buckets 1000 : tensor<?x4xi64> -> tensor<?x4xi64>
    %tags_table = lmc.param_load @features.tags : tensor<1000x8xf32>
    %tags_vec = lmc.fc.embedding_bag sqrtn %tags_table[%tag_id]
        : (tensor<1000x8xf32>, tensor<?x4xi64>) -> tensor<?x8xf32>
    %cross_id = lmc.fc.cross %country, %tags buckets 10000
        : (tensor<?x1xi64>, tensor<?x4xi64>) -> tensor<?x4xi64>
    %cross_table = lmc.param_load @features.country_x_tags : tensor<10000x8xf32>
    %cross_vec = lmc.fc.embedding_bag sum %cross_table[%cross_id]
        : (tensor<10000x8xf32>, tensor<?x4xi64>) -> tensor<?x8xf32>
    %features = lmc.concat %age_norm, %age_onehot, %country_vec, %tags_vec, %cross_vec axis 1
        : (tensor<?x1xf32>, tensor<?x5xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x30xf32>

    // Encoder layer over the padded token batch.
    %token_table = lmc.param_load @encoder.tokens : tensor<1000x64xf32>
    %x = lmc.embedding %token_table[%tokens] : (tensor<1000x64xf32>, tensor<?x?xi64>) -> tensor<?x?x64xf32>
    %wq = lmc.param_load @encoder.attn.wq : tensor<64x64xf32>
    %wk = lmc.param_load @encoder.attn.wk : tensor<64x64xf32>
    %wv = lmc.param_load @encoder.attn.wv : tensor<64x64xf32>
    %q = lmc.matmul %x, %wq : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    %k = lmc.matmul %x, %wk : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    %v = lmc.matmul %x, %wv : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    %q_heads = lmc.reshape %q : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
    %k_heads = lmc.reshape %k : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
    %v_heads = lmc.reshape %v : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
    %attended = lmc.attention %q_heads, %k_heads, %v_heads lengths(%lengths)
        : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?xi32>) -> tensor<?x?x4x16xf32>
    %merged = lmc.reshape %attended : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
    %wo = lmc.param_load @encoder.attn.wo : tensor<64x64xf32>
    %projected = lmc.matmul %merged, %wo : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    %residual1 = lmc.add %x, %projected : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
    %ln1_gamma = lmc.param_load @encoder.ln1.gamma : tensor<64xf32>
    %ln1_beta = lmc.param_load @encoder.ln1.beta : tensor<64xf32>
    %h = lmc.layer_norm %residual1, %ln1_gamma, %ln1_beta epsilon 9.99999996E-13
        : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    %w1 = lmc.param_load @encoder.ffn.w1 : tensor<64x128xf32>
    %b1 = lmc.param_load @encoder.ffn.b1 : tensor<128xf32>
    %w2 = lmc.param_load @encoder.ffn.w2 : tensor<128x64xf32>
    %b2 = lmc.param_load @encoder.ffn.b2 : tensor<64xf32>
    %up = lmc.matmul %h, %w1 : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
    %up_biased = lmc.add %up, %b1 : (tensor<?x?x128xf32>, tensor<128xf32>) -> tensor<?x?x128xf32>
    %activated = lmc.gelu tanh %up_biased : tensor<?x?x128xf32>
    %down = lmc.matmul %activated, %w2 : (tensor<?x?x128xf32>, tensor<128x64xf32>) -> tensor<?x?x64xf32>
    %down_biased = lmc.add %down, %b2 : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    %residual2 = lmc.add %h, %down_biased : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
    %ln2_gamma = lmc.param_load @encoder.ln2.gamma : tensor<64xf32>
    %ln2_beta = lmc.param_load @encoder.ln2.beta : tensor<64xf32>
    %encoded = lmc.layer_norm %residual2, %ln2_gamma, %ln2_beta epsilon 9.99999996E-13
        : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>

    // Pool each sequence's first token ([CLS]) and score it with the features.
    %packed, %cu_seqlens = lmc.unpad %encoded, %lengths
        : (tensor<?x?x64xf32>, tensor<?xi32>) -> (tensor<?x64xf32>, tensor<?xi32>)
    %pooled = lmc.segment_reduce first %packed, %cu_seqlens
        : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
    %joined = lmc.concat %pooled, %features axis 1
        : (tensor<?x64xf32>, tensor<?x30xf32>) -> tensor<?x94xf32>
    %head_w = lmc.param_load @head.w : tensor<94x1xf32>
    %head_b = lmc.param_load @head.b : tensor<1xf32>
    %logit = lmc.matmul %joined, %head_w : (tensor<?x94xf32>, tensor<94x1xf32>) -> tensor<?x1xf32>
    %score = lmc.add %logit, %head_b : (tensor<?x1xf32>, tensor<1xf32>) -> tensor<?x1xf32>
    return %score : tensor<?x1xf32>
  }
}
