// SPDX-License-Identifier: MIT
// containment_test - the Landlock containment domain on the running kernel.
// A forked child becomes uid 65534 (when the test runs as root) and makes the
// "outside": a same-uid, dumpable process and abstract unix listeners, all
// created before any domain exists - the position of the supervisor and of
// the user's other processes. Its own child enforces the domain (a one-way
// step) and tries to reach them; same uid and dumpable, so only Landlock can
// refuse. Attempts are reported as "key=ERRNO" lines and asserted here.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>

#include "base/errno_name.h"
#include "launcher/containment.h"

namespace extsys::launcher {
namespace {

// The kernel's own answer, independent of the code under test.
int kernelLandlockAbi() {
  long v = syscall(444 /* landlock_create_ruleset */, nullptr, 0, 1U /* VERSION */);
  return v > 0 ? static_cast<int>(v) : 0;
}

using Report = std::map<std::string, std::string>;

// Runs body in a forked child; body writes "key=value" lines to fd.
Report inChild(const std::function<void(int fd)>& body) {
  int p[2];
  EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    body(p[1]);
    _exit(0);
  }
  close(p[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  Report r;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl - start);
    size_t eq = line.find('=');
    if (eq != std::string::npos)
      r[line.substr(0, eq)] = line.substr(eq + 1);
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  return r;
}

void put(int fd, const std::string& key, const std::string& value) {
  std::string line = key + "=" + value + "\n";
  (void)!write(fd, line.data(), line.size());
}

// "0" on success, else the errno name.
std::string outcome(long rc) { return rc >= 0 ? "0" : errnoName(errno); }

sockaddr_un abstractAddr(const std::string& name, socklen_t* len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return a;
}

bool becomeNobody() {
  return setgroups(0, nullptr) == 0 && setresgid(65534, 65534, 65534) == 0 &&
         setresuid(65534, 65534, 65534) == 0 && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0;
}

// A world-writable directory with two subdirectories, for the rename check.
class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/extsys-contain-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    path = tmpl;
    for (const char* sub : {"/a", "/b"}) {
      std::filesystem::create_directories(path + sub);
      chmod((path + sub).c_str(), 0777);
    }
    chmod(path.c_str(), 0755);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

int abstractListener(int type, const std::string& name) {
  socklen_t len;
  sockaddr_un a = abstractAddr(name, &len);
  int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      (type == SOCK_STREAM && listen(s, 8) != 0))
    return -1;
  return s;
}

// Every attempt the cases below assert on, made from inside the domain
// against `outside` and the listeners named stream/dgram.
void attempts(int fd, pid_t outside, const std::string& stream, const std::string& dgram,
              const std::string& dir) {
  const std::string proc = "/proc/" + std::to_string(outside);
  put(fd, "ptrace_outside", outcome(ptrace(PTRACE_SEIZE, outside, 0, 0)));
  put(fd, "mem_outside", outcome(open((proc + "/mem").c_str(), O_RDWR | O_CLOEXEC)));
  put(fd, "environ_outside", outcome(open((proc + "/environ").c_str(), O_RDONLY | O_CLOEXEC)));
  put(fd, "kill0_outside", outcome(kill(outside, 0)));
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, outside, 0));
  put(fd, "pidfd_signal0_outside", outcome(syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0)));
  put(fd, "pidfd_getfd_outside", outcome(syscall(SYS_pidfd_getfd, pidfd, 0, 0)));
  socklen_t len;
  sockaddr_un a = abstractAddr(stream, &len);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  put(fd, "abstract_connect_outside", outcome(connect(s, reinterpret_cast<sockaddr*>(&a), len)));
  a = abstractAddr(dgram, &len);
  int d = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  put(fd, "abstract_sendto_outside",
      outcome(sendto(d, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), len)));

  // Inside the domain everything still works.
  pid_t inside = fork();
  if (inside == 0) {
    pause();
    _exit(0);
  }
  put(fd, "kill0_inside", outcome(kill(inside, 0)));
  put(fd, "ptrace_inside", outcome(ptrace(PTRACE_SEIZE, inside, 0, 0)));
  kill(inside, SIGKILL);
  waitpid(inside, nullptr, 0);
  const std::string mine = "extsys-ct-in-" + std::to_string(getpid());
  int l = abstractListener(SOCK_STREAM, mine);
  a = abstractAddr(mine, &len);
  int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  put(fd, "abstract_connect_inside",
      outcome(l < 0 ? -1 : connect(c, reinterpret_cast<sockaddr*>(&a), len)));

  // Files behave as before, renames across directories included.
  const std::string from = dir + "/a/f", to = dir + "/b/f";
  put(fd, "create", outcome(open(from.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)));
  put(fd, "rename_across_dirs", outcome(rename(from.c_str(), to.c_str())));
}

