// SPDX-License-Identifier: MIT
// filter_test - the probe filter: run the exported program through a small
// seccomp cBPF interpreter with (arch, nr, args) rows, and compare its
// libseccomp PFC text with a stored golden dump per architecture. The rows
// use the build's own ABI: glibc's SYS_* numbers and the kernel's
// AUDIT_ARCH_* for it.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "filter/seccomp_filter.h"
#include "kernel/abi/uapi_compat.h"
#include "policy/toml_loader.h"
#include "unit/bpf_interpreter.h"

namespace extsys::filter {
namespace {

using test_support::runBpf;

using uapi::kCheckFields;

// The native ABI, a compat ABI its kernels may run (whose openat2 and clone3
// are 437 and 435 too: numbers from 424 on are common) and another 64-bit
// architecture: the last two meet the bad-architecture action.
#if defined(__x86_64__)
constexpr uint32_t kNative = AUDIT_ARCH_X86_64;
constexpr uint32_t kCompat = AUDIT_ARCH_I386;
constexpr uint32_t kOther = AUDIT_ARCH_AARCH64;
constexpr uint32_t kX32Bit = 0x40000000;
#elif defined(__aarch64__)
constexpr uint32_t kNative = AUDIT_ARCH_AARCH64;
constexpr uint32_t kCompat = AUDIT_ARCH_ARM;
constexpr uint32_t kOther = AUDIT_ARCH_X86_64;
#else
#error "filter_test: the rows need this architecture's AUDIT_ARCH values"
#endif

// The built-in default policy on a 6.18 kernel.
policy::EffectivePolicy defaultEffective() {
  return *policy::makeEffective(policy::defaultPolicy(), kernel::featuresForVersion({6, 18, 0}));
}

struct Row {
  const char* name;
  uint32_t arch;
  int nr;
  uint64_t args[6];
  uint32_t action;
};

class ProbeFilterRows : public ::testing::TestWithParam<Row> {
protected:
  static void SetUpTestSuite() {
    auto p = buildFilter(defaultEffective());
    ASSERT_TRUE(p.ok()) << p.error().message();
    program_ = new BpfProgram(std::move(*p));
  }
  static void TearDownTestSuite() { delete program_; }
  static BpfProgram* program_;
};
BpfProgram* ProbeFilterRows::program_ = nullptr;

TEST_P(ProbeFilterRows, DecidesAsDocumented) {
  const Row& r = GetParam();
  seccomp_data d{};
  d.arch = r.arch;
  d.nr = r.nr;
  for (int k = 0; k < 6; ++k)
    d.args[k] = r.args[k];
  EXPECT_EQ(runBpf(program_->insns, d) & SECCOMP_RET_ACTION_FULL, r.action) << r.name;
}

constexpr uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kX64 = kNative;

INSTANTIATE_TEST_SUITE_P(
    Native, ProbeFilterRows,
    ::testing::Values(
#if defined(__x86_64__)
        Row{"x32_openat2", kX64, static_cast<int>(kX32Bit | SYS_openat2), {0, 0, 0, kCheckFields | 24, 0, 0}, kAllow},
        Row{"x32_clone3", kX64, static_cast<int>(kX32Bit | SYS_clone3), {0, kCheckFields | 88, 0, 0, 0, 0}, kAllow},
#endif
        Row{"openat2_probe", kX64, SYS_openat2, {0, 0, 0, kCheckFields | 24, 0, 0}, kNotify},
        Row{"openat2_probe_low_word_all_ones", kX64, SYS_openat2, {0, 0, 0, kCheckFields | 0xFFFFFFFF, 0, 0}, kNotify},
        Row{"openat2_probe_other_high_bits", kX64, SYS_openat2, {0, 0, 0, ~0ULL, 0, 0}, kNotify},
        Row{"openat2_real_call", kX64, SYS_openat2, {0, 0, 0, 24, 0, 0}, kAllow},
        Row{"openat2_bit62_only", kX64, SYS_openat2, {0, 0, 0, (1ULL << 62) | 24, 0, 0}, kAllow},
        Row{"openat2_bit63_in_wrong_arg", kX64, SYS_openat2, {kCheckFields, kCheckFields, kCheckFields, 24, kCheckFields, kCheckFields}, kAllow},
        Row{"openat2_bit31_of_size", kX64, SYS_openat2, {0, 0, 0, 0x80000000ULL, 0, 0}, kAllow},
        Row{"clone3_probe", kX64, SYS_clone3, {0, kCheckFields | 88, 0, 0, 0, 0}, kNotify},
        Row{"clone3_real_call", kX64, SYS_clone3, {0, 88, 0, 0, 0, 0}, kAllow},
        Row{"clone3_bit63_in_arg0", kX64, SYS_clone3, {kCheckFields, 88, 0, 0, 0, 0}, kAllow},
        Row{"mount_setattr_probe", kX64, SYS_mount_setattr, {0, 0, 0, 0, kCheckFields | 32, 0}, kNotify},
        Row{"mount_setattr_real_call", kX64, SYS_mount_setattr, {0, 0, 0, 0, 32, 0}, kAllow},
        Row{"mount_setattr_bit63_in_arg3", kX64, SYS_mount_setattr, {0, 0, 0, kCheckFields, 32, 0}, kAllow},
        // The newer syscalls, by number (libseccomp 2.5.4 does not name most).
        Row{"open_tree_attr_probe", kX64, 467, {0, 0, 0, 0, kCheckFields | 32, 0}, kNotify},
        Row{"open_tree_attr_real_call", kX64, 467, {0, 0, 0, 0, 32, 0}, kAllow},
        Row{"setxattrat_probe", kX64, 463, {0, 0, 0, 0, 0, kCheckFields | 16}, kNotify},
        Row{"getxattrat_probe", kX64, 464, {0, 0, 0, 0, 0, kCheckFields | 16}, kNotify},
        Row{"getxattrat_bit63_in_arg4", kX64, 464, {0, 0, 0, 0, kCheckFields, 16}, kAllow},
        Row{"file_getattr_probe", kX64, 468, {0, 0, 0, kCheckFields | 24, 0, 0}, kNotify},
        Row{"file_setattr_probe", kX64, 469, {0, 0, 0, kCheckFields | 24, 0, 0}, kNotify},
        Row{"file_setattr_real_call", kX64, 469, {0, 0, 0, 24, 0, 0}, kAllow},
        Row{"landlock_probe", kX64, 444, {0, kCheckFields | 24, 0, 0, 0, 0}, kNotify},
        Row{"landlock_abi_query", kX64, 444, {0, 0, 1, 0, 0, 0}, kAllow},
        Row{"getppid", kX64, SYS_getppid, {kCheckFields, kCheckFields, kCheckFields, kCheckFields, kCheckFields, kCheckFields}, kAllow},
        Row{"close", kX64, SYS_close, {0, kCheckFields, 0, kCheckFields, kCheckFields, 0}, kAllow},
        Row{"openat_legacy", kX64, SYS_openat, {0, 0, 0, kCheckFields, 0, 0}, kAllow},
        Row{"compat_openat2", kCompat, 437, {0, 0, 0, kCheckFields | 24, 0, 0}, kAllow},
        Row{"compat_clone3", kCompat, 435, {0, kCheckFields | 88, 0, 0, 0, 0}, kAllow},
        Row{"other_arch_openat2", kOther, 437, {0, 0, 0, kCheckFields | 24, 0, 0}, kAllow}),
    [](const auto& p) { return std::string(p.param.name); });

// The exact programs, as libseccomp's PFC text: the default policy's probe
// filter and sandbox-strict's on 6.18 (how libseccomp compares each route -
// the low word only for nstype and the ioctl request, both words for
// prlimit64's pid and new limit, one bit per mode and flag rule), one
// directory per architecture. Each is made
// natively (libseccomp 2.5.4 renders another architecture's program only
// through the native syscall table, which lacks the newest calls): x86_64's
// on the host, aarch64's in the arm64 pass. Regenerate after a deliberate
// change with: EXTSYS_REGEN_GOLDEN=1 meson test -C build filter, and for
// aarch64 the same with the cross-built filter_test under qemu-aarch64
// (Debian's qemu-user-static) from the source root.
struct Golden {
  const char* file;
  policy::EffectivePolicy (*policy)();
};

policy::EffectivePolicy strictEffective() {
  auto p = policy::loadPolicyFile(std::string(EXTSYS_SOURCE_ROOT) + "/policies/sandbox-strict.toml");
  EXPECT_TRUE(p.ok()) << (p ? "" : p.error().message());
  return *policy::makeEffective(*p, kernel::featuresForVersion({6, 18, 0}));
}

class GoldenDumps : public ::testing::TestWithParam<kernel::Arch> {};

TEST_P(GoldenDumps, MatchTheProgram) {
  const kernel::ArchDesc& arch = kernel::archDesc(GetParam());
  if (GetParam() != kernel::kNativeArch)
    GTEST_SKIP() << arch.name << "'s golden dumps are checked on " << arch.name;
  for (const Golden& g : {Golden{"probe_filter.pfc", defaultEffective},
                          Golden{"sandbox_strict.pfc", strictEffective}}) {
    SCOPED_TRACE(g.file);
    auto pfc = filterPfc(g.policy(), arch);
    ASSERT_TRUE(pfc.ok()) << pfc.error().message();
    EXPECT_NE(pfc->find("# filter for arch " + std::string(arch.name) + " "), std::string::npos)
        << *pfc;
    const std::string path = std::string(EXTSYS_GOLDEN_DIR) + "/" + std::string(arch.name) + "/" + g.file;
    if (std::getenv("EXTSYS_REGEN_GOLDEN")) {
      std::ofstream(path) << *pfc;
      continue;
    }
    std::ifstream in(path);
    if (!in) {  // every missing dump printed, so one run records them all
      ADD_FAILURE() << "missing golden file " << path << "; the program:\n"
                    << "--- BEGIN " << path << "\n" << *pfc << "--- END\n";
      continue;
    }
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(*pfc, want.str()) << "the filter changed; if on purpose, regenerate " << path;
  }
  if (std::getenv("EXTSYS_REGEN_GOLDEN"))
    GTEST_SKIP() << "rewrote the golden files of " << arch.name;
}

INSTANTIATE_TEST_SUITE_P(EveryArch, GoldenDumps,
                         ::testing::Values(kernel::Arch::X86_64, kernel::Arch::Aarch64),
                         [](const auto& p) { return std::string(kernel::archDesc(p.param).name); });

TEST(ProbeFilter, ResolvesEveryDescriptor) {
  for (const auto& d : kernel::syscallTable())
    EXPECT_GT(kernel::nativeSyscallNr(d.name), 0) << d.name;
  EXPECT_EQ(kernel::nativeAuditArch(), seccomp_arch_native());
  EXPECT_EQ(kernel::nativeAuditArch(), kNative);
  const kernel::SyscallLookup lookup;
  EXPECT_EQ(lookup.find(kNative, SYS_clone3), &kernel::describe(kernel::SyscallId::Clone3));
  EXPECT_EQ(lookup.find(kCompat, SYS_clone3), nullptr);
  EXPECT_EQ(lookup.find(kNative, SYS_openat), nullptr);
}


policy::EffectivePolicy fromToml(const char* text) {
  auto p = policy::parsePolicy(text, "t.toml");
  EXPECT_TRUE(p.ok()) << p.error().message();
  return *policy::makeEffective(*p, kernel::featuresForVersion({6, 18, 0}));
}

constexpr const char* kStrict =
    "mode = \"strict\"\n"
    "[clone3]\ncall = \"restrict\"\ndeny_errno = \"EPERM\"\n[clone3.forbid]\nflags = [\"CLONE_NEWUSER\"]\n"
    "[openat2]\ncall = \"restrict\"\n[openat2.forbid]\nflags = [\"O_RDWR\"]\n"
    "[mount_setattr]\ncall = \"restrict\"\n[mount_setattr.allow]\nattr_set = \"none\"\n";

constexpr const char* kSetid =
    "mode = \"strict\"\n"
    "[openat2]\ncall = \"restrict\"\ndeny_errno = \"EPERM\"\n"
    "[openat2.forbid]\nmode = [\"S_ISUID\", \"S_ISGID\"]\n";

constexpr const char* kCooperative =
    "[clone3]\ncall = \"restrict\"\n[clone3.forbid]\nflags = [\"CLONE_NEWUSER\"]\n"
    "[openat2]\nprobe = \"passthrough\"\n"
    "[mount_setattr]\ncall = \"hide\"\n";

struct PolicyRow {
  const char* name;
  const char* policy;
  uint32_t arch;
  int nr;
  uint64_t args[6];
  uint32_t action;  // full return value, errno included
};

class PolicyFilterRows : public ::testing::TestWithParam<PolicyRow> {};

TEST_P(PolicyFilterRows, DecideAsThePolicySays) {
  const PolicyRow& r = GetParam();
  auto prog = buildFilter(fromToml(r.policy));
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  seccomp_data d{};
  d.arch = r.arch;
  d.nr = r.nr;
  for (int k = 0; k < 6; ++k)
    d.args[k] = r.args[k];
  EXPECT_EQ(runBpf(prog->insns, d), r.action) << r.name;
}

constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr uint32_t kEinval = SECCOMP_RET_ERRNO | EINVAL;

INSTANTIATE_TEST_SUITE_P(
    Policies, PolicyFilterRows,
    ::testing::Values(
        PolicyRow{"strict_clone3_hidden", kStrict, kX64, SYS_clone3, {0, 88, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_clone3_probe_hidden", kStrict, kX64, SYS_clone3, {0, kCheckFields | 88, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_clone_newuser", kStrict, kX64, SYS_clone, {0x10000000 | 17, 0, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_clone_plain", kStrict, kX64, SYS_clone, {0x01200011, 0, 0, 0, 0, 0}, kAllow},
        PolicyRow{"strict_unshare_newuser", kStrict, kX64, SYS_unshare, {0x10000000, 0, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_unshare_newns", kStrict, kX64, SYS_unshare, {0x20000, 0, 0, 0, 0, 0}, kAllow},
        PolicyRow{"strict_openat2_hidden", kStrict, kX64, SYS_openat2, {0, 0, 0, 24, 0, 0}, kEnosys},
        PolicyRow{"strict_openat_rdwr", kStrict, kX64, SYS_openat, {0, 0, 2, 0, 0, 0}, kEinval},
        PolicyRow{"strict_openat_rdonly", kStrict, kX64, SYS_openat, {0, 0, 0x80000, 0, 0, 0}, kAllow},
#ifdef SYS_open
        PolicyRow{"strict_open_rdwr", kStrict, kX64, SYS_open, {0, 2, 0, 0, 0, 0}, kEinval},
#endif
        PolicyRow{"strict_mount_rdonly", kStrict, kX64, SYS_mount, {0, 0, 0, 1, 0, 0}, kEinval},
        PolicyRow{"strict_mount_private", kStrict, kX64, SYS_mount, {0, 0, 0, 0x40000, 0, 0}, kAllow},
        PolicyRow{"strict_fsmount_hidden", kStrict, kX64, SYS_fsmount, {0, 0, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_fspick_hidden", kStrict, kX64, SYS_fspick, {0, 0, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_mount_remount", kStrict, kX64, SYS_mount, {0, 0, 0, 0x20, 0, 0}, kEinval},
        PolicyRow{"strict_mount_remount_bind", kStrict, kX64, SYS_mount, {0, 0, 0, 0x1020, 0, 0}, kEinval},
        PolicyRow{"strict_mount_bind", kStrict, kX64, SYS_mount, {0, 0, 0, 0x1000, 0, 0}, kAllow},
        // setns: nstype is an int; 1<<32 is 0 to the kernel (joins any type).
        PolicyRow{"strict_setns_newuser", kStrict, kX64, SYS_setns, {3, 0x10000000, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_setns_zero", kStrict, kX64, SYS_setns, {3, 0, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_setns_high_bits_are_zero", kStrict, kX64, SYS_setns, {3, 1ULL << 32, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_setns_newuser_high_bits", kStrict, kX64, SYS_setns, {3, (1ULL << 32) | 0x10000000, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_setns_newnet", kStrict, kX64, SYS_setns, {3, 0x40000000, 0, 0, 0, 0}, kAllow},
        PolicyRow{"strict_setns_newnet_high_bits", kStrict, kX64, SYS_setns, {3, (1ULL << 32) | 0x40000000, 0, 0, 0, 0}, kAllow},
        // ioctl: the request is an unsigned int.
        PolicyRow{"strict_ioctl_tiocsti", kStrict, kX64, SYS_ioctl, {0, 0x5412, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_ioctl_tiocsti_high_bits", kStrict, kX64, SYS_ioctl, {0, (1ULL << 32) | 0x5412, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_ioctl_tioclinux", kStrict, kX64, SYS_ioctl, {0, 0x541C, 0, 0, 0, 0}, kEperm},
        PolicyRow{"strict_ioctl_tcgets", kStrict, kX64, SYS_ioctl, {0, 0x5401, 0, 0, 0, 0}, kAllow},
        PolicyRow{"strict_ioctl_tiocsti_plus_one", kStrict, kX64, SYS_ioctl, {0, 0x5413, 0, 0, 0, 0}, kAllow},
        // prlimit64(pid, resource, new, old): only setting another's limits.
        PolicyRow{"strict_prlimit_other_set", kStrict, kX64, SYS_prlimit64, {1234, 7, 0x7ffc0000, 0, 0, 0}, kEperm},
        PolicyRow{"strict_prlimit_other_read", kStrict, kX64, SYS_prlimit64, {1234, 7, 0, 0x7ffc0000, 0, 0}, kAllow},
        PolicyRow{"strict_prlimit_self_set", kStrict, kX64, SYS_prlimit64, {0, 7, 0x7ffc0000, 0, 0, 0}, kAllow},
        PolicyRow{"strict_prlimit_high_pid_set", kStrict, kX64, SYS_prlimit64, {1ULL << 32, 7, 0x7ffc0000, 0, 0, 0}, kEperm},
        // Set-id files: every call that sets a mode (umode_t: low bits).
#ifdef SYS_chmod
        PolicyRow{"setid_chmod_suid", kSetid, kX64, SYS_chmod, {0, 04755, 0, 0, 0, 0}, kEperm},
#endif
#ifdef SYS_chmod
        PolicyRow{"setid_chmod_plain", kSetid, kX64, SYS_chmod, {0, 0755, 0, 0, 0, 0}, kAllow},
#endif
        PolicyRow{"setid_fchmod_sgid", kSetid, kX64, SYS_fchmod, {3, 02755, 0, 0, 0, 0}, kEperm},
        PolicyRow{"setid_fchmod_high_bits", kSetid, kX64, SYS_fchmod, {3, (1ULL << 40) | 0755, 0, 0, 0, 0}, kAllow},
        PolicyRow{"setid_fchmodat_suid", kSetid, kX64, SYS_fchmodat, {0, 0, 04755, 0, 0, 0}, kEperm},
        PolicyRow{"setid_fchmodat2_suid", kSetid, kX64, 452, {0, 0, 04755, 0x1000, 0, 0}, kEperm},
#ifdef SYS_mknod
        PolicyRow{"setid_mknod_suid", kSetid, kX64, SYS_mknod, {0, 0100000 | 04755, 0, 0, 0, 0}, kEperm},
#endif
        PolicyRow{"setid_mknodat_sgid", kSetid, kX64, SYS_mknodat, {0, 0, 0100000 | 02755, 0, 0, 0}, kEperm},
        PolicyRow{"setid_mknodat_plain", kSetid, kX64, SYS_mknodat, {0, 0, 0100000 | 0755, 0, 0, 0}, kAllow},
#ifdef SYS_creat
        PolicyRow{"setid_creat_suid", kSetid, kX64, SYS_creat, {0, 04755, 0, 0, 0, 0}, kEperm},
#endif
        PolicyRow{"setid_openat_suid", kSetid, kX64, SYS_openat, {0, 0, 0x41, 04755, 0, 0}, kEperm},
#ifdef SYS_mkdir
        PolicyRow{"setid_mkdir_setgid_ignored", kSetid, kX64, SYS_mkdir, {0, 02755, 0, 0, 0, 0}, kAllow},
#endif
        PolicyRow{"strict_mount_setattr_hidden", kStrict, kX64, SYS_mount_setattr, {0, 0, 0, 0, 32, 0}, kEnosys},
        PolicyRow{"strict_open_tree_attr_hidden", kStrict, kX64, 467, {0, 0, 0, 0, 32, 0}, kEnosys},
        PolicyRow{"strict_io_uring_setup", kStrict, kX64, SYS_io_uring_setup, {1, 0, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_io_uring_enter", kStrict, kX64, SYS_io_uring_enter, {0, 0, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_compat_getpid", kStrict, kCompat, 20, {0, 0, 0, 0, 0, 0}, kEnosys},
#if defined(__x86_64__)
        PolicyRow{"strict_x32_getpid", kStrict, kX64, static_cast<int>(kX32Bit | 39), {0, 0, 0, 0, 0, 0}, kEnosys},
#endif
        PolicyRow{"strict_getppid", kStrict, kX64, SYS_getppid, {0, 0, 0, 0, 0, 0}, kAllow},
        PolicyRow{"coop_clone3_call_notified", kCooperative, kX64, SYS_clone3, {0, 88, 0, 0, 0, 0}, kNotify},
        PolicyRow{"coop_clone3_probe_notified", kCooperative, kX64, SYS_clone3, {0, kCheckFields | 88, 0, 0, 0, 0}, kNotify},
        PolicyRow{"coop_clone_untouched", kCooperative, kX64, SYS_clone, {0x10000000 | 17, 0, 0, 0, 0, 0}, kAllow},
        PolicyRow{"coop_openat2_probe_passthrough", kCooperative, kX64, SYS_openat2, {0, 0, 0, kCheckFields | 24, 0, 0}, kAllow},
        PolicyRow{"coop_openat2_call", kCooperative, kX64, SYS_openat2, {0, 0, 0, 24, 0, 0}, kAllow},
        PolicyRow{"coop_mount_setattr_hidden", kCooperative, kX64, SYS_mount_setattr, {0, 0, 0, 0, kCheckFields | 32, 0}, kEnosys},
        PolicyRow{"coop_compat_allowed", kCooperative, kCompat, 20, {0, 0, 0, 0, 0, 0}, kAllow}),
    [](const auto& p) { return std::string(p.param.name); });

// A rule table too long for one seccomp program is refused with a clear
// error, never cut to fit sock_fprog's 16-bit length.
TEST(BuildFilter, ProgramLongerThanTheKernelAllowsIsAnError) {
  RuleSet big;
  // libseccomp shares what it can: about one instruction per such rule.
  for (uint64_t i = 0; i < 5000; ++i)
    big.rules.push_back({"openat", Action::fail(EPERM), {{2, CmpOp::MaskedEq, ~0ULL, i << 4}}});
  auto prog = buildFilter(big);
  ASSERT_FALSE(prog.ok()) << "built " << prog->insns.size() << " instructions";
  EXPECT_EQ(prog.error().err(), E2BIG);
  EXPECT_NE(prog.error().message().find("BPF_MAXINSNS"), std::string::npos)
      << prog.error().message();
  // The same kind of table, small enough, builds: the limit is what failed.
  big.rules.resize(10);
  auto small = buildFilter(big);
  ASSERT_TRUE(small.ok()) << small.error().message();
  EXPECT_LE(small->insns.size(), static_cast<size_t>(BPF_MAXINSNS));
}

}  // namespace
}  // namespace extsys::filter
