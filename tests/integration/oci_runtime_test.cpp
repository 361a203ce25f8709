// SPDX-License-Identifier: MIT
// oci_runtime_test (integration) - `extsys agent` and `extsys oci-profile`
// with real container runtimes: runc and crun (Runtimes/Oci.*) run a rootfs
// made of the static probe binary, the runtime sends the container's
// listener to the agent, and the container's CHECK_FIELDS probes must be
// answered byte-exact. Also: per-container policies, exec, many containers
// at once, resources freed on exit, agent stop/restart, and the container
// start time with and without the agent.
//
// These tests need root and runc/crun in PATH (tools/extsys-dev installs
// them); they skip with the exact reason otherwise. crun 1.8 refuses hybrid
// cgroup hosts; where /sys/fs/cgroup is a tmpfs with a non-empty cgroup2
// controller list, crun runs in a private mount namespace with that list
// hidden (the workaround src/agent/README.md, 'With runc, crun and podman',
// gives users). The world they
// share (rootfs, agent, bundles) is in oci_support.cpp.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "oci_support.h"
#include "subprocess.h"

namespace extsys::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string readlinkText(const std::string& path) {
  char buf[128] = {};
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string lastLineStarting(const std::string& text, const std::string& prefix) {
  std::string found;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.rfind(prefix, 0) == 0)
      found = l;
  return found;
}

// "key=value" in a RESULT line.
std::string fieldOf(const std::string& line, const std::string& key) {
  const size_t at = line.find(" " + key + "=");
  if (at == std::string::npos)
    return "";
  const size_t from = at + key.size() + 2;
  return line.substr(from, line.find(' ', from) - from);
}

class Oci : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    World& w = world();
    if (!w.skip.empty())
      GTEST_SKIP() << w.skip;
    rt_.name = GetParam();
    rt_.path = which(rt_.name);
    if (rt_.path.empty())
      GTEST_SKIP() << rt_.name << " is not installed (not found in PATH); "
                   << "install it with apt-get install " << rt_.name;
    rt_.stateDir = w.dir + "/state-" + rt_.name;
    rt_.emptyFile = w.dir + "/empty";
    rt_.hideCgroup2Controllers = rt_.name == "crun" && hybridCgroupsWithV2Controllers();
    static bool warned = false;
    if (rt_.hideCgroup2Controllers && !warned) {
      warned = true;
      std::cout << "[ note     ] crun: /sys/fs/cgroup is a tmpfs and cgroup2 lists controllers "
                   "(hybrid): crun runs in a private mount namespace with "
                   "/sys/fs/cgroup/unified/cgroup.controllers hidden\n";
    }
    RunResult v = run({{rt_.path, "--version"}, {}, 30, rt_.inChild()});
    if (v.exitCode() != 0)
      GTEST_SKIP() << rt_.name << " --version fails: " << v.describe();
  }

  std::string id(const std::string& what) {
    return "extsys-" + what + "-" + rt_.name + "-" + std::to_string(getpid()) + "-" +
           std::to_string(++world().seq);
  }
  RunResult runContainer(const std::string& bundle, const std::string& cid, int timeout = 60) {
    return run({rt_.cmd({"run", "--bundle", bundle, cid}), {}, timeout, rt_.inChild()});
  }
  Background spawnContainer(const std::string& bundle, const std::string& cid) {
    return Background::spawn(rt_.cmd({"run", "--bundle", bundle, cid}),
                             world().dir + "/" + cid + ".out", rt_.inChild());
  }
  void remove(const std::string& cid) {
    (void)run({rt_.cmd({"delete", "-f", cid}), {}, 30, rt_.inChild()});
  }
  Agent& agent() { return *world().agent; }

  Runtime rt_;
};

