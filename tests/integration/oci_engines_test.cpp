// SPDX-License-Identifier: MIT
// oci_engines_test (integration) - container engines end to end, offline:
// podman 4.3 (Debian 12) with `--rootfs` of the static probe binary, under
// runc and crun, with the profile `extsys oci-profile --base` composed into
// podman's own default profile. Inside the container the probes are
// answered by the agent byte-exact, in `run` and in `exec`, while the calls
// podman's profile denies stay denied with its errno (perf_event_open and
// bpf: EPERM without CAP_SYS_ADMIN; the kernel itself answers EFAULT or
// EINVAL for the same call, as the extsys-only profile shows). Also the
// start-time medians with the agent and with the same filter without a
// listener.
//
// Root, podman and /usr/share/containers/seccomp.json needed (tools/extsys-dev
// installs them); the tests skip with the reason otherwise. podman runs with
// storage of its own in the test directory (vfs), the cgroupfs manager, file
// events, no network, and limits the test VM allows (src/agent/README.md).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <seccomp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernel/abi/syscalls.h"
#include "oci_support.h"
#include "subprocess.h"

namespace extsys::test {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr const char* kPodmanBase = "/usr/share/containers/seccomp.json";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The probe syscalls this host's libseccomp knows (the others get no rule in
// a runtime linked with it; src/agent/README.md).
std::string knownProbeSyscalls() {
  std::string known;
  for (const auto& d : kernel::syscallTable())
    if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, std::string(d.name).c_str()) >= 0)
      known += (known.empty() ? "" : ",") + std::string(d.name);
  return known;
}

class Podman : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    World& w = world();
    if (!w.skip.empty())
      GTEST_SKIP() << w.skip;
    if (which("podman").empty())
      GTEST_SKIP() << "podman is not installed (apt-get install podman)";
    if (!fs::exists(kPodmanBase))
      GTEST_SKIP() << kPodmanBase << " is missing (package golang-github-containers-common)";
    rt_.name = GetParam();
    rt_.path = which(rt_.name);
    if (rt_.path.empty())
      GTEST_SKIP() << rt_.name << " is not installed";
    rt_.emptyFile = w.dir + "/empty";
    rt_.hideCgroup2Controllers = rt_.name == "crun" && hybridCgroupsWithV2Controllers();
  }

  std::vector<std::string> podman(std::vector<std::string> args) const {
    const std::string d = world().dir;
    std::vector<std::string> argv{which("podman"), "--root", d + "/podman-storage", "--runroot",
                                  d + "/podman-run", "--storage-driver", "vfs",
                                  "--cgroup-manager=cgroupfs", "--events-backend=file",
                                  "--runtime", rt_.path};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  // `podman run` (or `run -d`) of the rootfs with `profile`; all options
  // before --rootfs (after it everything is the command).
  std::vector<std::string> runArgs(const std::string& profile, std::vector<std::string> cmd,
                                   bool detach = false) const {
    std::vector<std::string> a{"run", "--rm", "--network", "none", "--ulimit",
                               "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                               "--security-opt", "no-new-privileges", "--security-opt",
                               "seccomp=" + profile, "--env", "EXTSYS_EXPECT=emulated",
                               "--env", "EXTSYS_PROBE_SYSCALLS=" + knownProbeSyscalls()};
    if (detach)
      a.insert(a.begin() + 1, "-d");
    a.insert(a.end(), {"--rootfs", world().rootfs});
    a.insert(a.end(), cmd.begin(), cmd.end());
    return podman(a);
  }
  RunResult go(const std::vector<std::string>& argv, int timeout = 120) const {
    return run({argv, {}, timeout, rt_.inChild()});
  }
  // `extsys oci-profile` (with --base podman's default unless `plain`) into a file.
  std::string profile(const std::string& name, bool plain = false) {
    std::vector<std::string> argv{binary("EXTSYS"), "oci-profile", "--socket",
                                  world().agent->socket};
    if (!plain)
      argv.insert(argv.end(), {"--base", kPodmanBase});
    RunResult r = run({argv, {}, 60, {}});
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
    const std::string path = world().dir + "/" + name + ".json";
    std::ofstream(path) << r.out;
    return path;
  }

  Runtime rt_;
};

