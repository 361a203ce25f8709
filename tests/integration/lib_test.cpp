// SPDX-License-Identifier: MIT
// lib_test - libextsys (issue 19): every probe case of tests/targets/
// probe_cases.c through extsys_check_fields() gives, byte for byte (the
// whole mapped region around the struct, faults included), what the
// supervisor of `extsys run` writes for the raw probe: natively (in-process
// discovery), under `extsys run` (the supervisor), under a persona (its
// answer), under no-check-fields (in-process again), statically linked; and
// with many threads at once, discovery runs once. Plus the examples.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "subprocess.h"

namespace extsys::test {
namespace {

struct Line {
  std::string result;  // "NAME RESULT BYTES", without the source
  std::string source;  // "" for raw transcripts
};
using Transcript = std::map<std::string, Line>;

Transcript parse(const RunResult& r) {
  Transcript t;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty())
      continue;
    Line l;
    const size_t src = line.find(" src=");
    l.result = line.substr(0, src);
    if (src != std::string::npos)
      l.source = line.substr(src + 5);
    t[line.substr(0, line.find(' '))] = l;
  }
  return t;
}

std::vector<std::string> under(const std::string& policy, std::vector<std::string> argv) {
  std::vector<std::string> out{binary("EXTSYS"), "run"};
  if (!policy.empty()) {
    out.push_back("--policy");
    out.push_back(policy);
  }
  out.push_back("--");
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Transcript transcript(const std::vector<std::string>& argv) {
  RunResult r = run({argv, {}, 300, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  Transcript t = parse(r);
  EXPECT_GE(t.size(), 60u) << "too few probe cases in the transcript\n" << r.describe();
  return t;
}

// What the supervisor writes for the raw probes, under `policy`.
const Transcript& supervisorWrites(const std::string& policy) {
  static std::map<std::string, Transcript> cache;
  auto it = cache.find(policy);
  if (it == cache.end())
    it = cache.emplace(policy, transcript(under(policy, {binary("PROBE_CASES_LIB"), "transcript",
                                                          "raw"}))).first;
  return it->second;
}

// Every case equal; the sources seen (answered cases only), counted.
std::map<std::string, int> expectSame(const Transcript& want, const Transcript& got) {
  std::map<std::string, int> sources;
  EXPECT_EQ(want.size(), got.size());
  for (const auto& [name, w] : want) {
    auto g = got.find(name);
    if (g == got.end()) {
      ADD_FAILURE() << name << ": missing";
      continue;
    }
    EXPECT_EQ(g->second.result, w.result) << name;
    if (g->second.result.find(" ok ") != std::string::npos)
      ++sources[g->second.source];
  }
  return sources;
}

TEST(Libextsys, NativeEqualsSupervisor) {
  const Transcript& want = supervisorWrites("");
  auto sources = expectSame(want, transcript({binary("PROBE_CASES_LIB"), "transcript", "lib"}));
  // This kernel has no CHECK_FIELDS: every answer is the library's own.
  EXPECT_GT(sources["discovery"], 20) << "answered cases come from in-process discovery";
  EXPECT_EQ(sources["supervisor"], 0);
}

TEST(Libextsys, DiscoveryOnlyEqualsSupervisor) {
  expectSame(supervisorWrites(""),
             transcript({binary("PROBE_CASES_LIB"), "transcript", "lib-disc"}));
}

TEST(Libextsys, WithoutProcessVmWritevTheSame) {
  // Where a seccomp profile denies process_vm_writev (EPERM), the library
  // writes through a pipe: still EFAULT for bad buffers, never a signal.
  expectSame(supervisorWrites(""),
             transcript({binary("PROBE_CASES_LIB"), "transcript", "lib-novmw"}));
}

TEST(Libextsys, StaticProgramEqualsSupervisor) {
  auto sources = expectSame(supervisorWrites(""),
                            transcript({binary("PROBE_CASES_LIB_STATIC"), "transcript", "lib"}));
  EXPECT_GT(sources["discovery"], 20);
}

TEST(Libextsys, UnderExtsysRunTheSupervisorAnswers) {
  auto sources = expectSame(supervisorWrites(""), transcript(under("", {binary("PROBE_CASES_LIB"),
                                                                          "transcript", "lib"})));
  EXPECT_GT(sources["supervisor"], 20);
  EXPECT_EQ(sources["discovery"], 0) << "the supervisor answered every answered probe";
}

TEST(Libextsys, PersonaAnswerIsWhatTheProgramIsTold) {
  const Transcript& persona = supervisorWrites("kernel-5.10");
  auto sources = expectSame(persona, transcript(under("kernel-5.10", {binary("PROBE_CASES_LIB"),
                                                                       "transcript", "lib"})));
  EXPECT_GT(sources["supervisor"], 5);
  // The comparison can tell answers apart: 5.10 is not this kernel.
  size_t differ = 0;
  for (const auto& [name, l] : supervisorWrites(""))
    differ += persona.count(name) && persona.at(name).result != l.result;
  EXPECT_GT(differ, 10u);
}

TEST(Libextsys, NoCheckFieldsFallsBackInProcess) {
  auto sources = expectSame(supervisorWrites(""),
                            transcript(under("no-check-fields", {binary("PROBE_CASES_LIB"),
                                                                 "transcript", "lib"})));
  EXPECT_GT(sources["discovery"], 20);
  EXPECT_EQ(sources["supervisor"], 0);
}

TEST(Libextsys, NoDiscoveryIsTheSyscallAlone) {
  // Natively: exactly what the raw probe gets (E2BIG, nothing written).
  Transcript raw = transcript({binary("PROBE_CASES_LIB"), "transcript", "raw"});
  expectSame(raw, transcript({binary("PROBE_CASES_LIB"), "transcript", "lib-nodisc"}));
  size_t answered = 0;
  for (const auto& [name, l] : raw)
    answered += l.result.find(" ok ") != std::string::npos;
  EXPECT_EQ(answered, 0u) << "this kernel has no CHECK_FIELDS: nothing may be answered";
  // Under extsys run: the supervisor's answers.
  expectSame(supervisorWrites(""), transcript(under("", {binary("PROBE_CASES_LIB"), "transcript",
                                                         "lib-nodisc"})));
}

int field(const std::string& out, const std::string& key) {
  const size_t at = out.find(key + "=");
  return at == std::string::npos ? -1 : std::atoi(out.c_str() + at + key.size() + 1);
}

TEST(Libextsys, ManyThreadsOneDiscovery) {
  for (const std::string& policy : {std::string("none"), std::string("no-check-fields")}) {
    auto cmd = [&](const char* n) {
      std::vector<std::string> argv{binary("PROBE_CASES_LIB"), "lib_threads", n};
      return policy == "none" ? argv : under(policy, argv);
    };
    // Warm-up: the first run may write the per-boot cache, which changes
    // the number of lookups' uname calls of the next.
    (void)run({cmd("1"), {}, 120, {}});
    RunResult one = run({cmd("1"), {}, 120, {}});
    RunResult many = run({cmd("64"), {}, 120, {}});
    ASSERT_EQ(one.exitCode(), 0) << one.describe();
    ASSERT_EQ(many.exitCode(), 0) << many.describe();
    const int lookups = field(one.out, "lookups");
    EXPECT_GE(lookups, 1) << policy << ": the first call looks the features up\n" << one.out;
    EXPECT_EQ(field(many.out, "lookups"), lookups)
        << policy << ": 64 threads at once, one lookup\n" << many.out;
    EXPECT_EQ(field(many.out, "mismatches"), 0) << policy << "\n" << many.out;
    EXPECT_GE(field(many.out, "answered"), 3) << policy << "\n" << many.out;
  }
}

TEST(Libextsys, LeavesNothingBehind) {
  // Natively (the per-boot cache may answer) and under a filter, where
  // discovery runs afresh with its probe child.
  for (const std::string& policy : {std::string("none"), std::string("no-check-fields")}) {
    std::vector<std::string> argv{binary("PROBE_CASES_LIB"), "lib_hygiene"};
    RunResult r = run({policy == "none" ? argv : under(policy, argv), {}, 120, {}});
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
    EXPECT_NE(r.out.find("call=ok fds=same sigactions=same children=none maps=same"),
              std::string::npos)
        << policy << "\n" << r.describe();
  }
}

TEST(Libextsys, ForkDuringDiscoveryChildAnswers) {
  // Under a filter discovery runs afresh (~10 ms): the fork lands inside it.
  // 10 rounds: a lock held across the fork (a guarded static, once) hung
  // the child about one round in five.
  int overlapped = 0;
  for (int i = 0; i < 10; ++i) {
    RunResult r = run({under("no-check-fields", {binary("PROBE_CASES_LIB"), "lib_fork_during"}),
                       {}, 120, {}});
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
    EXPECT_NE(r.out.find("child=ok"), std::string::npos) << r.describe();
    overlapped += r.out.find("overlap=1") != std::string::npos;
  }
  EXPECT_GE(overlapped, 1) << "no fork landed inside discovery: the test proved nothing";
}

TEST(Examples, COpenat2Cached) {
  RunResult r = run({{binary("EXAMPLE_OPENAT2")}, {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 2) << "usage error\n" << r.describe();
  r = run({{binary("EXAMPLE_OPENAT2"), "/proc/self/status"}, {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("(source discovery)"), std::string::npos) << r.out;
  // openat2 RESOLVE_CACHED since 5.12: this kernel has it; the 5.10 persona not.
  EXPECT_NE(r.out.find("path: openat2 RESOLVE_CACHED"), std::string::npos) << r.out;
  r = run({under("kernel-5.10", {binary("EXAMPLE_OPENAT2"), "/proc/self/status"}), {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("(source supervisor)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no RESOLVE_CACHED on this kernel"), std::string::npos) << r.out;
}

TEST(Examples, PythonCtypes) {
  const std::string lib = "LIBEXTSYS=" + binary("LIBEXTSYS");
  // A minimal guest (tools/oldkernel) may bring python3 without ctypes.
  if (run({{"python3", "-c", "import ctypes"}, {}, 60, {}}).exitCode() != 0)
    GTEST_SKIP() << "python3 with ctypes is not here";
  RunResult r = run({{"python3", binary("EXAMPLE_PY")}, {lib}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("RESOLVE_CACHED yes (discovery)"), std::string::npos) << r.out;
  r = run({under("kernel-5.10", {"python3", binary("EXAMPLE_PY")}), {lib}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("RESOLVE_CACHED no (supervisor)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace extsys::test
