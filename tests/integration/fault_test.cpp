// SPDX-License-Identifier: MIT
// fault_test - never hang, never lie, never crash: the supervisor killed
// under blocked probes, programs killed/exec'd/signalled mid-probe, buffers
// unmapped mid-probe, nesting, setuid under no_new_privs, resource limits,
// and a 64 x 10 000 probe stress with fork/exec storms and flat memory.
#include <gtest/gtest.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "../sanitizers.h"
#include "subprocess.h"

namespace extsys::test {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> faults(std::vector<std::string> args, std::vector<std::string> extsysArgs = {}) {
  std::vector<std::string> argv{binary("EXTSYS"), "run"};
  argv.insert(argv.end(), extsysArgs.begin(), extsysArgs.end());
  argv.push_back("--");
  argv.push_back(binary("FAULT_CASES"));
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/extsys-fault-XXXXXX";
    path = mkdtemp(tmpl);
    chmod(path.c_str(), 0755);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The supervisor's pid, from its log line prefix.
pid_t supervisorPid(const std::string& log) {
  static const std::regex re(R"(extsys supervisor\[(\d+)\])");
  for (int i = 0; i < 500 * timeScale(); ++i) {
    std::smatch m;
    const std::string text = slurp(log);
    if (std::regex_search(text, m, re))
      return static_cast<pid_t>(std::stol(m[1].str()));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

bool waitFor(const std::string& path) {
  for (int i = 0; i < 1000 * timeScale() && !std::filesystem::exists(path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return std::filesystem::exists(path);
}

TEST(SupervisorDeath, BlockedProbesReturnEnosysWithinASecond) {
  TempDir d;
  const std::string go = d.path + "/go", log = d.path + "/log";
  RunResult r;
  std::thread program([&] {
    r = run({faults({"block_probes", "32", go}, {"--log-level", "info", "--log-file", log}), {}, 60, {}});
  });
  ASSERT_TRUE(waitFor(go + ".ready"));
  const pid_t sup = supervisorPid(log);
  ASSERT_GT(sup, 0) << slurp(log);
  ASSERT_EQ(kill(sup, SIGSTOP), 0);           // probes now block in the kernel
  std::ofstream(go) << "go";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto killed = Clock::now();
  ASSERT_EQ(kill(sup, SIGKILL), 0);
  program.join();
  const double secs = std::chrono::duration<double>(Clock::now() - killed).count();
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("noop=0 enosys=32 other=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("later_probe=ENOSYS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ordinary_open=ok"), std::string::npos) << r.out;
  // A second on real hardware; EXTSYS_TEST_TIME_SCALE stretches it under
  // emulation (the qemu guests), where the program's own exit after the
  // probes return is slow too.
  EXPECT_LT(secs, 1.0 * timeScale())
      << "every blocked probe returns within a second of the kill (x EXTSYS_TEST_TIME_SCALE)";
  std::cout << r.out << "returned " << secs * 1000 << " ms after SIGKILL\n";
}

struct Storm {
  const char* name;
  std::vector<std::string> args;
  const char* expect;
};

class Storms : public ::testing::TestWithParam<Storm> {};

TEST_P(Storms, EveryAnswerRightSupervisorServesOn) {
  RunResult r = run({faults(GetParam().args), {}, 120, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find(GetParam().expect), std::string::npos) << r.out;
  std::cout << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Faults, Storms,
    ::testing::Values(
        Storm{"ProgramsKilledOrExitingMidProbe", {"fork_kill_storm", "5"}, "wrong=0 bad_children=0"},
        Storm{"ExecWhileOtherThreadsProbe", {"exec_storm", "5"}, "failures=0"},
        Storm{"SignalsWithSaRestart", {"signal_storm", "5", "1"}, "wrong=0"},
        Storm{"SignalsWithoutSaRestart", {"signal_storm", "5", "0"}, "wrong=0"},
        Storm{"BufferUnmappedOrReadOnlyMidProbe", {"unmap_storm", "5"}, "other=0 answered_after=ok"},
        Storm{"ProgramWantsItsOwnListener", {"own_listener"},
              "new_listener=EBUSY plain_filter=ok probes_still_answered=yes"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Stress, SixtyFourThreadsTenThousandProbesEachFlatMemory) {
  TempDir d;
  const std::string log = d.path + "/log";
  RunResult r;
  std::thread program([&] {
    r = run({faults({"stress", "64", "10000"}, {"--log-level", "info", "--log-file", log}), {}, 600, {}});
  });
  const pid_t sup = supervisorPid(log);
  long first = -1, peak = 0, last = 0;
  const std::string status = "/proc/" + std::to_string(sup) + "/status";
  while (std::filesystem::exists(status)) {
    std::istringstream in(slurp(status));
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0) {
        last = std::stol(line.substr(6));
        if (first < 0)
          first = last;
        peak = std::max(peak, last);
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  program.join();
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("probes=640000 wrong=0"), std::string::npos) << r.out;
  ASSERT_GT(first, 0);
  // ASan's quarantine holds freed blocks (up to 256 MiB) on purpose, and
  // TSan's shadow grows with every address touched: a flat-memory bound
  // means something only in a plain build. The answers are checked above.
  if (!kAnySanitizer)
    EXPECT_LT(peak - first, 1024) << "supervisor RSS grew by more than 1 MiB: " << first << " -> " << peak;
  else
    std::cout << "memory bound not checked under a sanitizer\n";
  std::cout << r.out << "supervisor VmRSS first " << first << " kB, peak " << peak << " kB, last " << last
            << " kB\n";
}

// The supervisor's closing log line: "... no tasks left: N worker(s); ...".
int workersInLog(const std::string& log) {
  static const std::regex re(R"(no tasks left: (\d+) worker\(s\); answered (\d+))");
  std::smatch m;
  const std::string text = slurp(log);
  return std::regex_search(text, m, re) ? std::stoi(m[1].str()) : -1;
}

bool goneWithin(pid_t pid, int seconds) {
  const std::string dir = "/proc/" + std::to_string(pid);
  for (int i = 0; i < seconds * 100 * timeScale() && std::filesystem::exists(dir); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return !std::filesystem::exists(dir);
}

// One worker serves until probes queue up while it is busy; then more
// start, up to --threads (default: one per two CPUs, so none on a 2-CPU
// machine: there a second worker made probes slower, issue 22). All stop
// with the program.
TEST(Workers, MoreStartOnlyUnderConcurrentProbesAndAllStopWithTheProgram) {
  const unsigned cpus = std::thread::hardware_concurrency();
  struct Case {
    std::vector<std::string> extsysArgs;
    std::vector<std::string> program;
    int minWorkers, maxWorkers;
  };
  const std::string probes = binary("PROBE_CASES");
  const int most = static_cast<int>(std::clamp(cpus / 2, 1u, 8u));
  const std::vector<Case> cases{
      {{}, {"/bin/true"}, 1, 1},  // nothing to answer: no second thread
      {{}, {probes, "run", "concurrency_16x2000"}, std::min(2, most), most},
      {{"--threads", "1"}, {probes, "run", "concurrency_16x2000"}, 1, 1},
      {{"--threads", "3"}, {probes, "run", "concurrency_16x2000"}, 2, 3},
  };
  for (const Case& c : cases) {
    TempDir d;
    const std::string log = d.path + "/log";
    std::vector<std::string> argv{binary("EXTSYS"), "run", "--log-level", "info", "--log-file", log};
    argv.insert(argv.end(), c.extsysArgs.begin(), c.extsysArgs.end());
    argv.push_back("--");
    argv.insert(argv.end(), c.program.begin(), c.program.end());
    RunResult r = run({argv, {"EXTSYS_EXPECT=emulated"}, 120, {}});
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
    const pid_t sup = supervisorPid(log);
    ASSERT_GT(sup, 0) << slurp(log);
    EXPECT_TRUE(goneWithin(sup, 5)) << "the supervisor outlived its program by 5 s";
    const int n = workersInLog(log);
    EXPECT_GE(n, c.minWorkers) << c.program.back() << "\n" << slurp(log);
    EXPECT_LE(n, c.maxWorkers) << c.program.back() << "\n" << slurp(log);
  }
  // A usage error (README, "Exit status"): 2, as on every command.
  EXPECT_EQ(run({{binary("EXTSYS"), "run", "--threads", "0", "--", "/bin/true"}, {}, 30, {}}).exitCode(),
            2);
}

TEST(Nesting, SetuidBinaryRunsWithoutItsPrivilegesUnderNoNewPrivs) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root to make a setuid-root copy";
  TempDir d;
  const std::string id = d.path + "/id";
  std::filesystem::copy_file("/usr/bin/id", id);
  ASSERT_EQ(chown(id.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(id.c_str(), 04755), 0);
  auto asNobody = [] {
    setgroups(0, nullptr);
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
      _exit(98);
  };
  RunResult bare = run({{id, "-u"}, {}, 30, asNobody});
  if (bare.out != "0\n")
    GTEST_SKIP() << "setuid does not work on this filesystem (nosuid?): " << bare.describe();
  RunResult wrapped = run({{binary("EXTSYS"), "run", "--", id, "-u"}, {}, 30, asNobody});
  EXPECT_EQ(wrapped.exitCode(), 0) << wrapped.describe();
  EXPECT_EQ(wrapped.out, "65534\n") << "no_new_privs: the setuid bit is ignored, as documented";
}

TEST(Limits, FewFileDescriptorsAndLittleMemoryStillServe) {
  RunResult r = run({{binary("EXTSYS"), "run", "--", binary("PROBE_CASES"), "run", "clone3_cf_v2",
                      "openat2_cf_misalign_3", "mount_setattr_cf_56", "desc_fork_child"},
                     {},
                     120,
                     [] {
                       rlimit fds{16, 16};
                       setrlimit(RLIMIT_NOFILE, &fds);
                       // The limits are inherited by the supervisor too.
                       // Not the address-space one under a sanitizer: its
                       // shadow memory alone reserves terabytes.
                       if (!kAnySanitizer) {
                         rlimit as{256UL << 20, 256UL << 20};
                         setrlimit(RLIMIT_AS, &as);
                       }
                     }});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

}  // namespace
}  // namespace extsys::test