TEST_P(Podman, ProbesReachTheAgentAndPodmansDefaultsStay) {
  const std::string composed = profile("podman-composed-" + rt_.name);
  RunResult c = run({{binary("EXTSYS"), "oci-profile", "--check", composed, "--base", kPodmanBase},
                     {}, 60, {}});
  EXPECT_EQ(c.exitCode(), 0) << c.describe();

  RunResult r = go(runArgs(composed, {"/probe_cases", "run", "clone3_cf_v2",
                                      "openat2_cf_misalign_3", "mount_setattr_cf_56"}));
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << world().agent->text();
  for (const char* pass : {"PASS clone3_cf_v2", "PASS openat2_cf_misalign_3",
                           "PASS mount_setattr_cf_56"})
    EXPECT_NE(r.out.find(pass), std::string::npos) << r.out;
  // podman's profile denies perf_event_open and bpf without CAP_SYS_ADMIN: EPERM.
  r = go(runArgs(composed, {"/probe_cases", "errno_of", "perf_event_open", "bpf"}));
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("perf_event_open errno=1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bpf errno=1\n"), std::string::npos) << r.out;
  // Control: the extsys-only profile lets the same call reach the kernel.
  r = go(runArgs(profile("podman-plain-" + rt_.name, true),
                 {"/probe_cases", "errno_of", "perf_event_open"}));
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("perf_event_open errno=14\n"), std::string::npos) << r.out;  // EFAULT
}

TEST_P(Podman, ExecProbesAreAnswered) {
  const std::string composed = profile("podman-exec-" + rt_.name);
  const std::string name = "extsys-exec-" + rt_.name + "-" + std::to_string(getpid());
  std::vector<std::string> argv = runArgs(composed, {"/sleep", "60"}, true);
  argv.insert(std::find(argv.begin(), argv.end(), "--network"), {"--name", name});
  RunResult r = go(argv);
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  r = go(podman({"exec", "--env", "EXTSYS_EXPECT=emulated", "--env",
                 "EXTSYS_PROBE_SYSCALLS=" + knownProbeSyscalls(), name, "/probe_cases", "run",
                 "clone3_cf_v2", "openat2_cf_misalign_3"}));
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << world().agent->text();
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  (void)go(podman({"rm", "-f", "-t", "0", name}));
}

// Start time of `podman run` of a container that exits at once: the
// composed profile with the agent, and the same filter without a listener
// (NOTIFY turned into ERRNO). Five runs each, round-robin.
TEST_P(Podman, StartTimeWithAndWithoutTheAgent) {
  const std::string served = profile("podman-time-" + rt_.name);
  auto p = ojson::parse(readFile(served));
  p.erase("listenerPath");
  p.erase("listenerMetadata");
  for (auto& rule : p["syscalls"])
    if (rule["action"] == "SCMP_ACT_NOTIFY") {
      rule["action"] = "SCMP_ACT_ERRNO";
      rule["errnoRet"] = 38;
    }
  const std::string shaped = world().dir + "/podman-time-shaped-" + rt_.name + ".json";
  std::ofstream(shaped) << p.dump(2);
  const std::vector<std::pair<const char*, std::string>> configs{{"filter, no agent", shaped},
                                                                 {"with the agent", served}};
  std::vector<std::vector<double>> ms(configs.size());
  for (int i = 0; i < 5; ++i)
    for (size_t k = 0; k < configs.size(); ++k) {
      const auto t0 = Clock::now();
      RunResult r = go(runArgs(configs[k].second, {"/probe_cases", "exit_code", "0"}));
      ms[k].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      EXPECT_EQ(r.exitCode(), 0) << configs[k].first << ": " << r.describe();
    }
  std::cout << fmt::format("[ timing   ] podman --runtime {} run, median of 5: {} {:.1f} ms; {} "
                           "{:.1f} ms\n",
                           rt_.name, configs[0].first, median(ms[0]), configs[1].first,
                           median(ms[1]));
}

INSTANTIATE_TEST_SUITE_P(Engines, Podman, ::testing::Values("runc", "crun"),
                         [](const auto& p) { return p.param; });

// containerd through ctr and through its CRI plugin (what kubelet uses): a
// daemon of its own (state, root and socket in the test directory), the
// rootfs imported as a locally built OCI image (tools/containerd/oci-image),
// the native snapshotter.
struct Containerd {
  Background daemon;
  std::string dir, socket, image = "docker.io/extsys/probe:1", pause = "docker.io/extsys/pause:1";
  std::string skip;
};

Containerd* gContainerd = nullptr;

class ContainerdCleanup : public ::testing::Environment {
public:
  void TearDown() override {
    if (gContainerd != nullptr && gContainerd->daemon.pid > 0)
      gContainerd->daemon.stop();
  }
};
const auto* kContainerdCleanup = ::testing::AddGlobalTestEnvironment(new ContainerdCleanup);

