// SPDX-License-Identifier: MIT
// cli_test (integration) - the command line as a careless user and an
// attacker meet it: every usage error is one "extsys:" line naming what was
// not understood, with status 2 on every command; help and -V do what people
// expect; --audit and --log-file refuse paths that cannot be used or are
// traps (symbolic links, another user's file) before anything starts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_contract.h"

namespace extsys::test {
namespace {

std::vector<std::string> extsysArgs(std::vector<std::string> args) {
  args.insert(args.begin(), binary("EXTSYS"));
  return args;
}

struct Usage {
  std::vector<std::string> args;
  std::string names;  // what the message must contain
};

TEST(Usage, EveryUsageErrorIsOneLineNamingItWithStatus2) {
  const std::vector<Usage> cases = {
      {{}, "a command is required"},
      {{"frob"}, "unknown command 'frob'"},
      {{"-x"}, "unknown option '-x'"},
      {{"run", "--bogus", "--", "true"}, "unknown option '--bogus'"},
      {{"run", "--bogus"}, "unknown option '--bogus'"},
      {{"run"}, "no PROGRAM given"},
      {{"run", "--probe-errno", "0", "--", "true"}, "--probe-errno"},
      {{"run", "--probe-errno", "x", "--", "true"}, "--probe-errno"},
      {{"run", "--threads", "65", "--", "true"}, "--threads"},
      {{"run", "--process-model", "sideways", "--", "true"}, "--process-model"},
      {{"run", "--policy", "", "--", "true"}, "--policy"},
      {{"run", "--audit", "", "--", "true"}, "--audit"},
      {{"run", "--log-file", "", "--", "true"}, "--log-file"},
      {{"run", "--audit", "-", "--", "true"}, "--audit needs a FILE"},
      {{"run", "--policy", "a", "--policy", "b", "--", "true"}, "--policy: given more than once"},
      {{"features", "--bogus"}, "features: unknown option '--bogus'"},
      {{"features", "extra"}, "features: unexpected argument 'extra'"},
      {{"features", "--policy", ""}, "--policy"},
      {{"policy"}, "policy: a command is required"},
      {{"policy", "frob"}, "policy: unknown command 'frob'"},
      {{"policy", "check"}, "policy check: policy is required"},
      {{"policy", "check", ""}, "policy"},
      {{"agent", "--threads", "0"}, "agent: --threads"},
      {{"agent", "--max-fds", "0"}, "agent: --max-fds"},
      {{"agent", "--max-connections", "x"}, "agent: --max-connections"},
      {{"agent", "--socket", ""}, "agent: --socket"},
      {{"agent", "--audit", "-"}, "--audit needs a FILE"},
      {{"oci-profile", "--bogus"}, "oci-profile: unknown option '--bogus'"},
      {{"oci-profile", "--policy", ""}, "oci-profile: --policy"},
      {{"oci-profile", "--socket", "/" + std::string(120, 's')}, "longer than 107 bytes"},
      {{"agent", "--socket", "/" + std::string(120, 's')}, "agent: --socket: /sss"},
      {{"help", "frob"}, "help: unknown command 'frob'"},
      {{"help", "policy", "frob"}, "help: unknown command 'frob'"},
  };
  for (const auto& c : cases) {
    RunResult r = run({extsysArgs(c.args), {}, 30, {}});
    std::string cmdline;
    for (const auto& a : c.args)
      cmdline += " '" + a + "'";
    EXPECT_EQ(r.exitCode(), 2) << "extsys" << cmdline << "\n" << r.describe();
    EXPECT_TRUE(r.err.starts_with("extsys: ")) << "extsys" << cmdline << "\n" << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << "extsys" << cmdline << "\n" << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: extsys" << cmdline << "\n" << r.err;
    EXPECT_EQ(r.out, "") << "extsys" << cmdline;
  }
}

TEST(Usage, HelpAndVersionDoWhatPeopleExpect) {
  RunResult version = run({extsysArgs({"--version"}), {}, 30, {}});
  ASSERT_EQ(version.exitCode(), 0) << version.describe();
  EXPECT_TRUE(version.out.starts_with("extsys ")) << version.out;
  for (const char* v : {"-V", "version"}) {
    RunResult r = run({extsysArgs({v}), {}, 30, {}});
    EXPECT_EQ(r.exitCode(), 0) << v << "\n" << r.describe();
    EXPECT_EQ(r.out, version.out) << v;
  }
  const std::vector<std::pair<std::vector<std::string>, std::string>> helps = {
      {{"help"}, "Subcommands:"},
      {{"--help"}, "Subcommands:"},
      {{"help", "run"}, "--probe-errno"},
      {{"help", "agent"}, "--max-connections"},
      {{"help", "policy", "check"}, "--quiet"},
      {{"policy", "check", "--help"}, "--quiet"},
  };
  for (const auto& [args, shows] : helps) {
    RunResult r = run({extsysArgs(args), {}, 30, {}});
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
    EXPECT_NE(r.out.find(shows), std::string::npos) << args.back() << "\n" << r.out;
    EXPECT_NE(r.out.find("Exit status"), std::string::npos) << args.back() << "\n" << r.out;
  }
  // `help run` is `run --help`.
  EXPECT_EQ(run({extsysArgs({"help", "run"}), {}, 30, {}}).out,
            run({extsysArgs({"run", "--help"}), {}, 30, {}}).out);
}

// --audit and --log-file: a path that cannot be used stops everything at
// start, with the path and the reason, exit 125; the program never runs.
TEST(OutputFiles, UnusablePathFailsAtStartNamingIt) {
  TempDir dir;
  const std::string marker = dir.path + "/ran";
  const std::vector<std::string> touch = {"/bin/sh", "-c", "touch " + marker};
  for (const char* option : {"--audit", "--log-file"}) {
    std::vector<std::string> argv = {binary("EXTSYS"), "run", option, "/nonexistent-dir/f", "--"};
    argv.insert(argv.end(), touch.begin(), touch.end());
    RunResult r = run({argv, {}, 30, {}});
    EXPECT_EQ(r.exitCode(), 125) << option << "\n" << r.describe();
    EXPECT_EQ(r.err, "extsys: /nonexistent-dir/f: No such file or directory\n") << option;
    EXPECT_FALSE(std::filesystem::exists(marker)) << option;
  }
  RunResult r = run({{binary("EXTSYS"), "agent", "--socket", dir.path + "/a.sock", "--audit",
                      "/nonexistent-dir/a.jsonl"},
                     {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 1) << r.describe();
  EXPECT_EQ(r.err, "extsys: /nonexistent-dir/a.jsonl: No such file or directory\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/a.sock")) << "the agent did not start";
  r = run({{binary("EXTSYS"), "agent", "--socket", dir.path + "/a.sock", "--log-file",
            "/nonexistent-dir/log"},
           {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 1) << r.describe();
  EXPECT_EQ(r.err, "extsys: /nonexistent-dir/log: No such file or directory\n");
}

// Root appending to a file through a link someone left in /tmp, or to a file
// someone else created there, would write where that someone chose.
TEST(OutputFiles, SymlinksAndOtherUsersFilesAreRefused) {
  TempDir dir;
  const std::string target = dir.path + "/precious";
  std::ofstream(target) << "precious\n";
  const std::string link = dir.path + "/link.jsonl";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  for (const char* option : {"--audit", "--log-file"}) {
    RunResult r = run({{binary("EXTSYS"), "run", option, link, "--log-level", "debug", "--",
                        binary("PROBE_CASES"), "run", "clone3_cf_v2"},
                       {}, 30, {}});
    EXPECT_EQ(r.exitCode(), 125) << option << "\n" << r.describe();
    EXPECT_EQ(r.err, "extsys: " + link + ": a symbolic link; refused (name the file itself)\n")
        << option;
  }
  std::ifstream in(target);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "precious\n");
  if (geteuid() == 0) {
    const std::string theirs = dir.path + "/theirs.jsonl";
    std::ofstream(theirs) << "";
    ASSERT_EQ(chown(theirs.c_str(), 65534, 65534), 0);
    RunResult r = run({{binary("EXTSYS"), "run", "--audit", theirs, "--", "true"}, {}, 30, {}});
    EXPECT_EQ(r.exitCode(), 125) << r.describe();
    EXPECT_NE(r.err.find(theirs + ": owned by uid 65534, not by us (uid 0); refused"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(std::filesystem::file_size(theirs), 0u);
  }
}

TEST(OutputFiles, CreatedOwnerOnlyAndWritten) {
  TempDir dir;
  const std::string audit = dir.path + "/audit.jsonl", log = dir.path + "/extsys.log";
  RunResult r = run({{binary("EXTSYS"), "run", "--audit", audit, "--log-file", log, "--log-level",
                      "debug", "--", binary("PROBE_CASES"), "run", "clone3_cf_v2"},
                     {}, 30, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  for (const std::string& f : {audit, log}) {
    struct stat st {};
    ASSERT_EQ(stat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << f;
    // The supervisor may still be writing its last lines.
    for (int i = 0; i < 100 && st.st_size == 0; ++i) {
      usleep(20000);
      stat(f.c_str(), &st);
    }
    EXPECT_GT(st.st_size, 0) << f;
  }
}

}  // namespace
}  // namespace extsys::test
