// SPDX-License-Identifier: MIT
// discovery_test - feature discovery against simulated kernels (the seam
// replaces the raw probe syscalls): each must yield the right answer images,
// quirks included; and discovery on this machine must equal its version row.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <bit>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../sanitizers.h"
#include "kernel/abi/answers.h"
#include "kernel/discovery/discovery.h"
#include "kernel/discovery/live_backend.h"
#include "kernel/abi/uapi_compat.h"
#include "kernel/abi/uapi_flags.h"
#include "sim_kernel.h"

namespace extsys::kernel {
namespace {

using uapi::kCheckFields;
using sim::kBit26;
using sim::SimConfig;
using sim::SimKernel;

ProbeAnswers expectedAnswers(KernelFeatures f) { return buildAnswers(f); }

void expectSameAnswers(const ProbeAnswers& want, const ProbeAnswers& got) {
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& d = syscallTable()[i];
    EXPECT_EQ(got[i].present, want[i].present) << d.name;
    EXPECT_EQ(got[i].ksize, want[i].ksize) << d.name;
    for (const auto& f : d.fields)
      EXPECT_EQ(got[i].field(f.name), want[i].field(f.name)) << d.name << "." << f.name;
    EXPECT_EQ(got[i].image, want[i].image) << d.name;
  }
}

struct VersionCase {
  KernelVersion v;
  bool high32Ignored;
  bool dropsBit26;
};

class SimulatedKernels : public ::testing::TestWithParam<VersionCase> {};

TEST_P(SimulatedKernels, DiscoveryGivesTheVersionsAnswers) {
  const VersionCase& vc = GetParam();
  SimConfig c;
  c.truth = featuresForVersion(vc.v);
  c.high32Ignored = vc.high32Ignored;
  c.dropsBit26 = vc.dropsBit26;
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, vc.v, DiscoveryOptions{true});
  expectSameAnswers(expectedAnswers(c.truth), buildAnswers(got));
  EXPECT_EQ(sim.children, 1) << "exactly one throw-away child";
  for (const auto& d : syscallTable()) {
    EXPECT_EQ(got.report(d.id).source, FeatureSource::Probe) << d.name;
    EXPECT_TRUE(got.report(d.id).disagreements.empty()) << d.name;
  }
  EXPECT_TRUE(got.notify.tested);
  EXPECT_EQ(got.notify.syncWakeUp, (vc.v >= KernelVersion{6, 6, 0}));
  EXPECT_EQ(got.notify.waitKillableRecv, (vc.v >= KernelVersion{5, 19, 0}));
  if (vc.high32Ignored) {
    EXPECT_NE(got.report(SyscallId::Openat2).note.find("32-63"), std::string::npos);
  }
  if (vc.dropsBit26) {
    EXPECT_EQ(got.report(SyscallId::Openat2).unknownAccepted & kBit26, kBit26);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Versions, SimulatedKernels,
    ::testing::Values(VersionCase{{5, 10, 0}, true, true}, VersionCase{{5, 12, 0}, true, true},
                      VersionCase{{5, 14, 0}, false, true}, VersionCase{{6, 1, 0}, false, true},
                      VersionCase{{6, 18, 0}, false, false}, VersionCase{{7, 1, 0}, false, false},
                      VersionCase{{7, 2, 0}, false, false}),
    [](const auto& p) {
      return "v" + std::to_string(p.param.v.major) + "_" + std::to_string(p.param.v.minor) +
             (p.param.high32Ignored ? "_high32ignored" : "") +
             (p.param.dropsBit26 ? "_dropsbit26" : "");
    });

TEST(Discovery, HighFlagBitsIgnoredAreNotReported) {
  // Without the control probe, 5.13's ignored high bits would all look
  // accepted, OPENAT2_REGULAR among them.
  SimConfig c;
  c.truth = featuresForVersion({5, 13, 0});
  c.high32Ignored = true;
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {5, 13, 0}, DiscoveryOptions{true});
  EXPECT_EQ(got.field(SyscallId::Openat2, "flags"), 0x7FFFC3u);
  EXPECT_EQ(got.field(SyscallId::Openat2, "flags") & uapi::kOpenat2Regular, 0u);
}