Containerd& containerd() {
  Containerd*& c = gContainerd;
  if (c != nullptr)
    return *c;
  c = new Containerd;
  World& w = world();
  if (!w.skip.empty()) {
    c->skip = w.skip;
    return *c;
  }
  if (which("containerd").empty() || which("ctr").empty()) {
    c->skip = "containerd is not installed (apt-get install containerd)";
    return *c;
  }
  c->dir = w.dir + "/containerd";
  c->socket = c->dir + "/containerd.sock";
  fs::create_directories(c->dir);
  // The CRI plugin with a local pause image, no CNI (host-network pods),
  // and oom_score_adj kept at containerd's own (the test VM lacks
  // CAP_SYS_RESOURCE, so the pause container's -998 would fail).
  std::ofstream(c->dir + "/config.toml")
      << "version = 2\nroot = \"" << c->dir << "/root\"\nstate = \"" << c->dir
      << "/state\"\n[grpc]\n  address = \"" << c->socket << "\"\n"
      << "[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"" << c->pause
      << "\"\n  restrict_oom_score_adj = true\n"
      << "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n    snapshotter = \"native\"\n"
      << "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n    bin_dir = \"" << c->dir
      << "/cni-bin\"\n    conf_dir = \"" << c->dir << "/cni-conf\"\n";
  c->daemon = Background::spawn({"containerd", "--config", c->dir + "/config.toml"},
                                c->dir + "/containerd.log");
  if (!waitFor([&] { return fs::exists(c->socket); }, 30)) {
    c->skip = "containerd did not start: " + readFile(c->dir + "/containerd.log");
    return *c;
  }
  const std::string tool = std::string(EXTSYS_SOURCE_ROOT) + "/tools/containerd/oci-image";
  RunResult r = run({{tool, w.rootfs, c->dir + "/image.tar", c->image}, {}, 120, {}});
  if (r.exitCode() == 0)
    r = run({{tool, w.rootfs, c->dir + "/pause.tar", c->pause, "/sleep", "3600"}, {}, 120, {}});
  // ctr's namespace "default", and the CRI plugin's "k8s.io".
  for (const char* ns : {"default", "k8s.io"})
    for (const char* tar : {"/image.tar", "/pause.tar"})
      if (r.exitCode() == 0)
        r = run({{"ctr", "-a", c->socket, "-n", ns, "images", "import", "--snapshotter", "native",
                  c->dir + tar},
                 {}, 120, {}});
  if (r.exitCode() != 0)
    c->skip = "cannot build or import the images: " + r.describe();
  return *c;
}

class Ctr : public ::testing::Test {
protected:
  void SetUp() override {
    if (!containerd().skip.empty())
      GTEST_SKIP() << containerd().skip;
  }
  RunResult ctrRun(const std::string& profile, const std::string& id,
                   std::vector<std::string> cmd) {
    std::vector<std::string> argv{"ctr", "-a", containerd().socket, "run", "--rm",
                                  "--snapshotter", "native", "--seccomp", "--seccomp-profile",
                                  profile, "--env", "EXTSYS_EXPECT=emulated", "--env",
                                  "EXTSYS_PROBE_SYSCALLS=" + knownProbeSyscalls(),
                                  containerd().image, id};
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    return run({argv, {}, 120, {}});
  }
};

