// SPDX-License-Identifier: MIT
// lxc_execute_test (integration, issue 21) - the LXC proxy with the real
// thing: Debian's lxc (lxc-execute, a busybox-static rootfs holding the
// static probe program, no network) and `extsys agent --lxc-socket`. Skipped
// with the reason when lxc-execute is missing or cannot start a container.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "agent/lxc_proxy.h"
#include "filter/seccomp_filter.h"
#include "kernel/discovery/current_features.h"
#include "kernel/listener/notify.h"
#include "lxc_support.h"
#include "oci_support.h"
#include "subprocess.h"

namespace extsys::test {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Real LXC: lxc-execute.

struct LxcWorld {
  std::string dir, rootfs, skip;
  std::unique_ptr<Agent> agent;
  int seq = 0;
};

std::string lxcExecute() {
  return which("lxc-execute");
}

// A container config: the rootfs, no network, the policy text `profile`
// (a file), the agent at `proxy` ("" = no proxy and no seccomp policy),
// `cookie`, and `env` for the program.
std::string writeConfig(const LxcWorld& w, const std::string& name, const std::string& profile,
                        const std::string& proxy, const std::string& cookie,
                        const std::vector<std::string>& env = {}) {
  const std::string path = w.dir + "/" + name + ".conf";
  std::ofstream f(path);
  f << "lxc.uts.name = " << name << "\n"
    << "lxc.rootfs.path = dir:" << w.rootfs << "\n"
    << "lxc.net.0.type = empty\n"
    << "lxc.mount.auto = proc:mixed sys:ro\n";
  if (!proxy.empty()) {
    f << "lxc.seccomp.profile = " << profile << "\n"
      << "lxc.seccomp.notify.proxy = unix:" << proxy << "\n";
    if (!cookie.empty())
      f << "lxc.seccomp.notify.cookie = " << cookie << "\n";
  }
  for (const auto& e : env)
    f << "lxc.environment = " << e << "\n";
  return path;
}

std::vector<std::string> executeArgv(const LxcWorld& w, const std::string& name,
                                     const std::string& config, std::vector<std::string> cmd) {
  std::vector<std::string> argv{lxcExecute(), "-n", name, "-f", config, "-P", w.dir,
                                "-o", w.dir + "/" + name + ".lxc.log", "--"};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return argv;
}

LxcWorld& lxcWorld() {
  static LxcWorld* world = [] {
    auto* w = new LxcWorld;
    if (geteuid() != 0) {
      w->skip = "lxc-execute needs root";
      return w;
    }
    if (lxcExecute().empty()) {
      w->skip = "lxc is not installed (no lxc-execute in PATH; tools/extsys-dev installs it)";
      return w;
    }
    if (RunResult b = runCmd({"/bin/busybox", "--help"}); !b.exited()) {
      w->skip = "no /bin/busybox (busybox-static) for the rootfs";
      return w;
    }
    w->dir = makeDir("extsys-lxc-exec");
    w->rootfs = w->dir + "/rootfs";
    for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "etc"})
      fs::create_directories(w->rootfs + "/" + d);
    fs::copy_file("/bin/busybox", w->rootfs + "/bin/busybox");
    for (const char* applet : {"sh", "true", "touch", "sleep"})
      fs::create_symlink("busybox", w->rootfs + "/bin/" + applet);
    fs::copy_file(binary("PROBE_CASES_STATIC"), w->rootfs + "/probe_cases");
    fs::permissions(w->rootfs + "/tmp", fs::perms::all | fs::perms::sticky_bit);
    for (const char* policy : {"default", "kernel-5.10"}) {
      RunResult p = runCmd({binary("EXTSYS"), "oci-profile", "--format", "lxc", "--policy", policy});
      if (p.exitCode() != 0) {
        w->skip = std::string("oci-profile --format lxc --policy ") + policy + ": " + p.describe();
        return w;
      }
      std::ofstream(w->dir + "/" + policy + ".seccomp") << p.out;
    }
    // Can this host run an LXC container at all (cgroups, namespaces)?
    const std::string plain = writeConfig(*w, "plain", "", "", "");
    RunResult t = runCmd(executeArgv(*w, "plain", plain, {"/bin/true"}));
    if (t.exitCode() != 0) {
      w->skip = "lxc-execute cannot start a container here: " + t.describe() + " " + t.err;
      return w;
    }
    w->agent = std::make_unique<Agent>(
        Agent::start(w->dir, "agent", {"--lxc-socket", w->dir + "/lxc.sock"}));
    if (!waitFor([&] { return w->agent->text().find("(LXC)") != std::string::npos; }, 20))
      w->skip = "the agent did not start: " + w->agent->text();
    return w;
  }();
  return *world;
}

