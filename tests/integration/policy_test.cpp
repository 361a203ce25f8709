// SPDX-License-Identifier: MIT
// policy_test (integration) - the shipped policies under the real
// supervisor: personas behave like their kernels for a fallback-testing
// program, sandbox-strict holds against racing threads and side doors,
// `policy check` is line-accurate, audit lines are JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <fstream>
#include <sstream>

#include "subprocess.h"

namespace extsys::test {
namespace {

std::vector<std::string> under(const std::string& policy, std::vector<std::string> program) {
  std::vector<std::string> argv{binary("EXTSYS"), "run", "--policy", policy, "--"};
  argv.insert(argv.end(), program.begin(), program.end());
  return argv;
}

std::string testPolicy(const char* name) {
  return std::string(binary("TEST_POLICIES")) + "/" + name + ".toml";
}

class Personas : public ::testing::TestWithParam<std::string> {};

TEST_P(Personas, ProgramUsingWhatItWasToldSucceeds) {
  RunResult r = run({under(GetParam(), {binary("POLICY_CASES"), "use-told"}), {}, 120, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("summary ok="), std::string::npos) << r.out;
}

TEST_P(Personas, ProgramUsingMoreGetsWhatThatKernelAnswers) {
  RunResult r = run({under(GetParam(), {binary("POLICY_CASES"), "use-more"}), {}, 120, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Shipped, Personas,
                         ::testing::Values("kernel-5.10", "kernel-5.15", "kernel-6.1",
                                           "no-check-fields", "sandbox-strict"),
                         [](const auto& p) {
                           std::string n = p.param;
                           for (char& c : n)
                             if (c == '-' || c == '.')
                               c = '_';
                           return n;
                         });

TEST(Personas, Kernel510IsTold510) {
  RunResult r = run({under("kernel-5.10", {binary("POLICY_CASES"), "told"}), {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("openat2 errno=134 flags=0x7fffc3 mode=0xfff resolve=0x1f"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("clone3 errno=134 flags=0x3ffffffff size=88"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mount_setattr errno=ENOSYS"), std::string::npos) << r.out;
}

TEST(Personas, NoCheckFieldsPassesProbesToTheKernel) {
  RunResult r = run({under("no-check-fields", {binary("PROBE_CASES"), "run", "clone3_cf_v2",
                                               "openat2_cf_misalign_3", "mount_setattr_cf_56",
                                               "mount_setattr_cf_badflag"}),
                     {"EXTSYS_EXPECT=native"}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

TEST(SandboxStrict, SideDoorsAreClosed) {
  RunResult r = run({under("sandbox-strict", {binary("POLICY_CASES"), "sidedoors"}),
                     {"EXTSYS_EXPECT_SIDEDOORS=closed"}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

TEST(SandboxStrict, LegacyFallbacksAreCheckedInTheKernel) {
  RunResult r = run({under("sandbox-strict", {binary("POLICY_CASES"), "legacy"}), {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  for (const char* line : {"clone SIGCHLD -> ok", "clone CLONE_NEWUSER|SIGCHLD -> EPERM",
                           "unshare CLONE_NEWUSER -> EPERM", "openat . O_RDONLY|O_DIRECTORY -> fd",
                           "mount MS_RDONLY|MS_REMOUNT|MS_BIND /nonexistent -> EPERM",
                           "fsmount -1 0 MOUNT_ATTR_RDONLY -> EPERM"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
}

TEST(SandboxStrict, OrdinaryProgramsStillRun) {
  // clone3 is hidden: glibc falls back to clone for fork, threads, spawn.
  RunResult r = run({under("sandbox-strict", {"/bin/sh", "-c", "ls / >/dev/null && echo ok"}), {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_EQ(r.out, "ok\n");
  r = run({under("sandbox-strict", {binary("PROBE_CASES"), "run", "concurrency_16x2000"}),
           {"EXTSYS_EXPECT=emulated"}, 120, {}});
  // Every probe is hidden now: the case sees three missing syscalls and
  // skips - proof that the policy, not the default, is in force.
  EXPECT_EQ(r.exitCode(), 77) << r.describe();
}

// Strict mode against racing threads: a thread flips the struct between an
// allowed and a forbidden value while another calls the syscall. 10 s each.
TEST(StrictRace, NoForbiddenCallGetsThrough) {
  const std::string policy = testPolicy("strict-race");
  char tmpl[] = "/tmp/extsys-race-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  for (const char* sys : {"clone3", "openat2"}) {
    RunResult r = run({under(policy, {binary("POLICY_CASES"), "race", "10", sys}),
                       {std::string("EXTSYS_RACE_FILE=") + tmpl}, 120, {}});
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
    EXPECT_NE(r.out.find("forbidden_through=0 "), std::string::npos) << r.out;
    std::cout << r.out;
  }
  RunResult r = run({under(policy, {binary("POLICY_CASES"), "race-legacy", "5"}), {}, 120, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  std::cout << r.out;
  unlink(tmpl);
}

TEST(PolicyCheck, ShippedPoliciesAreValid) {
  RunResult r = run({{binary("EXTSYS"), "policy", "check", "kernel-5.10", "kernel-5.15", "kernel-6.1",
                      "no-check-fields", "sandbox-strict"},
                     {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
#if defined(__x86_64__)
  EXPECT_NE(r.out.find("BPF: ENOSYS for every i386 and x32 call"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("no rule ("), std::string::npos) << r.out;
#elif defined(__aarch64__)
  EXPECT_NE(r.out.find("BPF: ENOSYS for every AArch32 (arm) call"), std::string::npos) << r.out;
  // sandbox-strict's rules for open(2) and creat(2): there are no such calls.
  EXPECT_NE(r.out.find("no rule (aarch64 has no such call): creat open\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("BPF: open "), std::string::npos) << r.out;
#endif
}

TEST(PolicyCheck, ErrorsAreLineAccurateAndStopEverything) {
  char dir[] = "/tmp/extsys-policy-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string bad = std::string(dir) + "/bad.toml";
  std::ofstream(bad) << "description = \"x\"\n\n[clone3]\ncall = \"restrict\"\n[clone3.forbid]\n"
                        "flags = [\"CLONE_NEWUSER\", \"CLONE_NEWFOO\"]\n";
  RunResult r = run({{binary("EXTSYS"), "policy", "check", bad}, {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  EXPECT_EQ(r.err.substr(0, r.err.find(" (known")),
            bad + ":6:27: unknown flag 'CLONE_NEWFOO' for clone3.flags");
  // `run` with a bad policy starts nothing: the program never runs.
  const std::string marker = std::string(dir) + "/ran";
  r = run({{binary("EXTSYS"), "run", "--policy", bad, "--", "/bin/sh", "-c", "touch " + marker}, {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  EXPECT_FALSE(std::filesystem::exists(marker));
  r = run({{binary("EXTSYS"), "run", "--policy", "no-such-policy", "--", "true"}, {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  EXPECT_NE(r.err.find("policy 'no-such-policy' not found"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

TEST(Audit, OneJsonLinePerDecision) {
  char dir[] = "/tmp/extsys-audit-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string audit = std::string(dir) + "/audit.jsonl";
  RunResult r = run({{binary("EXTSYS"), "run", "--policy", "kernel-5.10", "--audit", audit, "--",
                      binary("POLICY_CASES"), "use-more"},
                     {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  // The supervisor may still be writing its last line: wait for it to go.
  for (int i = 0; i < 50; ++i)
    usleep(20000);
  RunResult v = run({{"/usr/bin/python3", "-c",
                      "import json,sys\n"
                      "keys={'time','pid','tid','comm','syscall','kind','size','decision','errno'}\n"
                      "lines=open(sys.argv[1]).read().splitlines()\n"
                      "docs=[json.loads(l) for l in lines]\n"
                      "assert docs, 'no audit lines'\n"
                      "for d in docs: assert keys <= d.keys(), d\n"
                      "assert any(d['kind']=='probe' and d['decision']=='answered' and d['errno']==134 for d in docs)\n"
                      "assert any(d['kind']=='call' and d['decision']=='denied' and d['errno']==22 and d['syscall']=='openat2' for d in docs)\n"
                      "assert all(d['comm']=='policy_cases' for d in docs), docs\n"
                      "print(len(docs))\n",
                      audit},
                     {}, 60, {}});
  EXPECT_EQ(v.exitCode(), 0) << v.describe();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace extsys::test
