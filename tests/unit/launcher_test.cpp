// SPDX-License-Identifier: MIT
// launcher_test - PATH search as execvp does it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "launcher/launcher.h"

namespace extsys::launcher {
namespace {

class FindProgram : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/extsys-find-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/a");
    std::filesystem::create_directories(dir_ + "/b");
    make(dir_ + "/a/noexec", 0644);
    make(dir_ + "/b/noexec", 0755);
    make(dir_ + "/a/only", 0644);
    make(dir_ + "/b/tool", 0755);
    std::filesystem::create_directories(dir_ + "/a/isdir");
    if (const char* p = std::getenv("PATH"))
      oldPath_ = p;
  }
  void TearDown() override {
    setenv("PATH", oldPath_.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }
  static void make(const std::string& p, mode_t mode) {
    std::ofstream(p) << "#!/bin/sh\n";
    chmod(p.c_str(), mode);
  }
  std::string dir_, oldPath_;
};

TEST_F(FindProgram, SearchesPathInOrderSkippingNonExecutables) {
  setenv("PATH", (dir_ + "/a:" + dir_ + "/b").c_str(), 1);
  auto r = findProgram("noexec");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, dir_ + "/b/noexec");
  r = findProgram("tool");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, dir_ + "/b/tool");
}

TEST_F(FindProgram, ReportsEaccesWhenOnlyNonExecutablesExist) {
  if (geteuid() == 0 && access((dir_ + "/a/only").c_str(), X_OK) == 0)
    GTEST_SKIP() << "root with CAP_DAC_OVERRIDE may execute anything with an x bit";
  setenv("PATH", (dir_ + "/a:" + dir_ + "/b").c_str(), 1);
  auto r = findProgram("only");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err(), EACCES);
}

TEST_F(FindProgram, ReportsEnoentWhenNothingMatches) {
  setenv("PATH", (dir_ + "/a:" + dir_ + "/b").c_str(), 1);
  auto r = findProgram("absent");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err(), ENOENT);
  EXPECT_EQ(findProgram("").error().err(), ENOENT);
}

TEST_F(FindProgram, DirectoriesAreNotPrograms) {
  setenv("PATH", (dir_ + "/a").c_str(), 1);
  EXPECT_EQ(findProgram("isdir").error().err(), EACCES);
  EXPECT_EQ(findProgram(dir_ + "/a/isdir").error().err(), EISDIR);
}

TEST_F(FindProgram, NamesWithSlashAreNotSearched) {
  setenv("PATH", (dir_ + "/b").c_str(), 1);
  EXPECT_EQ(findProgram("./tool").error().err(), ENOENT);
  auto r = findProgram(dir_ + "/b/tool");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(findProgram(dir_ + "/nope/tool").error().err(), ENOENT);
}

TEST_F(FindProgram, EmptyPathEntryMeansCurrentDirectory) {
  setenv("PATH", ":/nonexistent", 1);
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(chdir((dir_ + "/b").c_str()), 0);
  auto r = findProgram("tool");
  ASSERT_EQ(chdir(cwd), 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "./tool");
}

}  // namespace
}  // namespace extsys::launcher
