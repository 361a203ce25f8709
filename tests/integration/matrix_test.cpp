// SPDX-License-Identifier: MIT
// matrix_test.cpp - `extsys matrix` on the real kernel: the README's example
// (tools/examples/cached_open.c) takes the right fallback under every persona, a
// variant without fallbacks fails exactly where its kernel lacks
// RESOLVE_CACHED, --jobs runs overlap, and a hanging command is killed at
// --timeout. Facts per release are VERSIONS.md's: openat2 5.6,
// RESOLVE_CACHED 5.12.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "subprocess.h"

namespace extsys::test {
namespace {

using nlohmann::json;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/extsys-matrix-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::vector<std::string> matrix(std::vector<std::string> options, std::vector<std::string> command) {
  std::vector<std::string> argv = {binary("EXTSYS"), "matrix"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

// "5.10" -> {5, 10}; "this kernel" and "no CHECK_FIELDS" -> this kernel's
// (newer than every fact checked here: the suite runs on 6.18).
std::pair<int, int> release(const std::string& label) {
  int major = 99, minor = 0;
  std::sscanf(label.c_str(), "%d.%d", &major, &minor);
  return {major, minor};
}

// Python's XML parser on the JUnit file: tests, failures, failed names.
std::string junitSummary(const std::string& file) {
  RunResult r = run({{"/usr/bin/python3", "-c",
                      "import sys, xml.etree.ElementTree as ET\n"
                      "s = ET.parse(sys.argv[1]).getroot().find('testsuite')\n"
                      "cases = s.findall('testcase')\n"
                      "assert int(s.get('tests')) == len(cases)\n"
                      "failed = [c.get('name') for c in cases if c.find('failure') is not None]\n"
                      "assert int(s.get('failures')) == len(failed)\n"
                      "print(len(cases), ' '.join(failed))\n"
                      "for c in cases:\n"
                      "  f = c.find('failure')\n"
                      "  if f is not None: print(c.get('name'), f.get('message'), (f.text or '').strip())\n",
                      file},
                     {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  return r.out;
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const json* runNamed(const json& doc, const std::string& label) {
  for (const auto& r : doc["runs"])
    if (r["kernel"] == label)
      return &r;
  return nullptr;
}

bool hasEntry(const json& list, const std::string& syscall, const char* key, const std::string& v) {
  return std::any_of(list.begin(), list.end(),
                     [&](const json& e) { return e["syscall"] == syscall && e[key] == v; });
}

// Every persona extsys lists, with the right path taken and the right probe
// answers seen; JSON and JUnit agree.
TEST(Matrix, ExampleTakesTheRightFallbackOnEveryKernel) {
  TempDir dir;
  const std::string junit = dir.path + "/junit.xml";
  RunResult r = run({matrix({"--json", "--junit", junit, "--jobs", "4"},
                            {binary("CACHED_OPEN")}),
                     {}, 120, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  const json doc = json::parse(r.out);
  RunResult names = run({{binary("EXTSYS"), "policy", "list", "--names"}, {}, 30, {}});
  std::vector<std::string> personas;
  std::istringstream in(names.out);
  for (std::string n; std::getline(in, n);)
    if (n.starts_with("kernel-"))
      personas.push_back(n.substr(7));
  ASSERT_GE(personas.size(), 15u) << names.out;
  ASSERT_EQ(doc["runs"].size(), personas.size() + 2);
  for (const auto& label : personas)
    EXPECT_NE(runNamed(doc, label), nullptr) << label;
  for (const auto& run : doc["runs"]) {
    const std::string label = run["kernel"];
    SCOPED_TRACE(label);
    EXPECT_TRUE(run["ok"].get<bool>());
    const auto v = release(label);
    const std::string out = run["stdout"];
    if (v < std::pair{5, 6}) {
      EXPECT_EQ(out, "openat: opened\n");
      EXPECT_TRUE(hasEntry(run["probes"], "openat2", "answer", "ENOSYS")) << run["probes"];
    } else if (v < std::pair{5, 12}) {
      EXPECT_EQ(out, "openat2: opened\n");
      EXPECT_TRUE(hasEntry(run["probes"], "openat2", "answer", "answered")) << run["probes"];
    } else {
      EXPECT_TRUE(out.starts_with("openat2 RESOLVE_CACHED")) << out;
      if (label == "no CHECK_FIELDS") {
        EXPECT_TRUE(run["probes"].empty()) << "its probes reach the kernel: " << run["probes"];
      } else {
        EXPECT_TRUE(hasEntry(run["probes"], "openat2", "answer", "answered")) << run["probes"];
      }
    }
    EXPECT_TRUE(run["refused"].empty()) << run["refused"];
  }
  const std::string j = junitSummary(junit);
  EXPECT_EQ(j, std::to_string(personas.size() + 2) + " \n");
}

// Without fallbacks: fails (exit 1) before 5.12 - ENOSYS for openat2 before
// 5.6, EINVAL for RESOLVE_CACHED after - and the table, JSON and JUnit say so.
TEST(Matrix, BrokenVariantFailsOnOldKernels) {
  TempDir dir;
  const std::string junit = dir.path + "/junit.xml";
  const std::vector<std::string> kernels = {"--kernels", "5.4,5.10,5.12,6.1", "--jobs", "3"};
  auto options = kernels;
  options.insert(options.end(), {"--junit", junit, "--output-dir", dir.path + "/out"});
  RunResult t = run({matrix(options, {binary("MATRIX_BROKEN")}), {}, 120, {}});
  ASSERT_EQ(t.exitCode(), 1) << t.describe();
  // The table: one line per run, in order, results and refusals.
  std::vector<std::string> lines;
  std::istringstream in(t.out);
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  ASSERT_GE(lines.size(), 8u) << t.out;
  EXPECT_TRUE(lines[0].starts_with("KERNEL ")) << t.out;
  auto row = [&](const std::string& label) {
    for (const auto& l : lines)
      if (l.starts_with(label + " "))
        return l;
    return std::string();
  };
  EXPECT_NE(row("this kernel").find(" ok "), std::string::npos) << t.out;
  EXPECT_NE(row("no CHECK_FIELDS").find(" ok "), std::string::npos) << t.out;
  EXPECT_NE(row("5.4").find("exit 1"), std::string::npos) << t.out;
  EXPECT_NE(row("5.4").find("openat2 ENOSYS"), std::string::npos) << t.out;
  EXPECT_NE(row("5.10").find("exit 1"), std::string::npos) << t.out;
  EXPECT_NE(row("5.10").find("openat2 EINVAL"), std::string::npos) << t.out;
  EXPECT_NE(row("5.12").find(" ok "), std::string::npos) << t.out;
  EXPECT_NE(row("6.1").find(" ok "), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("6 run(s), 2 failed"), std::string::npos) << t.out;
  // The failures' stderr follows the table; the files stay in --output-dir.
  EXPECT_NE(t.err.find("--- 5.10 (kernel-5.10): exit 1"), std::string::npos) << t.err;
  EXPECT_NE(t.err.find("Invalid argument"), std::string::npos) << t.err;
  std::ifstream kept(dir.path + "/out/kernel-5.4.stderr");
  std::string keptText((std::istreambuf_iterator<char>(kept)), std::istreambuf_iterator<char>());
  EXPECT_NE(keptText.find("Function not implemented"), std::string::npos) << keptText;
  // JUnit: six testcases, the two old kernels failed, with their stderr.
  const std::string j = junitSummary(junit);
  EXPECT_TRUE(j.starts_with("6 kernel-5.4 kernel-5.10\n")) << j;
  EXPECT_NE(j.find("kernel-5.10 5.10: exit 1 matrix_broken: openat2 RESOLVE_CACHED: Invalid argument"),
            std::string::npos) << j;
  // JSON.
  RunResult r = run({matrix(kernels + std::vector<std::string>{"--json"}, {binary("MATRIX_BROKEN")}),
                     {}, 120, {}});
  ASSERT_EQ(r.exitCode(), 1) << r.describe();
  const json doc = json::parse(r.out);
  EXPECT_FALSE(doc["ok"].get<bool>());
  for (const auto& run : doc["runs"]) {
    const std::string label = run["kernel"];
    const bool old = release(label) < std::pair{5, 12};
    EXPECT_EQ(run["ok"].get<bool>(), !old) << label;
    EXPECT_EQ(run["exit_code"], old ? 1 : 0) << label;
    if (old) {
      EXPECT_TRUE(hasEntry(run["refused"], "openat2", "errno",
                           release(label) < std::pair{5, 6} ? "ENOSYS" : "EINVAL"))
          << label << " " << run["refused"];
    } else {
      EXPECT_TRUE(run["refused"].empty()) << label << " " << run["refused"];
    }
  }
}

// --jobs 4: four runs of half a second all overlap; --jobs 1: none does.
TEST(Matrix, JobsRunInParallel) {
  for (const char* jobs : {"4", "1"}) {
    SCOPED_TRACE(std::string("--jobs ") + jobs);
    RunResult r = run({matrix({"--kernels", "5.10,6.1", "--jobs", jobs, "--json"},
                              {"/bin/sleep", "0.5"}),
                       {}, 60, {}});
    ASSERT_EQ(r.exitCode(), 0) << r.describe();
    const json doc = json::parse(r.out);
    std::vector<std::pair<double, double>> spans;
    for (const auto& run : doc["runs"])
      spans.push_back({run["start"], run["end"]});
    ASSERT_EQ(spans.size(), 4u);
    std::sort(spans.begin(), spans.end());
    double latestStart = 0, earliestEnd = 1e300;
    for (const auto& [s, e] : spans) {
      EXPECT_GE(e - s, 0.5);
      latestStart = std::max(latestStart, s);
      earliestEnd = std::min(earliestEnd, e);
    }
    if (std::string(jobs) == "4") {
      EXPECT_LT(latestStart, earliestEnd) << "not all four ran at once";
    } else {
      for (size_t i = 1; i < spans.size(); ++i)
        EXPECT_GE(spans[i].first, spans[i - 1].second) << "two ran at once with --jobs 1";
    }
  }
}

// A command that hangs is killed at --timeout, with what it started, and
// reported; matrix does not wait for it.
TEST(Matrix, HangingCommandIsKilledAtTimeout) {
  TempDir dir;
  const std::string pids = dir.path + "/pids";
  const auto began = std::chrono::steady_clock::now();
  // 1 s here; longer under emulation (the qemu guests: EXTSYS_TEST_TIME_SCALE),
  // where the shell may not have started its sleep within a second.
  const int limit = std::max(1, static_cast<int>(timeScale()));
  RunResult r = run({matrix({"--kernels", "6.1", "--timeout", std::to_string(limit), "--json"},
                            {"/bin/sh", "-c", "sleep 60 & echo $! >> " + pids + "; wait"}),
                     {}, 60, {}});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  ASSERT_EQ(r.exitCode(), 1) << r.describe();
  EXPECT_LT(took, 20.0 * timeScale());
  const json doc = json::parse(r.out);
  ASSERT_EQ(doc["runs"].size(), 3u);
  for (const auto& run : doc["runs"]) {
    EXPECT_TRUE(run["timed_out"].get<bool>()) << run["kernel"];
    EXPECT_EQ(run["result"], "timeout " + std::to_string(limit) + "s");
    EXPECT_LT(run["seconds"].get<double>(), 10.0 * timeScale());
  }
  std::ifstream in(pids);
  int count = 0;
  for (pid_t pid; in >> pid; ++count) {
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i, usleep(20000))
      gone = kill(pid, 0) != 0 && errno == ESRCH;
    EXPECT_TRUE(gone) << "sleep " << pid << " of a timed-out run survived";
  }
  EXPECT_EQ(count, 3);
}

// A persona older than 5.6 refuses CLONE_NEWTIME in a real clone3 (EINVAL,
// as those kernels answered); from 5.6 the call reaches the kernel (a child,
// or EPERM without CAP_SYS_ADMIN). It used to pass under every persona.
TEST(Personas, CloneNewtimeRefusedBefore56) {
  for (const char* persona : {"kernel-5.3", "kernel-5.5", "kernel-5.6", "kernel-6.1"}) {
    RunResult r = run({{binary("EXTSYS"), "run", "--policy", persona, "--",
                        binary("MATRIX_BROKEN"), "clone-newtime"},
                       {}, 60, {}});
    ASSERT_EQ(r.exitCode(), 0) << persona << ": " << r.describe();
    if (std::string(persona) < "kernel-5.6") {
      EXPECT_EQ(r.out, "Invalid argument\n") << persona;
    } else {
      EXPECT_NE(r.out, "Invalid argument\n") << persona;
    }
  }
}

TEST(Matrix, UsageErrors) {
  RunResult r = run({{binary("EXTSYS"), "matrix", "--kernels", "5.99", "--", "true"}, {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  EXPECT_NE(r.err.find("'5.99' is not a kernel release"), std::string::npos) << r.err;
  r = run({{binary("EXTSYS"), "matrix"}, {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  r = run({{binary("EXTSYS"), "matrix", "--kernels", "5.10", "--all", "--", "true"}, {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
}

}  // namespace
}  // namespace extsys::test
