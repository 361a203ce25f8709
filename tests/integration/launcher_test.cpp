// SPDX-License-Identifier: MIT
// launcher_test (integration) - the exec-in-place contract of `extsys run`:
// exit statuses, signals, pid/parent/process group, no fd leaks, ordinary
// calls unchanged, daemons, pipelines, nesting, unprivileged use, logging and
// the supervisor's exit.
#include <gtest/gtest.h>
#include <signal.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "subprocess.h"

namespace extsys::test {
namespace {

std::vector<std::string> underExtsys(std::vector<std::string> program) {
  std::vector<std::string> argv{binary("EXTSYS"), "run", "--"};
  argv.insert(argv.end(), program.begin(), program.end());
  return argv;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/extsys-it-XXXXXX";
    path = mkdtemp(tmpl);
    chmod(path.c_str(), 0777);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST(ExitStatus, IsProgramsOwn) {
  for (int code : {0, 1, 42, 124, 125, 126, 127, 255}) {
    RunResult r = run({underExtsys({binary("PROBE_CASES"), "exit_code", std::to_string(code)}), {}, 30, {}});
    EXPECT_EQ(r.exitCode(), code) << r.describe();
  }
}

TEST(ExitStatus, DeathBySignalIsKept) {
  for (int sig : {SIGTERM, SIGKILL, SIGABRT, SIGSEGV, SIGUSR1}) {
    RunResult r = run({underExtsys({binary("PROBE_CASES"), "kill_self", std::to_string(sig)}), {}, 30, {}});
    EXPECT_EQ(r.signal(), sig) << r.describe();
  }
}

TEST(ExitStatus, NotFoundIs127WithOneLine) {
  RunResult r = run({underExtsys({"extsys-no-such-program"}), {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 127) << r.describe();
  EXPECT_EQ(r.err, "extsys: extsys-no-such-program: command not found\n");
  r = run({underExtsys({"/nonexistent/dir/prog"}), {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 127) << r.describe();
}

TEST(ExitStatus, NotExecutableIs126WithOneLine) {
  TempDir d;
  std::string f = d.path + "/data";
  std::ofstream(f) << "not a program\n";
  chmod(f.c_str(), 0644);
  RunResult r = run({underExtsys({f}), {}, 30, [] {
                       // As nobody, so root's DAC override does not apply.
                       setgroups(0, nullptr);
                       if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
                         _exit(98);
                     }});
  EXPECT_EQ(r.exitCode(), 126) << r.describe();
  EXPECT_EQ(r.err, "extsys: " + f + ": Permission denied\n");
  r = run({underExtsys({d.path}), {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 126) << r.describe();
  EXPECT_EQ(r.err, "extsys: " + d.path + ": is a directory\n");
}

TEST(ExitStatus, UsageErrorsAre125) {
  RunResult r = run({{binary("EXTSYS"), "run", "--no-such-option", "--", "true"}, {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 125) << r.describe();
  r = run({{binary("EXTSYS"), "run", "--probe-errno", "0", "--", "true"}, {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 125) << r.describe();
  r = run({{binary("EXTSYS"), "run"}, {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 125) << r.describe();
}

TEST(ExecInPlace, KeepsPidParentAndProcessGroup) {
  // The child makes itself a process-group leader, then runs
  // `extsys run -- sh -c ...`; sh must be that same process.
  RunResult r = run({underExtsys({"/bin/sh", "-c",
                                  "read -r _ _ _ ppid pgrp sid _ < /proc/$$/stat; "
                                  "echo \"$$ $ppid $pgrp $sid\""}),
                     {}, 30, [] { setpgid(0, 0); }});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  std::istringstream in(r.out);
  long pid, ppid, pgrp, sid;
  in >> pid >> ppid >> pgrp >> sid;
  EXPECT_EQ(pid, r.pid);
  EXPECT_EQ(ppid, getpid());
  EXPECT_EQ(pgrp, r.pid);
  EXPECT_EQ(sid, getsid(0));
}

TEST(ExecInPlace, SupervisorIsNotAChildOfProgram) {
  RunResult r = run({underExtsys({"/bin/sh", "-c", "cat /proc/$$/task/*/children"}), {}, 30, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  std::istringstream in(r.out);
  std::vector<std::string> kids{std::istream_iterator<std::string>(in), {}};
  EXPECT_EQ(kids.size(), 1u) << "only cat itself should be sh's child: " << r.out;
}

TEST(ExecInPlace, NoFdOfExtsysLeaks) {
  RunResult bare = run({{binary("PROBE_CASES"), "fd_report"}, {}, 30, {}});
  RunResult wrapped = run({underExtsys({binary("PROBE_CASES"), "fd_report"}), {}, 30, {}});
  ASSERT_EQ(bare.exitCode(), 0) << bare.describe();
  ASSERT_EQ(wrapped.exitCode(), 0) << wrapped.describe();
  EXPECT_EQ(bare.out, wrapped.out);
}

TEST(ExecInPlace, OrdinaryCallsBehaveAsWithoutExtsys) {
  for (const char* bin : {"PROBE_CASES", "PROBE_CASES_STATIC"}) {
    RunResult bare = run({{binary(bin), "ordinary_calls"}, {}, 30, {}});
    RunResult wrapped = run({underExtsys({binary(bin), "ordinary_calls"}), {}, 30, {}});
    ASSERT_EQ(bare.exitCode(), 0) << bare.describe();
    ASSERT_EQ(wrapped.exitCode(), 0) << wrapped.describe();
    EXPECT_GT(bare.out.size(), 200u);
    EXPECT_EQ(bare.out, wrapped.out) << bin;
  }
}

TEST(ExecInPlace, PathLookupLikeExecvp) {
  TempDir d;
  std::filesystem::copy_file(binary("PROBE_CASES"), d.path + "/extsys-test-target");
  RunResult r = run({underExtsys({"extsys-test-target", "run", "clone3_cf_v2"}),
                     {"PATH=/nonexistent:" + d.path}, 30, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

TEST(Daemons, OutliveTheirParentAndStillGetAnswers) {
  TempDir d;
  const std::string result = d.path + "/result";
  RunResult r = run({underExtsys({binary("PROBE_CASES"), "daemon_probe", result}), {}, 30, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  // The parent has exited; stdout reached EOF although the daemon (and so the
  // supervisor) still lives: the supervisor does not hold our pipes.
  EXPECT_FALSE(std::filesystem::exists(result)) << "daemon finished before the parent's EOF";
  std::string text;
  for (int i = 0; i < 100 && text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(result);
    std::getline(in, text);
  }
  EXPECT_EQ(text, "ok");
}

TEST(Nesting, InnerRunFailsClearlyOrPassesThrough) {
  RunResult r = run({underExtsys({binary("EXTSYS"), "run", "--", "true"}), {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 125) << r.describe();
  EXPECT_NE(r.err.find("EBUSY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--nested=passthrough"), std::string::npos) << r.err;
  // Passthrough: the outer supervisor still answers the inner program.
  r = run({underExtsys({binary("EXTSYS"), "run", "--nested=passthrough", "--", binary("PROBE_CASES"),
                        "run", "clone3_cf_v2", "openat2_cf_misalign_0"}),
           {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

TEST(Unprivileged, WholeRunAsNobody) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root to switch to uid 65534";
  RunResult r = run({underExtsys({binary("PROBE_CASES"), "run", "unpriv_probes", "clone3_cf_v2",
                                  "mount_setattr_cf_56", "openat2_cf_misalign_5",
                                  "concurrency_16x2000"}),
                     {}, 120, [] {
                       setgroups(0, nullptr);
                       if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
                         _exit(98);
                     }});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

TEST(Logging, DebugLinePerProbeAndSupervisorExits) {
  TempDir d;
  const std::string log = d.path + "/extsys.log";
  RunResult r = run({{binary("EXTSYS"), "run", "--log-level", "debug", "--log-file", log, "--",
                      binary("PROBE_CASES"), "run", "clone3_cf_v2", "mount_setattr_cf_badflag"},
                     {}, 30, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_EQ(r.err.find("extsys"), std::string::npos) << "supervisor wrote to stderr: " << r.err;
  std::string text, pid;
  const std::regex supervisorPid(R"(extsys supervisor\[(\d+)\])");
  for (int i = 0; i < 100; ++i) {  // the supervisor logs its exit line last
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    if (text.find("no tasks left") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(text.find("probe clone3"), std::string::npos) << text;
  EXPECT_NE(text.find("probe mount_setattr"), std::string::npos) << text;
  EXPECT_NE(text.find("EINVAL"), std::string::npos) << text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, supervisorPid)) << text;
  const std::string proc = "/proc/" + m[1].str();
  for (int i = 0; i < 100 && std::filesystem::exists(proc); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(std::filesystem::exists(proc)) << "supervisor still running after its last task";
}

}  // namespace
}  // namespace extsys::test
