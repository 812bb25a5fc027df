// Tests the runtime's status type: codes, messages, ownership, and the
// early-return macro.

#include "Status.h"
#include "io/AtomicFile.h"
#include "lmc/status.h"
#include "lmc/version.h"

#include <gtest/gtest.h>

#include <string>

namespace {

lmc_status_t failWhenNegative(int value) {
  if (value < 0)
    return lmc_status_create(LMC_STATUS_INVALID_ARGUMENT, "value %d < 0",
                             value);
  return nullptr;
}

lmc_status_t forwardFailure(int value, bool *reachedEnd) {
  LMC_RETURN_IF_ERROR(failWhenNegative(value));
  *reachedEnd = true;
  return nullptr;
}

TEST(Status, NullIsSuccess) {
  EXPECT_EQ(lmc_status_code(nullptr), LMC_STATUS_OK);
  EXPECT_STREQ(lmc_status_message(nullptr), "");
  lmc_status_release(nullptr);
}

TEST(Status, CarriesCodeAndFormattedMessage) {
  lmc_status_t status = lmc_status_create(LMC_STATUS_NOT_FOUND,
                                          "parameter '%s' has %d dims", "wq", 2);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_NOT_FOUND);
  EXPECT_STREQ(lmc_status_message(status), "parameter 'wq' has 2 dims");
  lmc_status_release(status);
}

TEST(Status, LongMessagesAreKeptWhole) {
  std::string longText(10000, 'x');
  lmc_status_t status =
      lmc_status_create(LMC_STATUS_INTERNAL, "%s!", longText.c_str());
  EXPECT_EQ(std::string(lmc_status_message(status)), longText + "!");
  lmc_status_release(status);
}

TEST(Status, OkCodeIsReportedAsInternal) {
  lmc_status_t status = lmc_status_create(LMC_STATUS_OK, "misuse");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_INTERNAL);
  lmc_status_release(status);
}

TEST(Status, ACodeThatNamesNoneIsReportedAsInternal) {
  // A C caller may pass any integer; reading it must not be undefined.
  lmc_status_t status = lmc_status_create(static_cast<lmc_status_code_t>(99), "misuse");
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_INTERNAL);
  lmc_status_release(status);
}

TEST(Status, ReturnIfErrorStopsAtTheFirstFailure) {
  bool reachedEnd = false;
  lmc_status_t status = forwardFailure(-3, &reachedEnd);
  EXPECT_FALSE(reachedEnd);
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(lmc_status_message(status), "value -3 < 0");
  lmc_status_release(status);

  EXPECT_EQ(forwardFailure(4, &reachedEnd), nullptr);
  EXPECT_TRUE(reachedEnd);
}

TEST(Status, CodeNames) {
  EXPECT_STREQ(lmc_status_code_name(LMC_STATUS_OK), "OK");
  EXPECT_STREQ(lmc_status_code_name(LMC_STATUS_UNAVAILABLE), "UNAVAILABLE");
  EXPECT_STREQ(lmc_status_code_name(static_cast<lmc_status_code_t>(99)),
               "UNKNOWN");
}

// The runtime's own status: a code set where the failure is known, kept
// when a caller adds context.
TEST(RuntimeStatus, StartsOkAndKeepsTheCodeUnderContext) {
  lmc::rt::Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_FALSE(status.fail(LMC_STATUS_OUT_OF_MEMORY, "needs 3 GiB"));
  EXPECT_FALSE(status.addContext("model.lmcpkg"));
  EXPECT_EQ(status.code(), LMC_STATUS_OUT_OF_MEMORY);
  EXPECT_EQ(status.message(), "model.lmcpkg: needs 3 GiB");
  lmc::rt::Status plain;
  plain.fail("bad value");
  EXPECT_EQ(plain.code(), LMC_STATUS_INVALID_ARGUMENT);
  lmc::rt::Status internal;
  internal.fail(LMC_STATUS_OK, "a failure must have a code");
  EXPECT_EQ(internal.code(), LMC_STATUS_INTERNAL);
}

TEST(RuntimeStatus, AMissingFileIsNotFoundAndADirectoryIsInvalid) {
  std::string bytes;
  lmc::rt::Status missing, directory;
  EXPECT_FALSE(lmc::rt::readFile(::testing::TempDir() + "/no-such-file", bytes, missing));
  EXPECT_EQ(missing.code(), LMC_STATUS_NOT_FOUND) << missing;
  EXPECT_FALSE(lmc::rt::readFile(::testing::TempDir(), bytes, directory));
  EXPECT_EQ(directory.code(), LMC_STATUS_INVALID_ARGUMENT) << directory;
}

TEST(Version, MatchesTheHeader) {
  std::string expected = std::to_string(LMC_VERSION_MAJOR) + "." +
                         std::to_string(LMC_VERSION_MINOR) + "." +
                         std::to_string(LMC_VERSION_PATCH);
  EXPECT_EQ(lmc_version(), expected);
}

} // namespace