TEST_P(Oci, ContainerProbesAreAnsweredByTheAgent) {
  const std::string cid = id("probes");
  const std::string b = makeBundle(
      cid, {"/probe_cases", "run", "clone3_cf_v2", "openat2_cf_misalign_3", "mount_setattr_cf_56"},
      "", agent().socket, {"EXTSYS_EXPECT=emulated"});
  RunResult r = runContainer(b, cid);
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << agent().text();
  for (const char* c :
       {"PASS clone3_cf_v2", "PASS openat2_cf_misalign_3", "PASS mount_setattr_cf_56"})
    EXPECT_NE(r.out.find(c), std::string::npos) << r.out;
  EXPECT_TRUE(waitFor(
      [&] {
        return hasLine(agent().text(),
                       {"container " + cid + " init (pid", "no task left; probes answered 3,"});
      },
      10))
      << agent().text();

  // Control: the same container without the agent's profile gets the
  // kernel's own answer (E2BIG), so the answers above came from the agent.
  const std::string b2 = makeBundle(cid + "-native", {"/probe_cases", "run", "clone3_cf_v2"}, "",
                                    "", {"EXTSYS_EXPECT=native"}, false);
  r = runContainer(b2, cid + "-native");
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

TEST_P(Oci, PerContainerPolicyFromListenerMetadata) {
  const std::string cid = id("policy");
  const size_t auditBefore = readFile(world().dir + "/audit.jsonl").size();
  // kernel-5.10: no RESOLVE_CACHED, no mount_setattr. Probes say so...
  std::string b = makeBundle(cid, {"/policy_cases", "told"}, "kernel-5.10", agent().socket);
  RunResult r = runContainer(b, cid);
  ASSERT_EQ(r.exitCode(), 0) << r.describe() << agent().text();
  EXPECT_NE(r.out.find("openat2 errno=134 flags=0x7fffc3 mode=0xfff resolve=0x1f"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("clone3 errno=134 flags=0x3ffffffff size=88"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mount_setattr errno=ENOSYS"), std::string::npos) << r.out;
  // ...and real calls using more get what 5.10 answers (the agent checks them).
  b = makeBundle(cid + "-more", {"/policy_cases", "use-more"}, "kernel-5.10", agent().socket);
  r = runContainer(b, cid + "-more");
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << agent().text();
  // The byte-exact probe check with 5.10's resolve mask, in the same agent
  // that serves default-policy containers with 0x3f.
  b = makeBundle(
      cid + "-exact",
      {"/probe_cases", "run", "openat2_cf_misalign_3", "clone3_cf_v2", "mount_setattr_cf_56"},
      "kernel-5.10", agent().socket, {"EXTSYS_EXPECT=emulated", "EXTSYS_EXPECT_RESOLVE=0x1f"});
  r = runContainer(b, cid + "-exact");
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SKIP mount_setattr_cf_56"), std::string::npos) << r.out;
  EXPECT_TRUE(hasLine(agent().text(),
                      {"container " + cid + " init (pid", "serving with policy kernel-5.10"}))
      << agent().text();

  // What the runtime itself does before the workload starts never reaches
  // the agent: every decision it made was about the workload's calls, even
  // with openat2 real calls notified (5.10 restricts them).
  std::stringstream audit(readFile(world().dir + "/audit.jsonl").substr(auditBefore));
  size_t lines = 0;
  for (std::string line; std::getline(audit, line); ++lines) {
    json j = json::parse(line);
    EXPECT_TRUE(j["comm"] == "policy_cases" || j["comm"] == "probe_cases") << line;
  }
  EXPECT_GT(lines, 5u);
}

TEST_P(Oci, EachExecGetsItsOwnConnection) {
  const std::string cid = id("exec");
  const std::string b = makeBundle(cid, {"/sleep", "60"}, "", agent().socket);
  Background create = Background::spawn(rt_.cmd({"create", "--bundle", b, cid}),
                                        world().dir + "/" + cid + ".create", rt_.inChild());
  ASSERT_EQ(exitText(create.wait(60)), "exit 0") << readFile(world().dir + "/" + cid + ".create");
  RunResult r = run({rt_.cmd({"start", cid}), {}, 30, rt_.inChild()});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  r = run({rt_.cmd({"exec", "--env", "EXTSYS_EXPECT=emulated", cid, "/probe_cases", "run",
                    "clone3_cf_v2", "openat2_cf_misalign_3"}),
           {},
           60,
           rt_.inChild()});
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << agent().text();
  EXPECT_TRUE(waitFor(
      [&] { return agent().text().find("container " + cid + " exec (pid") != std::string::npos; },
      10))
      << agent().text();
  remove(cid);  // delete -f: kills the init
  EXPECT_TRUE(waitFor(
      [&] {
        return hasLine(agent().text(), {"container " + cid + " init (pid", "no task left"});
      },
      10))
      << agent().text();
}

TEST_P(Oci, ManyContainersAtOnceAndEachExitFreesItsServer) {
  const size_t fdsBefore = fdCount(agent().proc.pid);
  std::vector<std::pair<std::string, Background>> running;
  for (int i = 0; i < 4; ++i) {
    const std::string cid = id("many");
    // Every other one under kernel-5.10 (no RESOLVE_CACHED, no mount_setattr).
    std::vector<std::string> env{"EXTSYS_EXPECT=emulated"};
    if (i % 2)
      env.push_back("EXTSYS_EXPECT_RESOLVE=0x1f");
    // Two probe hard (16 threads) while the other two start, fork and exec.
    std::vector<std::string> args{"/probe_cases", "run", "openat2_cf_misalign_3", "clone3_cf_v2"};
    for (const char* c : i < 2 ? std::vector<const char*>{"concurrency_16x2000"}
                               : std::vector<const char*>{"desc_fork_child", "desc_vfork",
                                                          "desc_exec_chain", "desc_child_thread"})
      args.push_back(c);
    const std::string b = makeBundle(cid, args, i % 2 ? "kernel-5.10" : "", agent().socket, env);
    running.emplace_back(cid, spawnContainer(b, cid));
  }
  for (auto& [cid, proc] : running) {
    const int st = proc.wait(120);
    EXPECT_EQ(exitText(st), "exit 0") << readFile(world().dir + "/" + cid + ".out");
    EXPECT_NE(readFile(world().dir + "/" + cid + ".out").find("PASS clone3_cf_v2"),
              std::string::npos);
  }
  EXPECT_TRUE(waitFor([&] { return childrenOf(agent().proc.pid).empty(); }, 10))
      << childrenOf(agent().proc.pid).size() << " server(s) left";
  EXPECT_EQ(fdCount(agent().proc.pid), fdsBefore);
}

TEST_P(Oci, StoppingTheAgentLeavesRunningContainersServedAndARestartServesNewOnes) {
  const std::string dir = world().dir;
  Agent first = Agent::start(dir, "stop-" + rt_.name);
  ASSERT_TRUE(first.ready()) << first.text();
  const std::string cid = id("stop");
  // 32000 probes: it is still probing when the agent stops a moment after
  // the container connected.
  const std::string b = makeBundle(cid, {"/probe_cases", "run", "concurrency_16x2000"}, "",
                                   first.socket, {"EXTSYS_EXPECT=emulated"});
  Background long_ = spawnContainer(b, cid);
  ASSERT_TRUE(waitFor(
      [&] { return first.text().find("container " + cid + " init") != std::string::npos; }, 30))
      << first.text();
  EXPECT_EQ(exitText(first.proc.stop()), "exit 0");
  EXPECT_NE(first.text().find("stopped accepting; 1 container server(s) keep serving"),
            std::string::npos)
      << first.text();
  EXPECT_FALSE(fs::exists(first.socket)) << "the agent removes the socket it made";

  // A new agent on the same path serves new containers meanwhile. It logs
  // to a file of its own: in the first one's log, "listening on" is there
  // already, and ready() would not wait for the new socket.
  Agent second = Agent::start(dir, "restart-" + rt_.name, {}, "stop-" + rt_.name);
  ASSERT_EQ(second.socket, first.socket);
  ASSERT_TRUE(second.ready()) << second.text();
  const std::string cid2 = id("restart");
  const std::string b2 = makeBundle(cid2, {"/probe_cases", "run", "clone3_cf_v2"}, "",
                                    second.socket, {"EXTSYS_EXPECT=emulated"});
  RunResult r = runContainer(b2, cid2);
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << second.text();

  const int st = long_.wait(180);
  EXPECT_EQ(exitText(st), "exit 0") << readFile(dir + "/" + cid + ".out") << first.text();
  // Its server went on answering after the accept loop had stopped. It logs
  // "no task left" once it notices the container is gone: wait for it.
  EXPECT_TRUE(waitFor(
      [&] {
        const std::string log = first.text();
        const size_t stopped = log.find("stopped accepting");
        return stopped != std::string::npos &&
               hasLine(log.substr(stopped), {"container " + cid + " init (pid", "no task left"});
      },
      10))
      << first.text();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

TEST_P(Oci, ContainerStartTimeWithAndWithoutTheAgent) {
  // Three bundles running `probe_cases exit_code 0`: no seccomp section; the
  // extsys profile with its NOTIFY rules turned into ERRNO and no listener
  // (the same filter shape, no agent); the extsys profile with the agent.
  // Run round-robin so that load changes hit all three alike.
  const std::string cid = id("time");
  const std::vector<std::string> args{"/probe_cases", "exit_code", "0"};
  const std::string plain = makeBundle(cid + "-plain", args, "", "", {}, false);
  const std::string served = makeBundle(cid + "-agent", args, "", agent().socket);
  const std::string shaped = makeBundle(cid + "-filter", args, "", agent().socket);
  json c = json::parse(readFile(shaped + "/config.json"));
  json& sc = c["linux"]["seccomp"];
  sc.erase("listenerPath");
  sc.erase("listenerMetadata");
  for (auto& r : sc["syscalls"])
    if (r["action"] == "SCMP_ACT_NOTIFY") {
      r["action"] = "SCMP_ACT_ERRNO";
      r["errnoRet"] = ENOSYS;
    }
  std::ofstream(shaped + "/config.json") << c.dump(2);

  const std::vector<std::pair<const char*, std::string>> configs{
      {"no seccomp", plain}, {"filter, no agent", shaped}, {"extsys profile + agent", served}};
  std::vector<std::vector<double>> ms(configs.size());
  for (int i = 0; i < 10; ++i)
    for (size_t k = 0; k < configs.size(); ++k) {
      const auto t0 = Clock::now();
      RunResult r = runContainer(configs[k].second, cid + "-" + std::to_string(k));
      ms[k].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      EXPECT_EQ(r.exitCode(), 0) << configs[k].first << ": " << r.describe();
    }
  std::string line = "[ timing   ] " + rt_.name + " run, median of 10:";
  for (size_t k = 0; k < configs.size(); ++k) {
    line += fmt::format(" {} {:.1f} ms;", configs[k].first, median(ms[k]));
    RecordProperty(std::string("start_ms_") + std::to_string(k), std::to_string(median(ms[k])));
  }
  std::cout << line
            << fmt::format(" agent - no seccomp: {:+.1f} ms\n", median(ms[2]) - median(ms[0]));
}

// sandbox-strict's claims inside a container, through `extsys oci-profile
// --policy sandbox-strict`: the same attacks as the escape suite
// (escape_test.cpp), as the container's uid 65534 (and as its root with
// CAP_SYS_ADMIN for the remounts). Containment there is the container's own
// pid namespace, not Landlock: processes outside are not even visible. One
// container per attack.
struct ContainerRow {
  std::string name;
  std::vector<std::string> args;  // escape_cases arguments
  std::string expect;             // documented errno ("A|B")
  bool root = false;              // container root with CAP_SYS_ADMIN (else uid 65534)
};

// A process of uid 65534 in a user namespace of its own, outside.
pid_t usernsOutside() {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0 ||
        unshare(CLONE_NEWUSER) != 0)
      _exit(97);
    for (;;)
      pause();
  }
  return pid;
}

TEST_P(Oci, StrictProfileHoldsInAContainer) {
  const pid_t userns = usernsOutside();
  const std::string nsPath = "/proc/" + std::to_string(userns) + "/ns/user";
  ASSERT_TRUE(waitFor([&] { return readlinkText(nsPath) != readlinkText("/proc/self/ns/user"); }, 5));
  // The runtime's libseccomp skips a name it does not know (and so the rule):
  // documented, and asserted as such.
  const bool fchmodat2Known = seccomp_syscall_resolve_name("fchmodat2") >= 0;
  std::vector<ContainerRow> rows;
  for (const char* kind : {"chmod", "fchmod", "fchmodat", "fchmodat2", "fchmodat2-empty",
                           "mknod", "mknodat", "open", "openat", "creat"})
    rows.push_back({std::string("setuid_") + kind, {"setid", kind, "/dev/shm", "suid"},
                    std::string(kind).rfind("fchmodat2", 0) == 0 ? "EPERM|ENOSYS" : "EPERM"});
  rows.push_back({"setgid_chmod", {"setid", "chmod", "/dev/shm", "sgid"}, "EPERM"});
  for (const char* nstype : {"0", "user", "high"})
    rows.push_back({std::string("setns_userns_fd_") + nstype, {"userns-setns", "3", nstype}, "EPERM"});
  rows.push_back({"clone_newuser", {"userns-clone"}, "EPERM"});
  rows.push_back({"unshare_newuser", {"userns-unshare"}, "EPERM"});
  rows.push_back({"clone3_newuser", {"userns-clone3"}, "ENOSYS"});
  rows.push_back({"io_uring_setup", {"io-uring"}, "ENOSYS"});
  rows.push_back({"mount_remount_bind_rootfs", {"mount-remount-bind", "/"}, "EPERM", true});
  rows.push_back({"mount_remount_rootfs", {"mount-remount", "/"}, "EPERM", true});
  const auto base = rt_.inChild();
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    const std::string cid = id("strict-" + row.name);
    std::vector<std::string> args{"/escape_cases"};
    args.insert(args.end(), row.args.begin(), row.args.end());
    const std::string b = makeBundle(cid, args, "sandbox-strict", agent().socket);
    json c = json::parse(readFile(b + "/config.json"));
    if (row.root) {
      for (const char* set : {"bounding", "effective", "permitted"})
        c["process"]["capabilities"][set].push_back("CAP_SYS_ADMIN");
    } else {
      c["process"]["user"] = {{"uid", 65534}, {"gid", 65534}};
    }
    std::ofstream(b + "/config.json") << c.dump(2);
    RunResult r = run({rt_.cmd({"run", "--preserve-fds", "1", "--bundle", b, cid}), {}, 60, [=] {
                         if (base)
                           base();
                         int fd = open(nsPath.c_str(), O_RDONLY);  // the container's fd 3
                         if (fd < 0 || dup2(fd, 3) < 0)
                           _exit(97);
                       }});
    const std::string result = lastLineStarting(r.out, "RESULT ");
    std::cout << "[ row      ] " << rt_.name << " " << row.name << " (expect " << row.expect
              << "): " << (result.empty() ? r.describe() : result) << "\n";
    ASSERT_FALSE(result.empty()) << r.describe();
    const std::string err = fieldOf(result, "errno");
    const std::string effect = fieldOf(result, "effect");
    if (row.name.find("fchmodat2") != std::string::npos && !fchmodat2Known) {
      EXPECT_TRUE(err == "ENOSYS" || (err == "0" && effect == "1"))
          << "documented gap (this libseccomp does not know fchmodat2): " << result;
      continue;
    }
    EXPECT_NE(("|" + row.expect + "|").find("|" + err + "|"), std::string::npos) << result;
    EXPECT_EQ(effect, "0") << "the attack had its effect: " << result;
  }
  kill(userns, SIGKILL);
  waitpid(userns, nullptr, 0);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, Oci, ::testing::Values("runc", "crun"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace extsys::test