TEST(Discovery, SilentlyDroppedBit26IsNotReported) {
  SimConfig c;
  c.truth = featuresForVersion({6, 1, 0});
  c.dropsBit26 = true;
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {6, 1, 0}, DiscoveryOptions{true});
  EXPECT_EQ(got.field(SyscallId::Openat2, "flags"), 0x7FFFC3u);
}

TEST(Discovery, SevenTwoWithEmptyPathTrustsTheProbe) {
  SimConfig c;
  c.truth = featuresForVersion({7, 2, 0});
  c.truth.setField(SyscallId::Openat2, "flags",
                   c.truth.field(SyscallId::Openat2, "flags") | uapi::kOEmptyPath);  // landed
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {7, 2, 0}, DiscoveryOptions{true});
  EXPECT_EQ(got.field(SyscallId::Openat2, "flags"), 0x1047FFFC3u);
  const auto& d = got.report(SyscallId::Openat2).disagreements;
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].field, "flags");
  EXPECT_EQ(d[0].table, 0x1007FFFC3u);
  EXPECT_EQ(d[0].probe, 0x1047FFFC3u);
  expectSameAnswers(buildAnswers(c.truth), buildAnswers(got));
}

TEST(Discovery, BackportedFeatureBeatsTheTable) {
  SimConfig c;
  c.truth = featuresForVersion({5, 10, 0});
  c.truth.setField(SyscallId::Openat2, "resolve", 0x3F);  // RESOLVE_CACHED backported
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {5, 10, 0}, DiscoveryOptions{true});
  EXPECT_EQ(got.field(SyscallId::Openat2, "resolve"), 0x3Fu);
  ASSERT_EQ(got.report(SyscallId::Openat2).disagreements.size(), 1u);
  EXPECT_EQ(got.report(SyscallId::Openat2).disagreements[0].field, "resolve");
}

TEST(Discovery, NativeCheckFieldsIsTheTruth) {
  SimConfig c;
  c.truth = featuresForVersion({7, 1, 0});
  c.truth.setField(SyscallId::Clone3, "flags",
                   c.truth.field(SyscallId::Clone3, "flags") | uapi::kCloneEmptyMntns);
  c.nativeCheckFields = true;
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {7, 1, 0}, DiscoveryOptions{true});
  for (const auto& d : syscallTable())
    EXPECT_EQ(got.report(d.id).source, FeatureSource::Native) << d.name;
  expectSameAnswers(buildAnswers(c.truth), buildAnswers(got));
}

TEST(Discovery, UnprivilegedProbesMountInAUserNamespace) {
  SimConfig c;
  c.truth = featuresForVersion({6, 1, 0});
  c.privileged = false;
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {6, 1, 0}, DiscoveryOptions{false});
  EXPECT_EQ(got.report(SyscallId::MountSetattr).source, FeatureSource::Probe);
  EXPECT_EQ(sim.children, 1);
  expectSameAnswers(buildAnswers(c.truth), buildAnswers(got));
}

TEST(Discovery, WhatNeedsPrivilegeIsReportedNotGuessed) {
  SimConfig c;
  c.truth = featuresForVersion({6, 1, 0});
  c.privileged = false;
  c.usernsAllowed = false;
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {6, 1, 0}, DiscoveryOptions{false});
  const auto& r = got.report(SyscallId::MountSetattr);
  EXPECT_EQ(r.source, FeatureSource::Table);
  EXPECT_NE(r.note.find("CAP_SYS_ADMIN"), std::string::npos) << r.note;
  EXPECT_NE(r.note.find("EPERM"), std::string::npos) << r.note;
}

TEST(Discovery, FailedGuardFallsBackToTheTable) {
  SimConfig c;
  c.truth = featuresForVersion({6, 1, 0});
  c.guardWorks = false;
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {6, 1, 0}, DiscoveryOptions{true});
  EXPECT_EQ(got.report(SyscallId::Clone3).source, FeatureSource::Table);
  EXPECT_NE(got.report(SyscallId::Clone3).note.find("guard"), std::string::npos);
}

