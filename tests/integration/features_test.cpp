// SPDX-License-Identifier: MIT
// features_test - `extsys features`: the table, the JSON against its
// documented schema, the cache states, and unprivileged use.
#include <gtest/gtest.h>
#include <grp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "subprocess.h"

namespace extsys::test {
namespace {

RunResult validate(const std::string& json) {
  // The document goes through a file: run() gives the child /dev/null.
  char path[] = "/tmp/extsys-features-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, json.data(), json.size()), static_cast<ssize_t>(json.size()));
  close(fd);
  RunResult r = run({{"/bin/sh", "-c",
                      "exec /usr/bin/python3 \"$1\" \"$2\" < \"$3\"", "sh",
                      binary("VALIDATE_FEATURES"), binary("FEATURES_SCHEMA"), path},
                     {}, 60, {}});
  unlink(path);
  return r;
}

void asNobody() {
  setgroups(0, nullptr);
  if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
    _exit(98);
}

TEST(Features, TableNamesEverySyscallAndSource) {
  RunResult r = run({{binary("EXTSYS"), "features"}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  for (const char* s : {"openat2", "clone3", "mount_setattr", "RESOLVE_CACHED", "CLONE_INTO_CGROUP",
                        "MOUNT_ATTR_IDMAP", "MS_SHARED", "Where the facts come from",
                        "SYNC_WAKE_UP", "open_tree_attr", "setxattrat", "getxattrat",
                        "file_getattr", "file_setattr", "landlock_create_ruleset", "Landlock ABI"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  if (geteuid() == 0) {
    EXPECT_EQ(r.out.find(" table"), std::string::npos) << "root probes everything\n" << r.out;
  }
}

TEST(Features, JsonValidatesAgainstItsSchema) {
  RunResult r = run({{binary("EXTSYS"), "features", "--json", "--no-cache"}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("\"state\": \"disabled\""), std::string::npos) << r.out;
  RunResult v = validate(r.out);
  EXPECT_EQ(v.exitCode(), 0) << v.describe();
  // The validator can fail: a document with a broken answer is rejected.
  std::string broken = r.out;
  const std::string exitSignal = "\"value\": \"0xff\"";
  ASSERT_NE(broken.find(exitSignal), std::string::npos);
  broken.replace(broken.find(exitSignal), exitSignal.size(), "\"value\": \"0xfe\"");
  EXPECT_EQ(validate(broken).exitCode(), 1);
}

TEST(Features, PolicyViewValidatesAndShowsWhatIsHidden) {
  RunResult r = run({{binary("EXTSYS"), "features", "--json", "--policy", "kernel-5.10"}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_EQ(validate(r.out).exitCode(), 0);
  EXPECT_NE(r.out.find("\"resolve\": \"0x1f\""), std::string::npos) << r.out;
  r = run({{binary("EXTSYS"), "features", "--policy", "kernel-5.10"}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("RESOLVE_CACHED"), std::string::npos) << "shown as hidden\n" << r.out;
  EXPECT_NE(r.out.find("(hidden by the policy)"), std::string::npos) << r.out;
}

// A strict policy's run: no supervisor (sandbox-strict notifies nothing) and
// the containment this kernel gives, as the schema describes them.
TEST(Features, StrictPolicyShowsContainmentAndNoSupervisor) {
  RunResult r = run({{binary("EXTSYS"), "features", "--json", "--policy", "sandbox-strict"}, {},
                     60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_EQ(validate(r.out).exitCode(), 0);
  EXPECT_NE(r.out.find("\"supervisor\": false"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"accepts\": \"full\""), std::string::npos) << r.out;
  r = run({{binary("EXTSYS"), "features", "--json", "--policy", "kernel-5.10"}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("\"supervisor\": true"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\"containment\""), std::string::npos) << "cooperative: none\n" << r.out;
}

TEST(Features, SecondRunHitsTheCache) {
  if (geteuid() != 0)
    GTEST_SKIP() << "the root cache lives in /run/extsys";
  RunResult first = run({{binary("EXTSYS"), "features", "--json"}, {}, 60, {}});
  RunResult second = run({{binary("EXTSYS"), "features", "--json"}, {}, 60, {}});
  ASSERT_EQ(second.exitCode(), 0) << second.describe();
  EXPECT_NE(second.out.find("\"state\": \"hit\""), std::string::npos) << second.out;
}

TEST(Features, WorksUnprivilegedAndSaysWhatItSkipped) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root to switch to uid 65534";
  RunResult r = run({{binary("EXTSYS"), "features", "--json"}, {"XDG_RUNTIME_DIR="}, 60, asNobody});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_EQ(validate(r.out).exitCode(), 0);
  EXPECT_NE(r.out.find("\"state\": \"unavailable\""), std::string::npos) << r.out;
  // mount_setattr needs CAP_SYS_ADMIN: probed in a user namespace, or taken
  // from the table with the reason; never silently guessed.
  const bool userns = r.out.find("probed in a new user and mount namespace") != std::string::npos;
  const bool table = r.out.find("probing needs CAP_SYS_ADMIN") != std::string::npos;
  EXPECT_TRUE(userns || table) << r.out;
}

// The process model `extsys run` would use, from Yama's ptrace_scope and
// CAP_SYS_PTRACE, as README's table gives it; for us and for nobody.
std::string expectedModel(bool privileged) {
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  int scope = -1;
  if (!(in >> scope) || scope == 0)
    return "in-place";
  if (scope >= 3)
    return "none";
  if (privileged)
    return "in-place";
  return scope == 1 ? "ancestor" : "none";
}

bool haveCapSysPtrace() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("CapEff:", 0) == 0)
      return (std::stoull(line.substr(7), nullptr, 16) >> 19) & 1;
  return false;
}

TEST(Features, SaysWhichProcessModelRunUses) {
  RunResult r = run({{binary("EXTSYS"), "features"}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  const std::string want = expectedModel(haveCapSysPtrace());
  EXPECT_NE(r.out.find("Process model of `extsys run` for this user: " + want + "\n"),
            std::string::npos)
      << r.out;
  r = run({{binary("EXTSYS"), "features", "--json"}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("\"model\": \"" + want + "\""), std::string::npos) << r.out;
  if (geteuid() == 0) {
    r = run({{binary("EXTSYS"), "features", "--json"}, {"XDG_RUNTIME_DIR="}, 60, asNobody});
    ASSERT_EQ(r.exitCode(), 0) << r.describe();
    EXPECT_NE(r.out.find("\"model\": \"" + expectedModel(false) + "\""), std::string::npos) << r.out;
    EXPECT_EQ(validate(r.out).exitCode(), 0);
  }
}

TEST(Features, RunUsesDiscoveredAnswers) {
  // Whatever discovery says, a probe under `extsys run` gets byte for byte
  // (the demo prints the struct size it learned).
  RunResult r = run({{binary("EXTSYS"), "run", "--no-cache", "--", binary("PROBE_CASES"), "run",
                      "clone3_cf_v2", "mount_setattr_cf_56", "openat2_cf_misalign_1"},
                     {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

// `extsys run --policy kernel-5.10 -- extsys features`: the inner
// discovery sees the persona (no mount_setattr). That must never reach the
// cache, or every later run on this boot is told the same. As nobody with a
// cache directory of its own, so that the real one is never at risk.
TEST(Features, DiscoveryUnderAFilterIsNeverCached) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root to switch to uid 65534";
  char tmpl[] = "/tmp/extsys-xdg-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string xdg = tmpl;
  ASSERT_EQ(chown(xdg.c_str(), 65534, 65534), 0);
  const std::vector<std::string> env = {"XDG_RUNTIME_DIR=" + xdg};
  const std::string persona = binary("OCI_POLICIES") + std::string("/persona-example.toml");
  RunResult inner = run({{binary("EXTSYS"), "run", "--no-cache", "--policy", persona, "--",
                          binary("EXTSYS"), "features", "--json"},
                         env, 60, asNobody});
  ASSERT_EQ(inner.exitCode(), 0) << inner.describe();
  EXPECT_NE(inner.out.find("\"state\": \"filtered\""), std::string::npos) << inner.out;
  EXPECT_EQ(validate(inner.out).exitCode(), 0);
  EXPECT_FALSE(std::filesystem::exists(xdg + "/extsys/features.json"));
  RunResult outer = run({{binary("EXTSYS"), "features"}, env, 60, asNobody});
  ASSERT_EQ(outer.exitCode(), 0) << outer.describe();
  EXPECT_NE(outer.out.find("Discovery: cache miss"), std::string::npos) << outer.out;
  EXPECT_EQ(outer.out.find("mount_setattr  -            ENOSYS"), std::string::npos)
      << "the persona's answer leaked into the cache\n" << outer.out;
  std::filesystem::remove_all(xdg);
}

// Names come from file names: bytes that are not UTF-8 must not crash the
// JSON writers (nlohmann's type_error: exit 134).
TEST(Features, NonUtf8PolicyNameIsReplacedNotACrash) {
  char tmpl[] = "/tmp/extsys-utf8-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string file = std::string(tmpl) + "/bad\xff.toml";
  std::ofstream(file) << "description = \"x\"\n";
  RunResult r = run({{binary("EXTSYS"), "features", "--json", "--policy", file}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("\"name\": \"bad\xef\xbf\xbd\""), std::string::npos) << r.out;
  EXPECT_EQ(validate(r.out).exitCode(), 0);
  // oci-profile: the agent could not look such a name up, so it says so.
  r = run({{binary("EXTSYS"), "oci-profile", "--policy", file}, {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  EXPECT_NE(r.err.find("cannot go into listenerMetadata"), std::string::npos) << r.err;
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace extsys::test