class LxcExecute : public ::testing::Test {
protected:
  void SetUp() override {
    if (!lxcWorld().skip.empty())
      GTEST_SKIP() << lxcWorld().skip;
  }
  // The agent stops (its servers end with their containers) and the
  // rootfs and configs go.
  static void TearDownTestSuite() {
    LxcWorld& w = lxcWorld();
    w.agent.reset();
    if (!w.dir.empty())
      fs::remove_all(w.dir);
    w.dir.clear();
    w.skip = "torn down";
  }
  static std::string name(const char* base) {
    return std::string(base) + "-" + std::to_string(getpid()) + "-" +
           std::to_string(++lxcWorld().seq);
  }
  static std::string profile(const char* policy) {
    return lxcWorld().dir + "/" + policy + ".seccomp";
  }
  static std::string proxy() { return lxcWorld().dir + "/lxc.sock"; }
};

const std::vector<std::string> kCases{"/probe_cases", "run", "clone3_cf_v2",
                                      "openat2_cf_misalign_3", "mount_setattr_cf_56"};

TEST_F(LxcExecute, ProbesAreAnsweredByteExactThroughTheProxy) {
  LxcWorld& w = lxcWorld();
  const std::string n = name("probes");
  const auto cfg = writeConfig(w, n, profile("default"), proxy(), "policy=default",
                               {"EXTSYS_EXPECT=emulated"});
  RunResult r = runCmd(executeArgv(w, n, cfg, kCases));
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << r.out << r.err << w.agent->text();
  EXPECT_NE(r.out.find("PASS clone3_cf_v2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  EXPECT_TRUE(hasLine(w.agent->text(), {"LXC container (monitor pid", "serving with policy default"}))
      << w.agent->text();
}

TEST_F(LxcExecute, TheCookieChoosesThePolicy) {
  LxcWorld& w = lxcWorld();
  const std::string n = name("k510");
  const auto cfg = writeConfig(w, n, profile("kernel-5.10"), proxy(), "policy=kernel-5.10",
                               {"EXTSYS_EXPECT=emulated", "EXTSYS_EXPECT_RESOLVE=0x1f"});
  RunResult r = runCmd(executeArgv(w, n, cfg, kCases));
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << r.out << r.err << w.agent->text();
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SKIP mount_setattr_cf_56"), std::string::npos) << r.out;
  EXPECT_TRUE(hasLine(w.agent->text(), {"serving with policy kernel-5.10"})) << w.agent->text();
}

TEST_F(LxcExecute, TwoContainersAtOnce) {
  LxcWorld& w = lxcWorld();
  std::vector<Background> running;
  std::vector<std::string> names;
  const std::string loop =
      "i=0; while [ $i -lt 20 ]; do /probe_cases run clone3_cf_v2 openat2_cf_misalign_3 "
      ">/dev/null || exit 1; i=$((i+1)); done";
  for (int i = 0; i < 2; ++i) {
    names.push_back(name(i == 0 ? "twin-a" : "twin-b"));
    const auto cfg = writeConfig(w, names.back(), profile(i == 0 ? "default" : "kernel-5.10"),
                                 proxy(), i == 0 ? "policy=default" : "policy=kernel-5.10",
                                 {"EXTSYS_EXPECT=emulated",
                                  i == 0 ? "EXTSYS_EXPECT_RESOLVE=0x3f"
                                         : "EXTSYS_EXPECT_RESOLVE=0x1f"});
    running.push_back(Background::spawn(executeArgv(w, names.back(), cfg, {"/bin/sh", "-c", loop}),
                                        w.dir + "/" + names.back() + ".out"));
  }
  for (size_t i = 0; i < running.size(); ++i) {
    const int st = running[i].wait(120 * timeScale());
    EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        << names[i] << ": " << exitText(st) << readFile(running[i].log) << w.agent->text();
  }
}

// Killing the agent with its servers (systemctl restart does: the unit's
// cgroup) fails the next notification's send; LXC reconnects once, to the
// new agent, and later probes are answered again.
TEST_F(LxcExecute, AnAgentRestartServesLaterProbesAgain) {
  LxcWorld& w = lxcWorld();
  const std::string sock = w.dir + "/restart.sock";
  auto first = std::make_unique<Agent>(
      Agent::start(w.dir, "restart-1", {"--lxc-socket", sock}, "restart-oci"));
  ASSERT_TRUE(waitFor([&] { return first->text().find("(LXC)") != std::string::npos; }, 20));
  const std::string n = name("restart");
  const std::string marks = w.rootfs + "/tmp/" + n;
  const auto cfg = writeConfig(w, n, profile("default"), sock, "policy=default",
                               {"EXTSYS_EXPECT=emulated"});
  const std::string script = "/probe_cases run clone3_cf_v2 || exit 3; touch /tmp/" + n +
                             ".first; while [ ! -e /tmp/" + n + ".go ]; do sleep 0.05; done; " +
                             "/probe_cases run clone3_cf_v2 openat2_cf_misalign_3";
  Background c = Background::spawn(executeArgv(w, n, cfg, {"/bin/sh", "-c", script}),
                                   w.dir + "/" + n + ".out");
  ASSERT_TRUE(waitFor([&] { return fs::exists(marks + ".first"); }, 60 * timeScale()))
      << readFile(c.log) << first->text();
  const pid_t agentPid = first->proc.pid;
  for (pid_t server : childrenOf(agentPid))
    kill(server, SIGKILL);
  first->proc.stop(SIGKILL);
  auto second = std::make_unique<Agent>(
      Agent::start(w.dir, "restart-2", {"--lxc-socket", sock}, "restart-oci"));
  ASSERT_TRUE(waitFor([&] { return second->text().find("(LXC)") != std::string::npos; }, 20))
      << second->text();
  std::ofstream(marks + ".go") << "";
  const int st = c.wait(60 * timeScale());
  EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
      << exitText(st) << readFile(c.log) << second->text();
  EXPECT_TRUE(hasLine(second->text(), {"LXC container (monitor pid", "serving with policy default"}))
      << second->text();
}

// Not a pass/fail property: the start-up cost of the proxy, for the record
// (lxc-execute of /bin/true, median of 5, without and with the proxy).
TEST_F(LxcExecute, StartTimesWithAndWithoutTheProxy) {
  LxcWorld& w = lxcWorld();
  // Round-robin, so that load from elsewhere hits both alike.
  std::vector<double> ms[2];
  for (int i = 0; i < 5; ++i)
    for (const bool withProxy : {false, true}) {
      const std::string n = name(withProxy ? "start-proxy" : "start-plain");
      const auto cfg = withProxy ? writeConfig(w, n, profile("default"), proxy(), "policy=default")
                                 : writeConfig(w, n, "", "", "");
      const auto t0 = std::chrono::steady_clock::now();
      RunResult r = runCmd(executeArgv(w, n, cfg, {"/bin/true"}));
      const auto t1 = std::chrono::steady_clock::now();
      EXPECT_EQ(r.exitCode(), 0) << r.describe() << r.err;
      ms[withProxy].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double plain = median(ms[0]), proxied = median(ms[1]);
  std::printf("lxc-execute /bin/true median of 5: %.1f ms without seccomp, %.1f ms with the "
              "extsys profile and proxy\n",
              plain, proxied);
  RecordProperty("start_ms_plain", std::to_string(plain));
  RecordProperty("start_ms_proxy", std::to_string(proxied));
}

}  // namespace
}  // namespace extsys::test
