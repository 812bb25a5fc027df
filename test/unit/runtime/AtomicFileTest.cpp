// Tests the runtime's outputs and whole-file reads: a file is replaced whole
// or not at all, through an exclusive temporary; devices, pipes and stdout
// are written in place and never replaced; directories are refused; a
// temporary is removed on failure, on SIGTERM, and, when its process was
// killed, by the next write.

#include "io/AtomicFile.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace lmc::rt;

class AtomicFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    char name[] = "/tmp/lmc-atomic-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    directory = name;
  }
  void TearDown() override { std::system(("rm -rf '" + directory + "'").c_str()); }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    DIR *folder = ::opendir(directory.c_str());
    while (dirent *entry = ::readdir(folder))
      if (std::string(entry->d_name) != "." && std::string(entry->d_name) != "..")
        names.push_back(entry->d_name);
    ::closedir(folder);
    return names;
  }

  std::string contents(const std::string &path) const {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string directory;
};

TEST_F(AtomicFileTest, WritesAndReplacesRegularFilesLeavingNoTemporary) {
  std::string path = directory + "/out.txt";
  Status error;
  ASSERT_TRUE(writeFileAtomically(path, "first", error)) << error;
  ASSERT_TRUE(writeFileAtomically(path, "second", error)) << error;
  EXPECT_EQ(contents(path), "second");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.txt"});
  struct stat status;
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_NE(status.st_mode & 0044, 0u) << "a new file has the umask's permissions, not 0600";
}

TEST_F(AtomicFileTest, RefusesADirectoryAndLeavesIt) {
  Status error;
  ASSERT_EQ(::mkdir((directory + "/d").c_str(), 0755), 0);
  EXPECT_FALSE(writeFileAtomically(directory + "/d", "x", error));
  EXPECT_EQ(error.message(), "cannot write '" + directory + "/d': it is a directory");
  struct stat status;
  ASSERT_EQ(::stat((directory + "/d").c_str(), &status), 0);
  EXPECT_TRUE(S_ISDIR(status.st_mode));
  EXPECT_EQ(entries(), std::vector<std::string>{"d"});
}

TEST_F(AtomicFileTest, WritesDevicesAndPipesInPlace) {
  Status error;
  ASSERT_TRUE(writeFileAtomically("/dev/null", "discarded", error)) << error;
  struct stat status;
  ASSERT_EQ(::stat("/dev/null", &status), 0);
  EXPECT_TRUE(S_ISCHR(status.st_mode)) << "/dev/null must stay a device";

  std::string fifo = directory + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  pid_t reader = ::fork();
  if (reader == 0) {
    std::ifstream in(fifo);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ::_exit(text == "through the pipe" ? 0 : 1);
  }
  ASSERT_TRUE(writeFileAtomically(fifo, "through the pipe", error)) << error;
  int code = 0;
  ASSERT_EQ(::waitpid(reader, &code, 0), reader);
  EXPECT_TRUE(WIFEXITED(code) && WEXITSTATUS(code) == 0);
  ASSERT_EQ(::stat(fifo.c_str(), &status), 0);
  EXPECT_TRUE(S_ISFIFO(status.st_mode));
}

TEST_F(AtomicFileTest, AnUncommittedOutputLeavesNothing) {
  std::string path = directory + "/out.txt";
  Status error;
  {
    OutputFile out;
    ASSERT_TRUE(out.open(path, error)) << error;
    ASSERT_TRUE(out.write("partial", error)) << error;
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(AtomicFileTest, TheNextWriteRemovesTemporariesOfKilledProcesses) {
  // A process killed between write and rename (kill -9) leaves its
  // temporary; pid 0x7ffffff0 runs nowhere, pid 1 always runs.
  std::string dead = ".out.txt.lmc-2147483632-abcdef", alive = ".out.txt.lmc-1-abcdef";
  std::ofstream(directory + "/" + dead) << "stale";
  std::ofstream(directory + "/" + alive) << "someone else's";
  Status error;
  ASSERT_TRUE(writeFileAtomically(directory + "/out.txt", "new", error)) << error;
  std::vector<std::string> names = entries();
  EXPECT_EQ(std::count(names.begin(), names.end(), dead), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), alive), 1);
}

TEST_F(AtomicFileTest, ASymlinkIsKeptAndItsTargetReplacedWithItsMode) {
  std::string target = directory + "/target.txt", link = directory + "/link.txt";
  Status error;
  std::ofstream(target) << "old";
  ASSERT_EQ(::chmod(target.c_str(), 0600), 0);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  ASSERT_TRUE(writeFileAtomically(link, "new", error)) << error;
  struct stat status;
  ASSERT_EQ(::lstat(link.c_str(), &status), 0);
  EXPECT_TRUE(S_ISLNK(status.st_mode));
  EXPECT_EQ(contents(target), "new");
  ASSERT_EQ(::stat(target.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0600u) << "a replaced file keeps its permissions";
}

TEST_F(AtomicFileTest, OnlyItsOwnTemporariesAreSwept) {
  // A name that merely starts like a temporary is someone else's file.
  std::string foreign = ".out.txt.lmc-2147483632-foo";
  std::ofstream(directory + "/" + foreign) << "not ours";
  Status error;
  ASSERT_TRUE(writeFileAtomically(directory + "/out.txt", "new", error)) << error;
  std::vector<std::string> names = entries();
  EXPECT_EQ(std::count(names.begin(), names.end(), foreign), 1);
}

TEST_F(AtomicFileTest, IgnoredSignalsStayIgnored) {
  pid_t child = ::fork();
  if (child == 0) {
    std::signal(SIGHUP, SIG_IGN); // as nohup leaves it
    removeTemporariesOnSignals();
    ::_exit(std::signal(SIGHUP, SIG_IGN) == SIG_IGN ? 0 : 1);
  }
  int code = 0;
  ASSERT_EQ(::waitpid(child, &code, 0), child);
  EXPECT_TRUE(WIFEXITED(code) && WEXITSTATUS(code) == 0);
}

TEST_F(AtomicFileTest, SigtermRemovesTheTemporary) {
  std::string path = directory + "/out.txt";
  pid_t child = ::fork();
  if (child == 0) {
    removeTemporariesOnSignals();
    OutputFile out;
    Status error;
    if (!out.open(path, error) || !out.write("half", error))
      ::_exit(2);
    ::raise(SIGTERM);
    ::_exit(3);
  }
  int code = 0;
  ASSERT_EQ(::waitpid(child, &code, 0), child);
  EXPECT_TRUE(WIFSIGNALED(code) && WTERMSIG(code) == SIGTERM);
  EXPECT_TRUE(entries().empty());
}

TEST_F(AtomicFileTest, ReadsOnlyRegularFiles) {
  std::string bytes;
  Status error;
  EXPECT_FALSE(readFile(directory, bytes, error));
  EXPECT_EQ(error.message(), "cannot read '" + directory + "': it is a directory");
  std::string fifo = directory + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(readFile(fifo, bytes, error)) << "a pipe may never end";
  EXPECT_EQ(error.message(), "cannot read '" + fifo + "': it is not a regular file");
  EXPECT_FALSE(readFile(directory + "/absent", bytes, error));
  EXPECT_EQ(error.message(), "cannot read '" + directory + "/absent': No such file or directory");
}

} // namespace