TEST(Discovery, MissingSyscallsAreAbsent) {
  SimConfig c;
  c.truth = featuresForVersion({5, 4, 0});
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {5, 4, 0}, DiscoveryOptions{true});
  EXPECT_FALSE(got.of(SyscallId::Openat2).present);
  EXPECT_FALSE(got.of(SyscallId::MountSetattr).present);
  EXPECT_TRUE(got.of(SyscallId::Clone3).present);
  EXPECT_EQ(got.of(SyscallId::Clone3).structSize, 64u);
}

// The running kernel: discovery must equal its version row exactly.
TEST(LiveDiscovery, EqualsTheVersionTable) {
  auto v = KernelVersion::running();
  ASSERT_TRUE(v.ok());
  LiveBackend live;
  const KernelFeatures got = discover(live, *v, DiscoveryOptions{mayMount()});
  const KernelFeatures table = featuresForVersion(*v);
  expectSameAnswers(buildAnswers(table), buildAnswers(got));
  for (const auto& d : syscallTable()) {
    EXPECT_TRUE(got.report(d.id).disagreements.empty()) << d.name;
    EXPECT_NE(got.report(d.id).source, FeatureSource::Table)
        << d.name << ": " << got.report(d.id).note;
  }
  EXPECT_TRUE(got.notify.tested) << got.notify.note;
  EXPECT_TRUE(got.notify.pollhup);
  EXPECT_EQ(got.notify.syncWakeUp, (*v >= KernelVersion{6, 6, 0}));
}

// What discovery's hazards would change (src/kernel/discovery/RECIPES.md):
// the open fds, the extended attributes and the file attributes of the
// current directory (file_setattr with AT_EMPTY_PATH and a usable dfd acts
// on it; setxattrat likewise), and whether this process is confined
// (landlock_restrict_self): a confined one could not create a file here.
std::string processState() {
  std::string s = "fds:";
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
    s += " " + e.path().filename().string();
  char names[1024] = {};
  const ssize_t n = listxattr(".", names, sizeof names);
  s += " xattrs:" + (n < 0 ? std::string("error") : std::string(names, static_cast<size_t>(n)));
  if (int dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    fsxattr fa{};
    s += " xflags:" + (ioctl(dir, FS_IOC_FSGETXATTR, &fa) == 0 ? std::to_string(fa.fsx_xflags)
                                                               : std::string("n/a"));
    close(dir);
  }
  const int probe = open("landlock-check", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  s += probe >= 0 ? " writable" : " confined";
  if (probe >= 0) {
    close(probe);
    unlink("landlock-check");
  }
  return s;
}

std::string slurp(const char* path) {
  FILE* f = std::fopen(path, "r");
  if (f == nullptr)
    return "";
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    s.append(buf, n);
  std::fclose(f);
  return s;
}

// Runs live discovery as pid 1 of a fresh pid namespace, from an empty
// directory, after `prepare` (which may change credentials; it returns
// false to give up), and reports "last_pid A -> B" plus "mounts-changed" or
// "files-appeared" (processState: no fd, xattr, file attribute or Landlock
// confinement left) and, from the result, "clone3=SOURCE mount_setattr=SOURCE".
std::string discoverySideEffects(bool (*prepare)()) {
  char tmpl[] = "/tmp/extsys-sidefx-XXXXXX";
  if (mkdtemp(tmpl) == nullptr)
    return "mkdtemp failed";
  int pipefd[2];
  if (pipe(pipefd) != 0)
    return "pipe failed";
  pid_t outer = fork();
  if (outer == 0) {
    // A mount namespace of its own, cut off from the host's propagation:
    // the mount table compared below changes only by what this process
    // does, not by a container another program starts meanwhile.
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      _exit(10);
    pid_t inner = fork();  // pid 1 of the new namespace
    if (inner == 0) {
      if (chdir(tmpl) != 0 || !prepare())
        _exit(11);
      const std::string mountsBefore = slurp("/proc/self/mountinfo");
      const std::string lastBefore = slurp("/proc/sys/kernel/ns_last_pid");
      const std::string stateBefore = processState();
      auto v = KernelVersion::running();
      LiveBackend live;
      const KernelFeatures f = discover(live, *v, DiscoveryOptions{mayMount()});
      const std::string lastAfter = slurp("/proc/sys/kernel/ns_last_pid");
      std::string report = "last_pid " + lastBefore.substr(0, lastBefore.size() - 1) + " -> " +
                           lastAfter.substr(0, lastAfter.size() - 1);
      if (slurp("/proc/self/mountinfo") != mountsBefore)
        report += " mounts-changed";
      if (const std::string after = processState(); after != stateBefore)
        report += " state " + stateBefore + " -> " + after;
      if (!std::filesystem::is_empty(tmpl))
        report += " files-appeared";
      report += std::string(" clone3=") + sourceName(f.report(SyscallId::Clone3).source) +
                " mount_setattr=" + sourceName(f.report(SyscallId::MountSetattr).source);
      if (write(pipefd[1], report.data(), report.size()) < 0)
        _exit(12);
      _exit(0);
    }
    int st = 0;
    waitpid(inner, &st, 0);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 13);
  }
  close(pipefd[1]);
  int st = 0;
  waitpid(outer, &st, 0);
  char buf[4096] = {};
  ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
  close(pipefd[0]);
  std::filesystem::remove_all(tmpl);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || n <= 0)
    return "child failed: status " + std::to_string(st);
  return buf;
}

