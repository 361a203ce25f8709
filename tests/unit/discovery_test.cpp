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
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sanitizers.h"
#include "kernel/abi/answers.h"
#include "kernel/discovery/discovery.h"
#include "kernel/discovery/live_backend.h"
#include "kernel/abi/uapi_compat.h"
#include "kernel/abi/uapi_flags.h"

namespace extsys::kernel {
namespace {

using uapi::kCheckFields;
constexpr uint64_t kBit26 = 1ULL << 26;

struct SimConfig {
  KernelFeatures truth;              // what the simulated kernel accepts
  bool high32Ignored = false;        // 5.6-5.13: open flags copied into an int
  bool dropsBit26 = false;           // <= 6.13: FMODE_NONOTIFY stripped silently
  bool nativeCheckFields = false;    // answers CHECK_FIELDS itself (errno 134)
  bool privileged = true;            // may_mount() passes in our namespace
  bool usernsAllowed = true;         // unprivileged user namespaces
  bool guardWorks = true;            // RLIMIT_NPROC stops clone3 with EAGAIN
};

// A kernel, as far as the probe recipes can see it: the checks of
// src/kernel/discovery/RECIPES.md, in order.
class SimKernel final : public ProbeBackend {
public:
  explicit SimKernel(SimConfig c) : c_(std::move(c)) {}

  int openat2(const ProbeCall& call) override {
    ProbeCall copy = call;
    return openat2Out(copy);
  }

  int openat2Out(ProbeCall& call) override {
    const auto& o = c_.truth.openat2;
    if (!o.present)
      return ENOSYS;
    if (call.size & kCheckFields)
      return checkFields(SyscallId::Openat2, call, E2BIG);
    if (call.size < 24)
      return EINVAL;
    if (call.size > 4096)
      return E2BIG;
    if (nonZeroPast(call, 24))
      return E2BIG;
    uint64_t flags = call.get(0);
    const uint64_t mode = call.get(8), resolve = call.get(16);
    if (c_.high32Ignored)
      flags &= 0xFFFFFFFFULL;
    if (c_.dropsBit26)
      flags &= ~kBit26;
    if (flags & ~o.flags)
      return EINVAL;
    if (resolve & ~o.resolve)
      return EINVAL;
    if (mode & ~o.mode)
      return EINVAL;
    const bool creating = flags & (0x40 | 0x400000);
    if (mode != 0 && !creating)
      return EINVAL;
    // O_TMPFILE needs O_DIRECTORY, in the architecture's numbering (glibc's
    // value: 0x10000 on x86_64, 0x4000 on arm64).
    if ((flags & 0x400000) && (!(flags & O_DIRECTORY) || !(flags & 0x3)))
      return EINVAL;
    if ((resolve & 0x20) && (flags & (0x40 | 0x200 | 0x400000)))
      return EAGAIN;
    return EFAULT;  // getname(NULL)
  }

  int mountSetattr(ProbeCall& call) override { return mount(call, c_.privileged); }

  int clone3(ProbeCall& call) override {
    if (!c_.truth.clone3.present)
      return ENOSYS;
    if (call.size & kCheckFields)
      return checkFields(SyscallId::Clone3, call, E2BIG);
    if (call.size < 64)
      return EINVAL;
    ADD_FAILURE() << "discovery made a clone3 call that could create a process";
    return EINVAL;
  }

  ChildResult runChild(const ChildRequest& r) override {
    ++children;
    ChildResult out;
    const auto& v = c_.truth.version;
    auto atLeast = [&](int a, int b) { return v >= KernelVersion{a, b, 0}; };
    if (r.notify) {
      out.notify.tested = true;
      out.notify.listener = true;
      out.notify.pollhup = atLeast(5, 8);
      out.notify.addfd = atLeast(5, 9);
      out.notify.addfdSend = atLeast(5, 14);
      out.notify.waitKillableRecv = atLeast(5, 19);
      out.notify.syncWakeUp = atLeast(6, 6);
    }
    if (!r.mountInUserns.empty()) {
      if (!c_.usernsAllowed) {
        out.mountNote = "unshare(CLONE_NEWUSER|CLONE_NEWNS): EPERM";
      } else {
        for (ProbeCall call : r.mountInUserns)
          out.mountInUserns.push_back(mount(call, true));
      }
    }
    for (size_t i = 0; i < r.clone3.size(); ++i) {
      if (i == 0 && !c_.guardWorks) {
        out.clone3.push_back(0);  // created a process: the child stops
        break;
      }
      out.clone3.push_back(cloneInChild(r.clone3[i]));
    }
    return out;
  }

