// SPDX-License-Identifier: MIT
// personas_test.cpp - the built-in personas (`--policy kernel-X.Y`), every
// one of them, against the version table: what probes are answered, which
// syscalls are hidden, which flags and struct sizes real calls may use. The
// facts checked are VERSIONS.md's (src/kernel/features/), written here by
// hand: a wrong row in the table or a wrong fold in the policy shows.
#include <gtest/gtest.h>

#include <algorithm>

#include "kernel/abi/answers.h"
#include "policy/personas.h"
#include "policy/toml_loader.h"

namespace extsys::policy {
namespace {

using kernel::KernelVersion;
using kernel::SyscallId;

constexpr KernelVersion kNewestPersona{7, 2, 0};

// VERSIONS.md, "The syscalls": the first release of each.
struct Since {
  SyscallId id;
  KernelVersion since;
};
constexpr Since kSyscallSince[] = {
    {SyscallId::Clone3, {5, 3, 0}},        {SyscallId::Openat2, {5, 6, 0}},
    {SyscallId::MountSetattr, {5, 12, 0}}, {SyscallId::LandlockCreateRuleset, {5, 13, 0}},
    {SyscallId::Setxattrat, {6, 13, 0}},   {SyscallId::Getxattrat, {6, 13, 0}},
    {SyscallId::OpenTreeAttr, {6, 15, 0}}, {SyscallId::FileGetattr, {6, 17, 0}},
    {SyscallId::FileSetattr, {6, 17, 0}},
};

// VERSIONS.md: flags with their first release, per syscall and field.
struct FlagSince {
  SyscallId id;
  const char* field;
  uint64_t bit;
  KernelVersion since;
};
constexpr FlagSince kFlagSince[] = {
    {SyscallId::Clone3, "flags", 0x80, {5, 6, 0}},        // CLONE_NEWTIME
    {SyscallId::Clone3, "flags", 1ULL << 32, {5, 5, 0}},  // CLONE_CLEAR_SIGHAND
    {SyscallId::Clone3, "flags", 1ULL << 33, {5, 7, 0}},  // CLONE_INTO_CGROUP
    {SyscallId::Clone3, "flags", 1ULL << 34, {7, 1, 0}},  // CLONE_AUTOREAP
    {SyscallId::Openat2, "resolve", 0x20, {5, 12, 0}},    // RESOLVE_CACHED
    {SyscallId::Openat2, "flags", 1ULL << 32, {7, 2, 0}}, // OPENAT2_REGULAR
    {SyscallId::MountSetattr, "attr_set", 0x200000, {5, 14, 0}},  // NOSYMFOLLOW
    {SyscallId::FileSetattr, "fa_xflags", 0x20000, {7, 0, 0}},    // FS_XFLAG_VERITY
    {SyscallId::LandlockCreateRuleset, "handled_access_fs", 1ULL << 13, {5, 19, 0}},  // REFER
};

// VERSIONS.md: clone3's struct size by release.
uint32_t clone3Size(KernelVersion v) {
  return v < KernelVersion{5, 5, 0} ? 64 : v < KernelVersion{5, 7, 0} ? 80 : 88;
}

size_t fieldIndex(SyscallId id, const char* name) {
  return *kernel::describe(id).fieldIndex(name);
}

std::string label(const KernelVersion& v) { return personaLabel(v); }

class BuiltInPersona : public ::testing::TestWithParam<KernelVersion> {};

// On the newest kernel the table knows and on this machine's 6.18.
TEST_P(BuiltInPersona, HidesAndRefusesWhatItsKernelLacks) {
  const KernelVersion v = GetParam();
  for (const KernelVersion host : {kNewestPersona, KernelVersion{6, 18, 0}}) {
    SCOPED_TRACE("persona " + label(v) + " on " + label(host));
    const Policy p = personaPolicy(v);
    auto e = makeEffective(p, kernel::featuresForVersion(host));
    ASSERT_TRUE(e.ok());
    for (const auto& s : kSyscallSince) {
      const auto& decided = e->of(s.id);
      const bool has = s.since <= v && s.since <= host;
      EXPECT_EQ(decided.call == CallMode::Hide, !has) << kernel::describe(s.id).name;
      EXPECT_EQ(decided.probe == ProbeMode::Hide, !has) << kernel::describe(s.id).name;
      EXPECT_EQ(e->answers[static_cast<size_t>(s.id)].present, has) << kernel::describe(s.id).name;
    }
    for (const auto& f : kFlagSince) {
      const auto& decided = e->of(f.id);
      if (decided.call == CallMode::Hide)
        continue;
      const size_t i = fieldIndex(f.id, f.field);
      // Allowed by extsys and by the running kernel (which refuses what it
      // lacks itself when extsys lets the call through).
      const bool allowed = (decided.call == CallMode::Allow || (decided.allow[i] & f.bit) != 0) &&
                           f.since <= host;
      const bool told = (e->answers[static_cast<size_t>(f.id)].field(f.field) & f.bit) != 0;
      const bool has = f.since <= v && f.since <= host;
      EXPECT_EQ(allowed, has) << kernel::describe(f.id).name << "." << f.field << " bit "
                              << std::hex << f.bit;
      EXPECT_EQ(told, has) << kernel::describe(f.id).name << "." << f.field << " bit "
                           << std::hex << f.bit;
    }
    const auto& c = e->of(SyscallId::Clone3);
    if (c.call == CallMode::Restrict) {
      EXPECT_EQ(c.maxStructSize, clone3Size(v));
    } else if (c.call == CallMode::Allow) {
      EXPECT_EQ(clone3Size(v), 88u) << "a persona with a smaller clone3 struct must restrict";
    }
    // Every other answer as the table computes it for that release.
    const auto want = kernel::buildAnswers(kernel::featuresForVersion(std::min(v, host)));
    for (const auto& d : kernel::syscallTable()) {
      const size_t i = static_cast<size_t>(d.id);
      if (!want[i].present || d.id == SyscallId::Clone3)
        continue;
      EXPECT_EQ(e->answers[i].ksize, want[i].ksize) << d.name;
      EXPECT_EQ(e->answers[i].image, want[i].image) << d.name;
    }
  }
}

// What `persona = "X.Y"` in a file says is what `kernel-X.Y` is.
TEST_P(BuiltInPersona, SameAsThePolicyFile) {
  const KernelVersion v = GetParam();
  auto file = parsePolicy("persona = \"" + label(v) + "\"\n", "kernel-" + label(v) + ".toml");
  ASSERT_TRUE(file.ok()) << file.error().message();
  auto byName = parsePersonaName("kernel-" + label(v));
  ASSERT_TRUE(byName.has_value());
  const auto k = kernel::featuresForVersion(kNewestPersona);
  auto a = makeEffective(*file, k);
  auto b = makeEffective(personaPolicy(*byName), k);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->name, "kernel-" + label(v));
  for (size_t i = 0; i < kernel::kSyscallCount; ++i) {
    EXPECT_EQ(a->answers[i].image, b->answers[i].image);
    EXPECT_EQ(a->syscalls[i].call, b->syscalls[i].call);
    EXPECT_EQ(a->syscalls[i].allow, b->syscalls[i].allow);
    EXPECT_EQ(a->syscalls[i].argAllow, b->syscalls[i].argAllow);
    EXPECT_EQ(a->syscalls[i].maxStructSize, b->syscalls[i].maxStructSize);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryListed, BuiltInPersona, ::testing::ValuesIn(listedPersonas()),
                         [](const auto& p) {
                           std::string name = "v";
                           name += std::to_string(p.param.major);
                           name += '_';
                           name += std::to_string(p.param.minor);
                           return name;
                         });

// The list has a persona for every release where a documented fact changes,
// and the release before the first.
TEST(BuiltInPersonas, ListCoversEveryChange) {
  const auto listed = listedPersonas();
  ASSERT_FALSE(listed.empty());
  EXPECT_EQ(listed.front(), (KernelVersion{5, 2, 0}));
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  auto has = [&](KernelVersion v) { return std::find(listed.begin(), listed.end(), v) != listed.end(); };
  for (const auto& s : kSyscallSince)
    EXPECT_TRUE(has(s.since)) << label(s.since);
  for (const auto& f : kFlagSince)
    EXPECT_TRUE(has(f.since)) << label(f.since);
  for (KernelVersion v : {KernelVersion{5, 5, 0}, KernelVersion{5, 7, 0}, KernelVersion{6, 7, 0},
                          KernelVersion{6, 12, 0}, KernelVersion{6, 15, 0}})  // sizes, Landlock ABIs
    EXPECT_TRUE(has(v)) << label(v);
  EXPECT_EQ(listed.back(), kNewestPersona);
}

TEST(BuiltInPersonas, Names) {
  EXPECT_EQ(parsePersonaName("kernel-5.10"), (KernelVersion{5, 10, 0}));
  EXPECT_EQ(parsePersonaName("kernel-4.20"), (KernelVersion{4, 20, 0}));
  for (const char* bad : {"kernel-5.99", "kernel-9.0", "kernel-05.10", "kernel-5.010", "kernel-5",
                          "kernel-5.10.1", "kernel-", "kernel-5.", "kernel-.10", "kernel5.10",
                          "kernel-2.6", "kernel-5.10 "})
    EXPECT_FALSE(parsePersonaName(bad).has_value()) << bad;
  EXPECT_EQ(personaPolicy({5, 10, 0}).mode, EnforceMode::Cooperative);
}

// The bug this fixes: a persona older than 5.6 let CLONE_NEWTIME through in
// real clone3 calls (all 32 legacy bits were allowed), where those kernels
// answered EINVAL. The other legacy bits stay allowed: the running kernel
// refuses CSIGNAL and CLONE_DETACHED itself, as every release does.
TEST(BuiltInPersonas, CloneNewtimeOnlyFrom56) {
  const auto host = kernel::featuresForVersion({6, 18, 0});
  for (int minor : {3, 4, 5}) {
    auto e = makeEffective(personaPolicy({5, minor, 0}), host);
    ASSERT_TRUE(e.ok());
    const auto& c = e->of(SyscallId::Clone3);
    ASSERT_EQ(c.call, CallMode::Restrict) << minor;
    EXPECT_EQ(c.allow[0] & 0xFFFFFFFFULL, 0xFFFFFF7FULL) << minor;
    EXPECT_EQ(e->answers[static_cast<size_t>(SyscallId::Clone3)].field("flags") & 0xFFFFFFFFULL,
              0xFFFFFF7FULL) << minor;
  }
  auto e = makeEffective(personaPolicy({5, 6, 0}), host);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->of(SyscallId::Clone3).allow[0] & 0xFFFFFFFFULL, 0xFFFFFFFFULL);
}

}  // namespace
}  // namespace extsys::policy