// Live discovery has no side effects: no file, no mount, and exactly one
// process (the probe child) appears.
TEST(LiveDiscovery, HasNoSideEffects) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root for a private pid namespace";
  if (extsys::test::kThreadSanitizer)
    GTEST_SKIP() << "TSan's background thread takes a pid of its own in the namespace";
  // pid 1 ran discovery; the probe child took pid 2; nothing else.
  EXPECT_EQ(discoverySideEffects([] { return true; }),
            "last_pid 1 -> 2 clone3=probe mount_setattr=probe");
}

// Root without CAP_SYS_ADMIN (a container's root, `setpriv --bounding-set
// -sys_admin`): the mount probes go to a new user namespace, where getuid()
// reads 65534; the clone3 probes must still run as a uid RLIMIT_NPROC binds
// (real uid 0 is exempt), or the guard would create a process.
TEST(LiveDiscovery, RootWithoutCapSysAdminCreatesNoProcess) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root for a private pid namespace";
  if (extsys::test::kThreadSanitizer)
    GTEST_SKIP() << "TSan's background thread takes a pid of its own in the namespace";
  const std::string report = discoverySideEffects([] {
    cap_t caps = cap_get_proc();
    const cap_value_t admin[] = {CAP_SYS_ADMIN};
    const bool ok = caps != nullptr &&
                    cap_set_flag(caps, CAP_EFFECTIVE, 1, admin, CAP_CLEAR) == 0 &&
                    cap_set_flag(caps, CAP_PERMITTED, 1, admin, CAP_CLEAR) == 0 &&
                    cap_set_proc(caps) == 0 && !mayMount();
    cap_free(caps);
    return ok;
  });
  // One probe child and nothing more; both syscalls really probed there.
  EXPECT_EQ(report, "last_pid 1 -> 2 clone3=probe mount_setattr=probe");
}

// A guard that fails with anything but EAGAIN proves nothing about the
// limit: the probe child makes no further clone3 call.
TEST(LiveDiscovery, FailedGuardStopsTheCloneProbes) {
  ChildRequest req;
  req.notify = false;
  ProbeCall guard;  // size 0: EINVAL, whatever the limit
  ProbeCall plain;
  plain.size = 64;
  plain.put(32, SIGCHLD);
  req.clone3 = {guard, plain, plain};
  LiveBackend live;
  const ChildResult res = live.runChild(req);
  ASSERT_TRUE(res.error.empty()) << res.error;
  ASSERT_TRUE(res.cloneNote.empty()) << res.cloneNote;
  ASSERT_EQ(res.clone3.size(), 1u) << "calls made after the failed guard";
  EXPECT_EQ(res.clone3.front(), EINVAL);
}

}  // namespace
}  // namespace extsys::kernel