  int children = 0;

private:
  static bool nonZeroPast(const ProbeCall& c, size_t ksize) {
    for (size_t i = ksize; i < std::min<uint64_t>(c.size, c.buf.size()); ++i)
      if (c.buf[i] != 0)
        return true;
    return false;
  }

  int checkFields(SyscallId id, ProbeCall& call, int otherwise) {
    if (!c_.nativeCheckFields)
      return otherwise;
    const auto answers = buildAnswers(c_.truth);
    const auto& a = answers[static_cast<size_t>(id)];
    const uint64_t usize = call.size & ~kCheckFields;
    call.buf.fill(0);
    std::copy_n(a.image.begin(), std::min<uint64_t>(a.ksize, usize), call.buf.begin());
    return 134;
  }

  int mount(ProbeCall& call, bool privileged) {
    const auto& m = c_.truth.mountSetattr;
    if (!m.present)
      return ENOSYS;
    if (call.flags & ~0x9900u)
      return EINVAL;
    if (call.size & kCheckFields)
      return checkFields(SyscallId::MountSetattr, call, E2BIG);
    if (call.size > 4096)
      return E2BIG;
    if (call.size < 32)
      return EINVAL;
    if (!privileged)
      return EPERM;
    if (nonZeroPast(call, 32))
      return E2BIG;
    const uint64_t set = call.get(0), clr = call.get(8), prop = call.get(16), userns = call.get(24);
    if (set == 0 && clr == 0 && prop == 0 && userns == 0)
      return 0;
    if ((prop & ~m.propagation) || std::popcount(prop) > 1)
      return EINVAL;
    if ((set & ~m.attrs) || (clr & ~m.attrsClr))
      return EINVAL;
    if ((clr & 0x70) != 0 && (clr & 0x70) != 0x70)
      return EINVAL;
    if ((set & 0x70) != 0 && (clr & 0x70) != 0x70)
      return EINVAL;
    if ((set & 0x70) == 0x70 || (set & 0x70) == 0x40 || (set & 0x70) == 0x30)
      return EINVAL;  // not one of RELATIME, NOATIME, STRICTATIME
    if (set & uapi::kMountAttrIdmap)
      return userns > INT_MAX ? EINVAL : EBADF;
    return EFAULT;  // user_path_at(NULL)
  }

  int cloneInChild(const ProbeCall& call) {
    const auto& c = c_.truth.clone3;
    if (call.size > 4096)
      return E2BIG;
    if (call.size < 64)
      return EINVAL;
    if (nonZeroPast(call, c.structSize))
      return E2BIG;
    const uint64_t flags = call.get(0), exitSignal = call.get(32);
    const uint64_t setTid = call.get(64), setTidSize = call.get(72), cgroup = call.get(80);
    if (setTidSize > 32 || ((setTid == 0) != (setTidSize == 0)))
      return EINVAL;
    if (exitSignal & ~0xFFULL || exitSignal > 64)
      return EINVAL;
    if ((flags & uapi::kCloneIntoCgroup) && (cgroup > INT_MAX || call.size < 88))
      return EINVAL;
    if (flags & ~(uapi::kCloneLegacyFlags | c.extraFlags))
      return EINVAL;
    if (flags & (0x400000 | 0x7F))
      return EINVAL;
    if ((flags & uapi::kCloneAutoreap) && exitSignal != 0)
      return EINVAL;
    if ((flags & uapi::kClonePidfdAutokill) &&
        !((flags & uapi::kCloneAutoreap) && (flags & 0x1000)))
      return EINVAL;
    return EAGAIN;  // RLIMIT_NPROC
  }

