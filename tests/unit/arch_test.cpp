// SPDX-License-Identifier: MIT
// arch_test - the per-architecture table (kernel/abi/arch.h) against sources
// that do not come from it: libseccomp's syscall tables and arch tokens for
// every row, the kernel's and glibc's headers for the native row; and what
// the table decides: a rule for a syscall an architecture lacks is dropped,
// rendered programs of other architectures decide by their own numbers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "filter/rules.h"
#include "filter/seccomp_filter.h"
#include "kernel/abi/arch.h"
#include "kernel/abi/flag_names.h"
#include "kernel/abi/uapi_flags.h"
#include "policy/toml_loader.h"
#include "unit/bpf_interpreter.h"

namespace extsys::kernel {
namespace {

class EveryArch : public ::testing::TestWithParam<Arch> {
protected:
  const ArchDesc& arch() const { return archDesc(GetParam()); }
};

std::string archName(const ::testing::TestParamInfo<Arch>& p) {
  return std::string(archDesc(p.param).name);
}

INSTANTIATE_TEST_SUITE_P(Table, EveryArch,
                         ::testing::Values(Arch::X86_64, Arch::Aarch64, Arch::Riscv64,
                                           Arch::Ppc64le, Arch::S390x),
                         archName);

TEST_P(EveryArch, AuditArchIsLibseccompsToken) {
  const std::string name(arch().name);
  EXPECT_EQ(seccomp_arch_resolve_name(name.c_str()), arch().auditArch);
  const std::string oci(arch().ociArch);
  ASSERT_TRUE(oci.starts_with("SCMP_ARCH_")) << oci;
  std::string lower = oci.substr(10);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_EQ(seccomp_arch_resolve_name(lower.c_str()), arch().auditArch) << oci;
  for (auto compat : arch().ociCompat) {
    if (compat.empty())
      continue;
    std::string c(compat.substr(10));
    std::transform(c.begin(), c.end(), c.begin(), ::tolower);
    const uint32_t token = seccomp_arch_resolve_name(c.c_str());
    EXPECT_NE(token, 0u) << compat;
    EXPECT_EQ(token & __AUDIT_ARCH_64BIT, 0u) << compat << " is a 32-bit ABI";
  }
  EXPECT_NE(arch().auditArch & __AUDIT_ARCH_64BIT, 0u) << "CHECK_FIELDS needs a 64-bit size";
}

// The legacy list says which old syscalls each architecture lacks;
// libseccomp's tables say the same, name by name.
TEST_P(EveryArch, LegacySyscallsAsLibseccompKnowsThem) {
  for (auto name : kLegacySyscalls) {
    const std::string n(name);
    const int nr = seccomp_syscall_resolve_name_arch(arch().auditArch, n.c_str());
    EXPECT_NE(nr, __NR_SCMP_ERROR) << n << ": libseccomp does not know the name";
    EXPECT_EQ(archHas(arch(), name), nr >= 0) << n << " (libseccomp: " << nr << ")";
    EXPECT_EQ(syscallNr(arch(), name), nr >= 0 ? nr : -1) << n;
  }
}

// What extsys's rules name exists everywhere, apart from the legacy calls.
TEST_P(EveryArch, TheSyscallsRulesNameResolve) {
  for (const char* name : {"openat", "openat2", "clone", "clone3", "unshare", "mount",
                           "mount_setattr", "fsmount", "open_by_handle_at", "io_uring_setup",
                           "io_uring_enter", "io_uring_register", "open_tree_attr"})
    EXPECT_GE(syscallNr(arch(), name), 0) << name;
  EXPECT_EQ(syscallNr(arch(), "openat2"), 437);
  EXPECT_EQ(syscallNr(arch(), "clone3"), 435);
  EXPECT_EQ(syscallNr(arch(), "mount_setattr"), 442);
  EXPECT_EQ(syscallNr(arch(), "no_such_syscall"), -1);
}

// The common numbers from 424 on: where libseccomp knows a name, its number
// is the table's, on every architecture.
TEST_P(EveryArch, NewerSyscallsHaveTheCommonNumbers) {
  int checked = 0;
  for (const auto& s : kNewerSyscalls) {
    const std::string n(s.name);
    const int nr = seccomp_syscall_resolve_name_arch(arch().auditArch, n.c_str());
    if (nr == __NR_SCMP_ERROR)
      continue;
    ++checked;
    EXPECT_EQ(nr, s.nr) << n;
  }
  // The same numbers for names libseccomp knows on x86_64 but not here
  // would show up as a mismatch above; say what was checked.
  RecordProperty("checked", checked);
}

TEST_P(EveryArch, OpenFlagsPermuteTheSameFourBits) {
  const OpenFlagBits& o = arch().open;
  EXPECT_EQ(o.direct | o.largefile | o.directory | o.nofollow, 0x3C000u);
  for (uint64_t b : {o.direct, o.largefile, o.directory, o.nofollow})
    EXPECT_EQ(__builtin_popcountll(b), 1);
  EXPECT_EQ(arch().probeErrno, 134);
}

TEST(NativeArch, MatchesTheSystemHeaders) {
  // glibc's values for the three it defines with the kernel's number
  // (its O_LARGEFILE is 0 on 64-bit ABIs; arch.cpp checks that one against
  // <asm/fcntl.h> at compile time).
  EXPECT_EQ(uapi::kODirectory, static_cast<uint64_t>(O_DIRECTORY));
  EXPECT_EQ(uapi::kONofollow, static_cast<uint64_t>(O_NOFOLLOW));
  EXPECT_EQ(uapi::kODirect, static_cast<uint64_t>(O_DIRECT));
  EXPECT_EQ(nativeAuditArch(), seccomp_arch_native());
  EXPECT_EQ(archByName(nativeArch().name), &nativeArch());
  EXPECT_EQ(archByName("sparc64"), nullptr);
#ifdef SYS_open
  EXPECT_TRUE(syscallExists("open"));
#else
  EXPECT_FALSE(syscallExists("open"));
#endif
  EXPECT_TRUE(syscallKnown("open"));
  EXPECT_TRUE(syscallKnown("open_tree_attr"));
  EXPECT_FALSE(syscallKnown("open_tre_attr"));
}

// The flag names follow the native numbering: O_DIRECTORY is glibc's bit.
TEST(NativeArch, FlagNamesUseItsBits) {
  EXPECT_EQ(flagByName(SyscallId::Openat2, "flags", "O_DIRECTORY"),
            static_cast<uint64_t>(O_DIRECTORY));
  EXPECT_EQ(describeBits(SyscallId::Openat2, "flags", O_DIRECTORY | O_NOFOLLOW),
            "O_DIRECTORY O_NOFOLLOW");
}

// A strict policy on an architecture without open(2) and creat(2): their
// rules are dropped, not an error, and the program still decides openat.
policy::EffectivePolicy strictFrom(const char* toml) {
  auto p = policy::parsePolicy(toml, "t.toml");
  EXPECT_TRUE(p.ok()) << (p ? "" : p.error().message());
  return *policy::makeEffective(*p, featuresForVersion({6, 18, 0}));
}

constexpr const char* kStrictOpen =
    "mode = \"strict\"\nhide = [\"open\", \"fork\", \"getpgid\"]\n"
    "[openat2]\ncall = \"restrict\"\n[openat2.forbid]\nflags = [\"O_RDWR\", \"O_CREAT\"]\n";

bool names(const filter::RuleSet& s, std::string_view syscall) {
  return std::any_of(s.rules.begin(), s.rules.end(),
                     [&](const filter::Rule& r) { return r.syscall == syscall; });
}

TEST_P(EveryArch, RulesForAbsentSyscallsAreDropped) {
  const auto e = strictFrom(kStrictOpen);
  const filter::RuleSet rules = filter::buildRules(e, arch());
  for (const char* name : {"open", "creat", "fork"}) {
    EXPECT_EQ(names(rules, name), archHas(arch(), name)) << name;
    EXPECT_EQ(std::count(rules.absent.begin(), rules.absent.end(), name),
              archHas(arch(), name) ? 0 : 1)
        << name;
  }
  EXPECT_TRUE(names(rules, "openat"));
  EXPECT_TRUE(names(rules, "getpgid"));
  EXPECT_TRUE(std::is_sorted(rules.absent.begin(), rules.absent.end()));
  // The program builds and decides: natively (the aarch64 pass runs this
  // test on aarch64); libseccomp renders other architectures only through
  // the native table (filter/seccomp_filter.h).
  if (GetParam() != kNativeArch)
    return;
  auto bpf = filter::buildFilter(rules, arch());
  ASSERT_TRUE(bpf.ok()) << bpf.error().message();
  // openat with O_RDWR is refused in BPF, with O_RDONLY allowed, by this
  // architecture's number; another architecture's call meets ENOSYS.
  seccomp_data d{};
  d.arch = arch().auditArch;
  d.nr = syscallNr(arch(), "openat");
  d.args[2] = uapi::kORdwr;
  EXPECT_EQ(test_support::runBpf(bpf->insns, d), SECCOMP_RET_ERRNO | EINVAL);
  d.args[2] = 0;
  EXPECT_EQ(test_support::runBpf(bpf->insns, d), SECCOMP_RET_ALLOW);
  d.nr = 437;  // openat2: hidden
  EXPECT_EQ(test_support::runBpf(bpf->insns, d), SECCOMP_RET_ERRNO | ENOSYS);
  d.arch = arch().auditArch == AUDIT_ARCH_X86_64 ? AUDIT_ARCH_AARCH64 : AUDIT_ARCH_X86_64;
  EXPECT_EQ(test_support::runBpf(bpf->insns, d), SECCOMP_RET_ERRNO | ENOSYS);
}

TEST(PolicyHide, AcceptsAnAbsentSyscallAndRefusesAnUnknownOne) {
  EXPECT_TRUE(policy::parsePolicy("hide = [\"creat\"]\n", "t.toml").ok());
  auto bad = policy::parsePolicy("hide = [\"creatt\"]\n", "t.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("unknown syscall 'creatt'"), std::string::npos)
      << bad.error().message();
}

}  // namespace
}  // namespace extsys::kernel