Report containedAttempts(const ContainmentOptions& opts, const std::string& dir) {
  return inChild([&](int fd) {
    if (geteuid() == 0 && !becomeNobody())
      return put(fd, "setup", std::string("becoming uid 65534: ") + errnoName(errno));
    const std::string tag = std::to_string(getpid());
    const std::string stream = "extsys-ct-s-" + tag, dgram = "extsys-ct-d-" + tag;
    int ls = abstractListener(SOCK_STREAM, stream), ld = abstractListener(SOCK_DGRAM, dgram);
    if (ls < 0 || ld < 0)
      return put(fd, "setup", std::string("listeners: ") + errnoName(errno));
    pid_t outside = fork();
    if (outside == 0) {
      pause();
      _exit(0);
    }
    pid_t contained = fork();
    if (contained == 0) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        put(fd, "setup", "no_new_privs");
        _exit(0);
      }
      auto c = containSelf(opts);
      if (!c) {
        put(fd, "error", c.error().message());
        _exit(0);
      }
      put(fd, "level", containmentLevelName(c->level));
      put(fd, "reason", c->reason);
      attempts(fd, outside, stream, dgram, dir);
      _exit(0);
    }
    waitpid(contained, nullptr, 0);
    kill(outside, SIGKILL);
    waitpid(outside, nullptr, 0);
  });
}

// Root only: mounting a tmpfs in a private mount namespace after containSelf.
Report mountAfterContainment(const ContainmentOptions& opts, const std::string& dir) {
  return inChild([&](int fd) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      return put(fd, "setup", "no_new_privs");
    auto c = containSelf(opts);
    if (!c)
      return put(fd, "error", c.error().message());
    put(fd, "level", containmentLevelName(c->level));
    if (unshare(CLONE_NEWNS) != 0)
      return put(fd, "setup", std::string("unshare(CLONE_NEWNS): ") + errnoName(errno));
    // A propagation change is itself a mount topology change.
    const long priv = mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    put(fd, "make_private", outcome(priv));
    if (priv == 0)  // never mount where it could propagate to the test's namespace
      put(fd, "mount_tmpfs", outcome(mount("none", (dir + "/a").c_str(), "tmpfs", 0, "size=64k")));
  });
}

TEST(Containment, ProbeAgreesWithTheKernel) {
  const int abi = kernelLandlockAbi();
  const Containment c = probeContainment();
  EXPECT_EQ(c.landlockAbi, abi);
  EXPECT_FALSE(c.reason.empty());
  if (abi >= 6)
    EXPECT_EQ(c.level, ContainmentLevel::PtraceSignalsAbstractUnix) << c.reason;
  else if (abi >= 1)
    EXPECT_EQ(c.level, ContainmentLevel::Ptrace) << c.reason;
  else
    EXPECT_EQ(c.level, ContainmentLevel::None) << c.reason;
  std::cout << "this kernel: Landlock ABI " << abi << " -> " << containmentLevelName(c.level)
            << ": " << c.reason << "\n";
}

TEST(Containment, FullScopesPtraceSignalsAndAbstractSockets) {
  if (kernelLandlockAbi() < 6)
    GTEST_SKIP() << "needs Landlock ABI >= 6 (Linux 6.12); this kernel has "
                 << kernelLandlockAbi();
  TempDir d;
  Report r = containedAttempts({}, d.path);
  ASSERT_EQ(r["level"], "ptrace+signals+abstract-unix") << r["setup"] << r["error"];
  EXPECT_EQ(r["ptrace_outside"], "EPERM");
  EXPECT_EQ(r["mem_outside"], "EACCES");
  EXPECT_EQ(r["environ_outside"], "EACCES");
  EXPECT_EQ(r["kill0_outside"], "EPERM");
  EXPECT_EQ(r["pidfd_signal0_outside"], "EPERM");
  EXPECT_EQ(r["pidfd_getfd_outside"], "EPERM");
  EXPECT_EQ(r["abstract_connect_outside"], "EPERM");
  EXPECT_EQ(r["abstract_sendto_outside"], "EPERM");
  EXPECT_EQ(r["kill0_inside"], "0");
  EXPECT_EQ(r["ptrace_inside"], "0");
  EXPECT_EQ(r["abstract_connect_inside"], "0");
  EXPECT_EQ(r["create"], "0");
  EXPECT_EQ(r["rename_across_dirs"], "0");
}

