// SPDX-License-Identifier: MIT
// filter_test - the probe filter: run the exported program through a small
// seccomp cBPF interpreter with (arch, nr, args) rows, and compare its
// libseccomp PFC text with a stored golden dump.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
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
constexpr uint32_t kX32Bit = 0x40000000;

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
constexpr uint32_t kX64 = AUDIT_ARCH_X86_64;

INSTANTIATE_TEST_SUITE_P(
    X86_64, ProbeFilterRows,
    ::testing::Values(
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
        Row{"getppid", kX64, SYS_getppid, {kCheckFields, kCheckFields, kCheckFields, kCheckFields, kCheckFields, kCheckFields}, kAllow},
        Row{"close", kX64, SYS_close, {0, kCheckFields, 0, kCheckFields, kCheckFields, 0}, kAllow},
        Row{"openat_legacy", kX64, SYS_openat, {0, 0, 0, kCheckFields, 0, 0}, kAllow},
        Row{"x32_openat2", kX64, static_cast<int>(kX32Bit | SYS_openat2), {0, 0, 0, kCheckFields | 24, 0, 0}, kAllow},
        Row{"x32_clone3", kX64, static_cast<int>(kX32Bit | SYS_clone3), {0, kCheckFields | 88, 0, 0, 0, 0}, kAllow},
        Row{"i386_openat2", AUDIT_ARCH_I386, 437, {0, 0, 0, kCheckFields | 24, 0, 0}, kAllow},
        Row{"i386_clone3", AUDIT_ARCH_I386, 435, {0, kCheckFields | 88, 0, 0, 0, 0}, kAllow},
        Row{"aarch64_openat2", AUDIT_ARCH_AARCH64, 437, {0, 0, 0, kCheckFields | 24, 0, 0}, kAllow}),
    [](const auto& p) { return std::string(p.param.name); });

// The exact program, as libseccomp's PFC text. Regenerate after a deliberate
// change with: EXTSYS_REGEN_GOLDEN=1 meson test -C build filter
TEST(ProbeFilter, MatchesGoldenDump) {
  auto pfc = filterPfc(defaultEffective());
  ASSERT_TRUE(pfc.ok()) << pfc.error().message();
  const std::string path = std::string(EXTSYS_GOLDEN_DIR) + "/x86_64/probe_filter.pfc";
  if (std::getenv("EXTSYS_REGEN_GOLDEN")) {
    std::ofstream(path) << *pfc;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path;
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(*pfc, want.str()) << "the filter changed; if on purpose, regenerate " << path;
}

TEST(ProbeFilter, ResolvesEveryDescriptor) {
  for (const auto& d : kernel::syscallTable())
    EXPECT_GT(kernel::nativeSyscallNr(d.name), 0) << d.name;
  EXPECT_EQ(kernel::nativeAuditArch(), static_cast<uint32_t>(AUDIT_ARCH_X86_64));
  const kernel::SyscallLookup lookup;
  EXPECT_EQ(lookup.find(AUDIT_ARCH_X86_64, SYS_clone3), &kernel::describe(kernel::SyscallId::Clone3));
  EXPECT_EQ(lookup.find(AUDIT_ARCH_I386, SYS_clone3), nullptr);
  EXPECT_EQ(lookup.find(AUDIT_ARCH_X86_64, SYS_openat), nullptr);
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
        PolicyRow{"strict_open_rdwr", kStrict, kX64, SYS_open, {0, 2, 0, 0, 0, 0}, kEinval},
        PolicyRow{"strict_mount_rdonly", kStrict, kX64, SYS_mount, {0, 0, 0, 1, 0, 0}, kEinval},
        PolicyRow{"strict_mount_private", kStrict, kX64, SYS_mount, {0, 0, 0, 0x40000, 0, 0}, kAllow},
        PolicyRow{"strict_fsmount_rdonly", kStrict, kX64, SYS_fsmount, {0, 0, 1, 0, 0, 0}, kEinval},
        PolicyRow{"strict_mount_setattr_hidden", kStrict, kX64, SYS_mount_setattr, {0, 0, 0, 0, 32, 0}, kEnosys},
        PolicyRow{"strict_open_tree_attr_hidden", kStrict, kX64, 467, {0, 0, 0, 0, 32, 0}, kEnosys},
        PolicyRow{"strict_io_uring_setup", kStrict, kX64, SYS_io_uring_setup, {1, 0, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_io_uring_enter", kStrict, kX64, SYS_io_uring_enter, {0, 0, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_i386_getpid", kStrict, AUDIT_ARCH_I386, 20, {0, 0, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_x32_getpid", kStrict, kX64, static_cast<int>(kX32Bit | 39), {0, 0, 0, 0, 0, 0}, kEnosys},
        PolicyRow{"strict_getppid", kStrict, kX64, SYS_getppid, {0, 0, 0, 0, 0, 0}, kAllow},
        PolicyRow{"coop_clone3_call_notified", kCooperative, kX64, SYS_clone3, {0, 88, 0, 0, 0, 0}, kNotify},
        PolicyRow{"coop_clone3_probe_notified", kCooperative, kX64, SYS_clone3, {0, kCheckFields | 88, 0, 0, 0, 0}, kNotify},
        PolicyRow{"coop_clone_untouched", kCooperative, kX64, SYS_clone, {0x10000000 | 17, 0, 0, 0, 0, 0}, kAllow},
        PolicyRow{"coop_openat2_probe_passthrough", kCooperative, kX64, SYS_openat2, {0, 0, 0, kCheckFields | 24, 0, 0}, kAllow},
        PolicyRow{"coop_openat2_call", kCooperative, kX64, SYS_openat2, {0, 0, 0, 24, 0, 0}, kAllow},
        PolicyRow{"coop_mount_setattr_hidden", kCooperative, kX64, SYS_mount_setattr, {0, 0, 0, 0, kCheckFields | 32, 0}, kEnosys},
        PolicyRow{"coop_i386_allowed", kCooperative, AUDIT_ARCH_I386, 20, {0, 0, 0, 0, 0, 0}, kAllow}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace extsys::filter
