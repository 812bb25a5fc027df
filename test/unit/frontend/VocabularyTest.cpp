// Tests reading vocabulary files as TensorFlow does and compiling
// vocabularies to fingerprint tables.

#include "frontend/Vocabulary.h"

#include "lmc/fingerprint.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

namespace lmc::frontend {
namespace {

class VocabularyFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("vocabulary", "txt", path));
  }
  void TearDown() override { llvm::sys::fs::remove(path); }
  void write(llvm::StringRef contents) {
    std::error_code error;
    llvm::raw_fd_ostream file(path, error);
    ASSERT_FALSE(error);
    file << contents;
  }
  llvm::SmallString<128> path;
};

TEST_F(VocabularyFileTest, OneEntryPerLineWithoutLineBreaks) {
  write("US\r\nDE\n  JP \n\nlast");
  auto entries = readVocabularyFile(path, std::nullopt);
  ASSERT_TRUE(bool(entries)) << llvm::toString(entries.takeError());
  // Spaces and empty lines are entries, as in TensorFlow's whole-line keys.
  EXPECT_EQ(*entries, (std::vector<std::string>{"US", "DE", "  JP ", "", "last"}));
}

TEST_F(VocabularyFileTest, SizeKeepsTheFirstLines) {
  write("a\nb\nc\n");
  auto entries = readVocabularyFile(path, 2);
  ASSERT_TRUE(bool(entries));
  EXPECT_EQ(*entries, (std::vector<std::string>{"a", "b"}));
  auto tooMany = readVocabularyFile(path, 4);
  ASSERT_FALSE(bool(tooMany));
  EXPECT_NE(llvm::toString(tooMany.takeError()).find("has 3 lines, fewer than its size 4"),
            std::string::npos);
}

TEST(Vocabulary, MissingFileIsReported) {
  auto entries = readVocabularyFile("/nonexistent/vocabulary.txt", std::nullopt);
  ASSERT_FALSE(bool(entries));
  EXPECT_NE(llvm::toString(entries.takeError()).find("cannot read vocabulary file"),
            std::string::npos);
}

TEST(Vocabulary, StringsCompileToTheirFingerprints) {
  size_t bad = 0;
  auto table = compileVocabulary({"US", "DE"}, KeyType::String, bad);
  ASSERT_TRUE(bool(table));
  EXPECT_EQ(table->fingerprints,
            (std::vector<int64_t>{int64_t(lmc_fingerprint64("US", 2)),
                                  int64_t(lmc_fingerprint64("DE", 2))}));
}

TEST(Vocabulary, IntegersCompileToTheirDecimalFingerprints) {
  size_t bad = 0;
  auto table = compileVocabulary({"42", "-7"}, KeyType::Int64, bad);
  ASSERT_TRUE(bool(table));
  EXPECT_EQ(table->fingerprints[0], int64_t(lmc_fingerprint64_of_int(42)));
  EXPECT_EQ(table->fingerprints[1], int64_t(lmc_fingerprint64_of_int(-7)));
}

TEST(Vocabulary, DuplicatesNameBothEntries) {
  size_t bad = 0;
  auto strings = compileVocabulary({"a", "b", "a"}, KeyType::String, bad);
  ASSERT_FALSE(bool(strings));
  EXPECT_EQ(llvm::toString(strings.takeError()), "duplicate entries #0 'a' and #2 'a'");
  EXPECT_EQ(bad, 2u);
  // 7 and 07 are one integer.
  auto integers = compileVocabulary({"7", "07"}, KeyType::Int64, bad);
  ASSERT_FALSE(bool(integers));
  EXPECT_EQ(llvm::toString(integers.takeError()), "duplicate entries #0 '7' and #1 '07'");
}

TEST(Vocabulary, NonIntegerEntryOfAnIntegerVocabulary) {
  size_t bad = 0;
  auto table = compileVocabulary({"1", "two"}, KeyType::Int64, bad);
  ASSERT_FALSE(bool(table));
  EXPECT_EQ(llvm::toString(table.takeError()), "entry #1 'two' is not an int64");
  EXPECT_EQ(bad, 1u);
}

} // namespace
} // namespace lmc::frontend