TEST(Containment, ScopeOnlyDomainLeavesMountsAlone) {
  if (kernelLandlockAbi() < 6 || geteuid() != 0)
    GTEST_SKIP() << "needs Landlock ABI >= 6 and root (to mount)";
  TempDir d;
  Report r = mountAfterContainment({}, d.path);
  ASSERT_EQ(r["level"], "ptrace+signals+abstract-unix") << r["setup"] << r["error"];
  EXPECT_EQ(r["make_private"], "0") << r["setup"];
  EXPECT_EQ(r["mount_tmpfs"], "0") << r["setup"];
}

TEST(Containment, BelowAbi6OnlyPtraceIsScoped) {
  if (kernelLandlockAbi() < 2)
    GTEST_SKIP() << "needs Landlock ABI >= 2; this kernel has " << kernelLandlockAbi();
  TempDir d;
  Report r = containedAttempts({.maxAbi = 5}, d.path);
  ASSERT_EQ(r["level"], "ptrace") << r["setup"] << r["error"];
  EXPECT_NE(r["reason"].find("signals and abstract unix sockets"), std::string::npos) << r["reason"];
  EXPECT_EQ(r["ptrace_outside"], "EPERM");
  EXPECT_EQ(r["mem_outside"], "EACCES");
  EXPECT_EQ(r["environ_outside"], "EACCES");
  EXPECT_EQ(r["pidfd_getfd_outside"], "EPERM");
  EXPECT_EQ(r["kill0_outside"], "0") << "signals are not scoped below ABI 6";
  EXPECT_EQ(r["abstract_connect_outside"], "0");
  EXPECT_EQ(r["ptrace_inside"], "0");
  EXPECT_EQ(r["create"], "0");
  EXPECT_EQ(r["rename_across_dirs"], "0") << "the REFER rule on / keeps renames working";
}

TEST(Containment, BelowAbi6MountTopologyChangesAreRefused) {
  if (kernelLandlockAbi() < 1 || geteuid() != 0)
    GTEST_SKIP() << "needs Landlock and root (to mount)";
  TempDir d;
  Report r = mountAfterContainment({.maxAbi = 5}, d.path);
  ASSERT_EQ(r["level"], "ptrace") << r["setup"] << r["error"];
  EXPECT_EQ(r["make_private"], "EPERM") << "the documented side effect of a filesystem domain "
                                          << r["setup"];
}

TEST(Containment, Abi1RefusesCrossDirectoryRenames) {
  if (kernelLandlockAbi() < 1)
    GTEST_SKIP() << "this kernel has no Landlock";
  TempDir d;
  Report r = containedAttempts({.maxAbi = 1}, d.path);
  ASSERT_EQ(r["level"], "ptrace") << r["setup"] << r["error"];
  EXPECT_NE(r["reason"].find("EXDEV"), std::string::npos) << r["reason"];
  EXPECT_EQ(r["ptrace_outside"], "EPERM");
  EXPECT_EQ(r["rename_across_dirs"], "EXDEV");
}

TEST(Containment, NoneEnforcesNothing) {
  TempDir d;
  Report r = containedAttempts({.maxAbi = 0}, d.path);
  ASSERT_EQ(r["level"], "none") << r["setup"] << r["error"];
  EXPECT_FALSE(r["reason"].empty());
  EXPECT_EQ(r["ptrace_outside"], "0");
  EXPECT_EQ(r["environ_outside"], "0");
  EXPECT_EQ(r["kill0_outside"], "0");
  EXPECT_EQ(r["abstract_connect_outside"], "0");
}

