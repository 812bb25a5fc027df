//===- text_encoder.cpp - the text encoder, declared through the C++ API --===//
//
// Token ids of a sentence (a variable-length sequence column) feed a 4-layer
// transformer encoder; mean pooling gives one embedding per sentence. The
// same model as examples/text_encoder.yaml, and the same module:
//
//   build/bin/text_encoder [-o text_encoder.mlir]
//
//===----------------------------------------------------------------------===//

#include "examples/ExampleMain.h"

using namespace lmc::frontend;

static void declareTextEncoder(ModelBuilder &model) {
  Column tokens = model.sequenceCategoricalWithIdentity(
      "tokens", /*buckets=*/8000, /*defaultValue=*/std::nullopt,
      CategoricalOptions());
  EmbeddingOptions tokenEmbedding;
  tokenEmbedding.dimension = 64;
  Sequence sentence =
      model.sequenceInput({model.embedding(tokens, tokenEmbedding)});

  TransformerOptions encoder;
  encoder.layers = 4;
  encoder.heads = 4;
  encoder.headDim = 16;
  encoder.ffn = 256;
  Sequence encoded = model.transformerEncoder(sentence, encoder, "encoder");
  model.output("sentence_embedding", model.pool(encoded, Pooling::Mean));
}

int main(int argc, char **argv) {
  return runExample(argc, argv, "text_encoder", declareTextEncoder);
}
