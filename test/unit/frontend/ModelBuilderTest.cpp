// Tests the C++ frontend: TensorFlow's column names and rules, the inputs it
// asks the host for, shared tables, and errors that name column and field.

#include "frontend/ModelBuilder.h"

#include "compiler/Registration.h"
#include "dialects/lmc/IR/LmcOps.h"
#include "lmc/fingerprint.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

namespace lmc::frontend {
namespace {

class ModelBuilderTest : public ::testing::Test {
protected:
  ModelBuilderTest() {
    mlir::DialectRegistry registry;
    mlir::lmc::registerLmcDialects(registry);
    context.appendDialectRegistry(registry);
    context.getDiagEngine().registerHandler([this](mlir::Diagnostic &d) {
      diagnostics += d.str() + "\n";
    });
  }

  std::string print(mlir::ModuleOp module) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    return text;
  }

  EmbeddingOptions embeddingOf(int64_t dimension) {
    EmbeddingOptions options;
    options.dimension = dimension;
    return options;
  }

  mlir::MLIRContext context;
  std::string diagnostics;
};

TEST_F(ModelBuilderTest, ColumnsAreNamedAsTensorFlowNamesThem) {
  ModelBuilder model(context, "m");
  Column age = model.numeric("age", NumericOptions());
  Column country = model.categoricalWithHashBucket("country", 10, CategoricalOptions());
  Column brand = model.categoricalWithHashBucket("brand", 10, CategoricalOptions());
  EXPECT_EQ(model.bucketized(age, {1, 2})->name, "age_bucketized");
  EXPECT_EQ(model.embedding(country, embeddingOf(4))->name, "country_embedding");
  EXPECT_EQ(model.indicator(country)->name, "country_indicator");
  EXPECT_EQ(model.weightedCategorical(brand, "w")->name, "brand_weighted_by_w");
  // Crossed names join the sorted input names.
  EXPECT_EQ(model.crossed({{"user", KeyType::String}}, {country}, 100, std::nullopt)->name,
            "country_X_user");
  EXPECT_TRUE(diagnostics.empty()) << diagnostics;
}

TEST_F(ModelBuilderTest, InputLayerConcatenatesInNameOrderAndTagsInputs) {
  ModelBuilder model(context, "m");
  Column zeta = model.numeric("zeta", NumericOptions());
  NumericOptions two;
  two.shape = {2};
  Column alpha = model.numeric("alpha", two);
  model.output("features", model.inputLayer({zeta, alpha}));
  mlir::OwningOpRef<mlir::ModuleOp> module = model.finish();
  ASSERT_TRUE(module) << diagnostics;
  std::string text = print(*module);
  // alpha ([B, 2]) is read and concatenated before zeta ([B, 1]).
  EXPECT_NE(text.find("%arg0: tensor<?x2xf32> {lmc.feature = \"alpha\", lmc.ingest = \"value\"}"),
            std::string::npos) << text;
  EXPECT_NE(text.find("lmc.concat %arg0, %arg1 axis 1"), std::string::npos) << text;
}

TEST_F(ModelBuilderTest, OneRawInputPerFeatureAndIngest) {
  ModelBuilder model(context, "m");
  CategoricalOptions ints;
  ints.keyType = KeyType::Int64;
  Column hashed = model.categoricalWithHashBucket("shop", 100, ints);
  Column crossed = model.crossed({{"shop", KeyType::Int64}, {"city", KeyType::String}},
                                 {}, 1000, std::nullopt);
  Column again = model.categoricalWithHashBucket("shop_again", 50, ints);
  (void)again;
  model.output("f", model.inputLayer({model.indicator(hashed),
                                      model.embedding(crossed, embeddingOf(2))}));
  auto module = model.finish();
  ASSERT_TRUE(module) << diagnostics;
  std::string text = print(*module);
  // A hashed integer arrives fingerprinted as decimal text; crossed, it
  // arrives as its value: two inputs for one feature.
  EXPECT_NE(text.find("{lmc.feature = \"shop\", lmc.ingest = \"decimal_fingerprint\"}"),
            std::string::npos) << text;
  EXPECT_NE(text.find("{lmc.feature = \"shop\", lmc.ingest = \"value\"}"),
            std::string::npos) << text;
  EXPECT_NE(text.find("{lmc.feature = \"city\", lmc.ingest = \"fingerprint\"}"),
            std::string::npos) << text;
}

TEST_F(ModelBuilderTest, VocabularyIsCompiledToFingerprints) {
  ModelBuilder model(context, "m");
  VocabularyOptions options;
  options.numOovBuckets = 1;
  Column country = model.categoricalWithVocabularyList("country", {"US", "DE"}, options);
  EXPECT_EQ(country->idSpace(), 3);
  model.output("f", model.inputLayer({model.indicator(country)}));
  auto module = model.finish();
  ASSERT_TRUE(module) << diagnostics;
  mlir::lmc::FcVocabLookupOp lookup;
  module->walk([&](mlir::lmc::FcVocabLookupOp op) { lookup = op; });
  ASSERT_TRUE(lookup);
  auto values = llvm::to_vector(lookup.getVocabulary().getValues<int64_t>());
  EXPECT_EQ(values, (llvm::SmallVector<int64_t>{int64_t(lmc_fingerprint64("US", 2)),
                                                int64_t(lmc_fingerprint64("DE", 2))}));
  EXPECT_EQ(lookup.getNumOovBuckets(), 1);
}

TEST_F(ModelBuilderTest, SharedEmbeddingsUseOneTable) {
  ModelBuilder model(context, "m");
  Column a = model.categoricalWithHashBucket("a", 20, CategoricalOptions());
  Column b = model.categoricalWithHashBucket("b", 20, CategoricalOptions());
  // TensorFlow names the table after the columns sorted by name.
  std::vector<Column> shared = model.sharedEmbeddings({b, a}, embeddingOf(4));
  ASSERT_EQ(shared.size(), 2u);
  model.output("f", model.inputLayer(shared));
  auto module = model.finish();
  ASSERT_TRUE(module) << diagnostics;
  int tables = 0;
  module->walk([&](mlir::lmc::ParameterOp op) {
    ++tables;
    EXPECT_EQ(op.getSymName(), "emb.a_b_shared_embedding");
  });
  EXPECT_EQ(tables, 1);
}

TEST_F(ModelBuilderTest, SharedEmbeddingsNeedOneIdSpace) {
  ModelBuilder model(context, "m");
  Column a = model.categoricalWithHashBucket("a", 20, CategoricalOptions());
  Column b = model.categoricalWithHashBucket("b", 30, CategoricalOptions());
  std::vector<Column> shared = model.sharedEmbeddings({a, b}, embeddingOf(4));
  EXPECT_EQ(shared[0], nullptr);
  EXPECT_NE(diagnostics.find("'b' has 30 ids and 'a' 20"), std::string::npos) << diagnostics;
  EXPECT_FALSE(model.finish());
}

TEST_F(ModelBuilderTest, ErrorsNameTheColumnAndTheField) {
  ModelBuilder model(context, "m");
  EXPECT_EQ(model.categoricalWithIdentity("hour", 24, 24, CategoricalOptions()), nullptr);
  EXPECT_EQ(model.embedding(model.numeric("age", NumericOptions()), embeddingOf(4)),
            nullptr);
  NumericOptions zscore;
  zscore.normalizer = Normalizer::zscore;
  zscore.mean = 1;
  EXPECT_EQ(model.numeric("income", zscore), nullptr);
  EXPECT_NE(diagnostics.find("column 'hour', field 'default_value': 24 is not in [0, 24)"),
            std::string::npos) << diagnostics;
  EXPECT_NE(diagnostics.find("column 'age_embedding', field 'categorical': 'age' is not a "
                             "categorical column"),
            std::string::npos) << diagnostics;
  EXPECT_NE(diagnostics.find("column 'income', field 'std': the zscore normalizer needs std"),
            std::string::npos) << diagnostics;
  EXPECT_TRUE(model.failed());
  EXPECT_FALSE(model.finish());
}

TEST_F(ModelBuilderTest, CategoricalColumnsNeedADenseForm) {
  ModelBuilder model(context, "m");
  Column brand = model.categoricalWithHashBucket("brand", 10, CategoricalOptions());
  model.output("f", model.inputLayer({brand}));
  EXPECT_FALSE(model.finish());
  EXPECT_NE(diagnostics.find("column 'brand' is categorical; wrap it in an embedding or "
                             "indicator column"),
            std::string::npos) << diagnostics;
}

TEST_F(ModelBuilderTest, AFeatureIsParsedOneWay) {
  // TensorFlow's parse spec reads a feature one way; here 'x' would be a
  // numeric feature with a default and a weight feature without one.
  ModelBuilder model(context, "m");
  NumericOptions withDefault;
  withDefault.defaultValue = 1.0;
  Column x = model.numeric("x", withDefault);
  Column ids =
      model.weightedCategorical(model.categoricalWithHashBucket("h", 4, CategoricalOptions()), "x");
  ASSERT_NE(ids, nullptr);
  model.output("f", model.inputLayer({x, model.indicator(ids)}));
  EXPECT_FALSE(model.finish());
  EXPECT_NE(diagnostics.find("reads feature 'x' with another shape, type or default_value"),
            std::string::npos)
      << diagnostics;
}

TEST_F(ModelBuilderTest, HeadsAreMarkedForTheirLoss) {
  ModelBuilder model(context, "m");
  mlir::Value features = model.inputLayer({model.numeric("x", NumericOptions())});
  model.logits("click", features, 1);
  model.regression("dwell_time", features, 1);
  model.output("features", features);
  auto module = model.finish();
  ASSERT_TRUE(module) << diagnostics;
  std::string text = print(*module);
  EXPECT_NE(text.find("{lmc.head = \"logits\", lmc.output = \"click\"}"), std::string::npos)
      << text;
  EXPECT_NE(text.find("{lmc.head = \"regression\", lmc.output = \"dwell_time\"}"),
            std::string::npos) << text;
  EXPECT_NE(text.find("{lmc.output = \"features\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("@click.kernel : tensor<1x1xf32>"), std::string::npos) << text;
}

TEST_F(ModelBuilderTest, OutputNamesAreUnique) {
  ModelBuilder model(context, "m");
  mlir::Value features = model.inputLayer({model.numeric("x", NumericOptions())});
  model.output("y", features);
  model.output("y", features);
  EXPECT_FALSE(model.finish());
  EXPECT_NE(diagnostics.find("output 'y' is declared twice"), std::string::npos);
}

TEST_F(ModelBuilderTest, ColumnNamesAreUnique) {
  ModelBuilder model(context, "m");
  model.numeric("age", NumericOptions());
  EXPECT_EQ(model.numeric("age", NumericOptions()), nullptr);
  EXPECT_NE(diagnostics.find("column 'age' is declared twice"), std::string::npos);
}

TEST_F(ModelBuilderTest, SequenceColumnsFeedATransformer) {
  ModelBuilder model(context, "m");
  Column clicks = model.sequenceCategoricalWithHashBucket("clicks", 100, CategoricalOptions());
  Sequence history = model.sequenceInput({model.embedding(clicks, embeddingOf(8))});
  TransformerOptions options;
  options.heads = 2;
  options.headDim = 4;
  options.ffn = 16;
  options.causal = true;
  model.output("pooled", model.pool(model.transformerEncoder(history, options, "enc"),
                                    Pooling::First));
  auto module = model.finish();
  ASSERT_TRUE(module) << diagnostics;
  std::string text = print(*module);
  EXPECT_NE(text.find("{lmc.feature = \"clicks\", lmc.ingest = \"lengths\"}"),
            std::string::npos);
  EXPECT_NE(text.find("lengths(%arg1) causal"), std::string::npos) << text;
  EXPECT_NE(text.find("lmc.segment_reduce first"), std::string::npos);
  EXPECT_NE(text.find("@enc.layer0.ffn.w1 : tensor<8x16xf32>"), std::string::npos);
}

TEST_F(ModelBuilderTest, SequenceAndDenseColumnsDoNotMix) {
  ModelBuilder model(context, "m");
  Column clicks = model.sequenceCategoricalWithHashBucket("clicks", 100, CategoricalOptions());
  model.inputLayer({model.embedding(clicks, embeddingOf(8))});
  EXPECT_NE(diagnostics.find("is a sequence column; it belongs in a sequence_input"),
            std::string::npos) << diagnostics;
}

} // namespace
} // namespace lmc::frontend