TEST(Containment, WithoutNoNewPrivsItIsAnErrorAndNothingIsEnforced) {
  if (kernelLandlockAbi() < 1)
    GTEST_SKIP() << "this kernel has no Landlock";
  Report r = inChild([&](int fd) {
    if (geteuid() == 0 && !becomeNobody())
      return put(fd, "setup", std::string("becoming uid 65534: ") + errnoName(errno));
    // A process forked before the attempt: reachable only if no domain exists.
    pid_t before = fork();
    if (before == 0) {
      pause();
      _exit(0);
    }
    auto c = containSelf();
    put(fd, "ok", c ? "yes" : "no");
    if (!c) {
      put(fd, "err", errnoName(c.error().err()));
      put(fd, "message", c.error().message());
    }
    put(fd, "ptrace_before", outcome(ptrace(PTRACE_SEIZE, before, 0, 0)));
    kill(before, SIGKILL);
    waitpid(before, nullptr, 0);
  });
  ASSERT_EQ(r["ok"], "no") << r["setup"];
  EXPECT_EQ(r["err"], "EPERM");
  EXPECT_NE(r["message"].find("no_new_privs"), std::string::npos) << r["message"];
  EXPECT_EQ(r["ptrace_before"], "0") << "a failed containSelf must leave no domain behind";
}

}  // namespace
}  // namespace extsys::launcher

namespace extsys::launcher {
namespace {

Containment level(ContainmentLevel l, int abi, const std::string& reason) {
  Containment c;
  c.level = l;
  c.landlockAbi = abi;
  c.usedAbi = l == ContainmentLevel::None ? 0 : abi;
  c.reason = reason;
  return c;
}

// What `extsys run` does under a strict policy, per kernel and opt-in.
TEST(ContainmentDecision, RefusesBelowTheFloorAndNamesTheOptIn) {
  using policy::ContainmentFloor;
  const Containment full = level(ContainmentLevel::PtraceSignalsAbstractUnix, 7, "Landlock ABI 7");
  const Containment ptrace = level(ContainmentLevel::Ptrace, 2, "Landlock ABI 2 (< 6): ...");
  const Containment none = level(ContainmentLevel::None, 0,
                                 "no containment: Landlock is built into this kernel but not "
                                 "enabled at boot (EOPNOTSUPP)");
  for (auto floor : {ContainmentFloor::Full, ContainmentFloor::PtraceOnly, ContainmentFloor::None}) {
    auto d = decideContainment(floor, full, "sandbox-strict");
    EXPECT_TRUE(d.refusal.empty()) << d.refusal;
    EXPECT_TRUE(d.warning.empty()) << "full containment is not weaker: " << d.warning;
    EXPECT_EQ(d.planned.level, ContainmentLevel::PtraceSignalsAbstractUnix);
  }
  auto d = decideContainment(ContainmentFloor::Full, ptrace, "sandbox-strict");
  EXPECT_NE(d.refusal.find("--containment ptrace-only"), std::string::npos) << d.refusal;
  EXPECT_NE(d.refusal.find("ABI 2"), std::string::npos) << d.refusal;
  EXPECT_EQ(d.refusal.find('\n'), std::string::npos) << "one line";
  for (auto floor : {ContainmentFloor::PtraceOnly, ContainmentFloor::None}) {
    d = decideContainment(floor, ptrace, "sandbox-strict");
    EXPECT_TRUE(d.refusal.empty()) << d.refusal;
    EXPECT_EQ(d.planned.level, ContainmentLevel::Ptrace);
    EXPECT_NE(d.warning.find("signal"), std::string::npos) << "never silently weaker: " << d.warning;
    EXPECT_NE(d.warning.find("abstract unix"), std::string::npos) << d.warning;
  }
  for (auto floor : {ContainmentFloor::Full, ContainmentFloor::PtraceOnly}) {
    d = decideContainment(floor, none, "sandbox-strict");
    EXPECT_NE(d.refusal.find("--containment none"), std::string::npos) << d.refusal;
    EXPECT_NE(d.refusal.find("not enabled at boot"), std::string::npos) << "names the cause: "
                                                                       << d.refusal;
  }
  d = decideContainment(ContainmentFloor::None, none, "sandbox-strict");
  EXPECT_TRUE(d.refusal.empty()) << d.refusal;
  EXPECT_NE(d.warning.find("ptrace"), std::string::npos) << d.warning;
}

}  // namespace
}  // namespace extsys::launcher