  SimConfig c_;
};

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
  EXPECT_EQ(got.openat2.flags, 0x7FFFC3u);
  EXPECT_EQ(got.openat2.flags & uapi::kOpenat2Regular, 0u);
}

TEST(Discovery, SilentlyDroppedBit26IsNotReported) {
  SimConfig c;
  c.truth = featuresForVersion({6, 1, 0});
  c.dropsBit26 = true;
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {6, 1, 0}, DiscoveryOptions{true});
  EXPECT_EQ(got.openat2.flags, 0x7FFFC3u);
}

TEST(Discovery, SevenTwoWithEmptyPathTrustsTheProbe) {
  SimConfig c;
  c.truth = featuresForVersion({7, 2, 0});
  c.truth.openat2.flags |= uapi::kOEmptyPath;  // O_EMPTYPATH landed
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {7, 2, 0}, DiscoveryOptions{true});
  EXPECT_EQ(got.openat2.flags, 0x1047FFFC3u);
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
  c.truth.openat2.resolve = 0x3F;  // RESOLVE_CACHED backported by a distribution
  SimKernel sim(c);
  const KernelFeatures got = discover(sim, {5, 10, 0}, DiscoveryOptions{true});
  EXPECT_EQ(got.openat2.resolve, 0x3Fu);
  ASSERT_EQ(got.report(SyscallId::Openat2).disagreements.size(), 1u);
  EXPECT_EQ(got.report(SyscallId::Openat2).disagreements[0].field, "resolve");
}

TEST(Discovery, NativeCheckFieldsIsTheTruth) {
  SimConfig c;
  c.truth = featuresForVersion({7, 1, 0});
  c.truth.clone3.extraFlags |= uapi::kCloneEmptyMntns;
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
  EXPECT_FALSE(got.openat2.present);
  EXPECT_FALSE(got.mountSetattr.present);
  EXPECT_TRUE(got.clone3.present);
  EXPECT_EQ(got.clone3.structSize, 64u);
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

// Live discovery in a fresh pid namespace, from an empty directory: no
// file, no mount, and exactly one process (the probe child) appears.
TEST(LiveDiscovery, HasNoSideEffects) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root for a private pid namespace";
  if (extsys::test::kThreadSanitizer)
    GTEST_SKIP() << "TSan's background thread takes a pid of its own in the namespace";
  char tmpl[] = "/tmp/extsys-sidefx-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t outer = fork();
  ASSERT_GE(outer, 0);
  if (outer == 0) {
    if (unshare(CLONE_NEWPID) != 0)
      _exit(10);
    pid_t inner = fork();  // pid 1 of the new namespace
    if (inner == 0) {
      if (chdir(tmpl) != 0)
        _exit(11);
      const std::string mountsBefore = slurp("/proc/self/mountinfo");
      const std::string lastBefore = slurp("/proc/sys/kernel/ns_last_pid");
      auto v = KernelVersion::running();
      LiveBackend live;
      (void)discover(live, *v, DiscoveryOptions{mayMount()});
      const std::string lastAfter = slurp("/proc/sys/kernel/ns_last_pid");
      std::string report = "last_pid " + lastBefore.substr(0, lastBefore.size() - 1) + " -> " +
                           lastAfter.substr(0, lastAfter.size() - 1);
      if (slurp("/proc/self/mountinfo") != mountsBefore)
        report += " mounts-changed";
      if (!std::filesystem::is_empty(tmpl))
        report += " files-appeared";
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
  ASSERT_EQ(waitpid(outer, &st, 0), outer);
  char buf[512] = {};
  ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
  close(pipefd[0]);
  std::filesystem::remove_all(tmpl);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
  ASSERT_GT(n, 0);
  // pid 1 ran discovery; the probe child took pid 2; nothing else.
  EXPECT_EQ(std::string(buf), "last_pid 1 -> 2");
}

}  // namespace
}  // namespace extsys::kernel