TEST_F(Ctr, ProbesReachTheAgentAndRuntimeDefaultStays) {
  const std::string base = std::string(EXTSYS_SOURCE_ROOT) + "/tools/containerd/runtime-default.json";
  RunResult r = run({{binary("EXTSYS"), "oci-profile", "--socket", world().agent->socket,
                      "--base", base},
                     {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  const std::string profile = world().dir + "/ctr-profile.json";
  std::ofstream(profile) << r.out;
  const std::string id = "extsys-ctr-" + std::to_string(getpid());
  r = ctrRun(profile, id + "-probes", {"/probe_cases", "run", "openat2_cf_misalign_3"});
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << world().agent->text();
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  // RuntimeDefault denies perf_event_open (its default action, EPERM) and
  // answers clone3 ENOSYS, probes included.
  r = ctrRun(profile, id + "-denied", {"/probe_cases", "errno_of", "perf_event_open"});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("perf_event_open errno=1\n"), std::string::npos) << r.out;
  // Start time: the same filter without a listener, then with the agent.
  auto p = ojson::parse(readFile(profile));
  p.erase("listenerPath");
  p.erase("listenerMetadata");
  for (auto& rule : p["syscalls"])
    if (rule["action"] == "SCMP_ACT_NOTIFY") {
      rule["action"] = "SCMP_ACT_ERRNO";
      rule["errnoRet"] = 38;
    }
  const std::string shaped = world().dir + "/ctr-shaped.json";
  std::ofstream(shaped) << p.dump(2);
  std::vector<double> ms[2];
  for (int i = 0; i < 5; ++i)
    for (int k = 0; k < 2; ++k) {
      const auto t0 = Clock::now();
      r = ctrRun(k == 0 ? shaped : profile, id + "-t" + std::to_string(i) + std::to_string(k),
                 {"/probe_cases", "exit_code", "0"});
      ms[k].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      EXPECT_EQ(r.exitCode(), 0) << r.describe();
    }
  std::cout << fmt::format("[ timing   ] ctr run (containerd, runc), median of 5: filter, no "
                           "agent {:.1f} ms; with the agent {:.1f} ms\n",
                           median(ms[0]), median(ms[1]));
}

// The CRI path, as kubelet drives it for a pod whose securityContext has
// seccompProfile {type: Localhost}: RunPodSandbox, CreateContainer with the
// Localhost profile (tools/kubernetes/ installs the same composed profile
// under /var/lib/kubelet/seccomp), StartContainer; tests/integration/
// cri_client.py is the client (python3-grpcio).
TEST_F(Ctr, CriLocalhostProfileProbesAreAnswered) {
  if (!fs::exists("/usr/lib/python3/dist-packages/grpc/__init__.py"))
    GTEST_SKIP() << "python3-grpcio is not installed";
  const std::string base = std::string(EXTSYS_SOURCE_ROOT) + "/tools/containerd/runtime-default.json";
  const std::string profile = world().dir + "/cri-profile.json";
  RunResult r = run({{binary("EXTSYS"), "oci-profile", "--socket", world().agent->socket,
                      "--base", base},
                     {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  std::ofstream(profile) << r.out;
  const std::string logs = world().dir + "/cri-logs";
  fs::create_directories(logs);
  r = run({{"/usr/bin/python3", std::string(EXTSYS_SOURCE_ROOT) + "/tests/integration/cri_client.py",
            containerd().socket, containerd().image, profile, logs, "/probe_cases", "run",
            "openat2_cf_misalign_3", "openat2_cf_size_page"},
           {"EXTSYS_EXPECT=emulated", "EXTSYS_PROBE_SYSCALLS=" + knownProbeSyscalls()},
           180,
           {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exit_code=0"), std::string::npos) << r.out << world().agent->text();
}

}  // namespace
}  // namespace extsys::test

namespace extsys::test {
namespace {

// The agent with the privileges the systemd unit leaves it
// (tools/systemd/extsys-agent.service.in): no_new_privs and a capability
// bounding set of CAP_SYS_PTRACE alone, through setpriv. It serves a runc
// container byte-exact; with no capability at all it cannot write the
// answers, so CAP_SYS_PTRACE is needed and enough.
TEST(HardenedAgent, CapSysPtraceAloneServesAContainer) {
  World& w = world();
  if (!w.skip.empty())
    GTEST_SKIP() << w.skip;
  if (which("setpriv").empty() || which("runc").empty())
    GTEST_SKIP() << "setpriv (util-linux) or runc missing";
  for (const bool ptrace : {true, false}) {
    const std::string name = ptrace ? "hardened" : "nocaps";
    const std::string sock = w.dir + "/" + name + ".sock", log = w.dir + "/" + name + ".log";
    Background agent = Background::spawn(
        {"setpriv", "--no-new-privs", "--inh-caps=-all",
         std::string("--bounding-set=") + (ptrace ? "-all,+sys_ptrace" : "-all"),
         binary("EXTSYS"), "agent", "--socket", sock},
        log);
    ASSERT_TRUE(waitFor([&] { return readFile(log).find("listening on") != std::string::npos; },
                        30))
        << readFile(log);
    const std::string cid = "extsys-" + name + "-" + std::to_string(getpid());
    const std::string b =
        makeBundle(cid, {"/probe_cases", "run", "clone3_cf_v2", "openat2_cf_misalign_3"}, "",
                   sock, {"EXTSYS_EXPECT=emulated"});
    RunResult r = run({{which("runc"), "--root", w.dir + "/state-" + name, "run", "--bundle", b,
                        cid},
                       {}, 60, {}});
    if (ptrace) {
      EXPECT_EQ(r.exitCode(), 0) << r.describe() << readFile(log);
      EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
    } else {
      EXPECT_NE(r.exitCode(), 0) << "answered without CAP_SYS_PTRACE?\n" << r.out << readFile(log);
    }
    (void)run({{which("runc"), "--root", w.dir + "/state-" + name, "delete", "-f", cid}, {}, 30, {}});
    agent.stop();
  }
}

}  // namespace
}  // namespace extsys::test
