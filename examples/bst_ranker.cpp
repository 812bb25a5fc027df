//===- bst_ranker.cpp - the BST ranking model, through the C++ API --------===//
//
// A ranking model in the style of Alibaba's Behavior Sequence Transformer:
// user and item features through feature columns (numeric, bucketized,
// vocabulary list and file, hash, identity, crossed, weighted), and a 2-layer
// transformer over the user's variable-length click history, mean-pooled,
// concatenated with the features, and an MLP to one click logit. The same
// model as examples/bst_ranker.yaml, and the same module:
//
//   build/bin/bst_ranker [-o bst_ranker.mlir]
//
// The item vocabulary is read from examples/data/item_categories.txt of the
// source tree this program was built from.
//
//===----------------------------------------------------------------------===//

#include "examples/ExampleMain.h"

using namespace lmc::frontend;

static EmbeddingOptions embeddingOf(int64_t dimension, Combiner combiner) {
  EmbeddingOptions options;
  options.dimension = dimension;
  options.combiner = combiner;
  return options;
}

static void declareRanker(ModelBuilder &model) {
  // User features.
  NumericOptions age;
  age.normalizer = Normalizer::zscore;
  age.mean = 35.0;
  age.stddev = 12.0;
  age.defaultValue = 35.0;
  Column userAge = model.numeric("user_age", age);
  // Bucketized after the normalizer, as in TensorFlow: the ages 18, 25, 35,
  // 50 and 65 as z-scores.
  Column ageBuckets = model.bucketized(userAge, {-1.4166666f, -0.8333333f, 0, 1.25f, 2.5f});

  VocabularyOptions countries;
  countries.numOovBuckets = 2;
  Column userCountry = model.categoricalWithVocabularyList(
      "user_country", {"US", "DE", "JP", "FR", "BR", "IN"}, countries);

  CategoricalOptions fiveTags;
  fiveTags.shape = {5};
  Column userTags = model.categoricalWithHashBucket("user_tags", 500, fiveTags);
  Column weightedTags = model.weightedCategorical(userTags, "user_tag_weights");

  // Item and context features.
  VocabularyOptions categories;
  categories.numOovBuckets = 1;
  Column itemCategory = model.categoricalWithVocabularyFile(
      "item_category", LMC_EXAMPLES_DIR "/data/item_categories.txt", categories);
  Column itemBrand =
      model.categoricalWithHashBucket("item_brand", 1000, CategoricalOptions());
  NumericOptions price;
  price.normalizer = Normalizer::log1p;
  Column itemPrice = model.numeric("item_price", price);
  CategoricalOptions hourIds;
  hourIds.keyType = KeyType::Int64;
  Column hour = model.categoricalWithIdentity("hour_of_day", 24,
                                              /*defaultValue=*/0, hourIds);
  Column countryByCategory =
      model.crossed({{"user_country", KeyType::String}}, {itemCategory},
                    /*buckets=*/10000, /*hashKey=*/std::nullopt);

  mlir::Value features = model.inputLayer({
      userAge,
      model.indicator(ageBuckets),
      model.embedding(userCountry, embeddingOf(8, Combiner::mean)),
      model.embedding(weightedTags, embeddingOf(8, Combiner::sum)),
      model.embedding(itemCategory, embeddingOf(8, Combiner::mean)),
      model.embedding(itemBrand, embeddingOf(8, Combiner::mean)),
      itemPrice,
      model.indicator(hour),
      model.embedding(countryByCategory, embeddingOf(8, Combiner::mean)),
  });

  // The click history: item ids hashed into 100000 buckets.
  Column clicks = model.sequenceCategoricalWithHashBucket(
      "click_history", 100000, CategoricalOptions());
  Sequence history =
      model.sequenceInput({model.embedding(clicks, embeddingOf(32, Combiner::mean))});
  TransformerOptions transformer;
  transformer.layers = 2;
  transformer.heads = 4;
  transformer.headDim = 8;
  transformer.ffn = 64;
  Sequence encoded = model.transformerEncoder(history, transformer, "behavior");
  mlir::Value interest = model.pool(encoded, Pooling::Mean);

  mlir::Value joined = model.concat({features, interest});
  mlir::Value hidden = model.mlp(joined, {64, 32}, Activation::Relu, "head");
  model.logits("ctr_logit", hidden, 1);

  // How `lmc compile --train` trains it: clicks, as binary cross-entropy
  // on the logit, with AdamW warming up over 10 steps.
  TrainingOptions training;
  training.loss = Loss::BinaryCrossEntropy;
  training.label = "clicked";
  training.output = "ctr_logit";
  training.learningRate = 0.003;
  training.schedule = LearningRateSchedule::LinearWarmup;
  training.warmupSteps = 10;
  model.train(training);
}

int main(int argc, char **argv) {
  return runExample(argc, argv, "bst_ranker", declareRanker);
}
