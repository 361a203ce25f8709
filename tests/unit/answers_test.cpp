// SPDX-License-Identifier: MIT
// answers_test - the RFC v3 answer images per kernel version, and the
// kernel's probe checks in their order (src/kernel/abi/CHECK_FIELDS.md, 'Order
// of checks' and 'Values written').
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "kernel/abi/answers.h"
#include "kernel/abi/flag_names.h"
#include "kernel/abi/uapi_compat.h"

namespace extsys::kernel {
namespace {

using uapi::kCheckFields;
constexpr uint64_t kOnes = ~0ULL;

const ProbeAnswer& answerFor(const ProbeAnswers& a, SyscallId id) {
  return a[static_cast<size_t>(id)];
}

// Rows of src/kernel/features/VERSIONS.md, 'What a probe is answered, by
// version', as the RFC formula reports them.
struct VersionRow {
  KernelVersion v;
  bool openat2;
  uint64_t openFlags, resolve;
  bool clone3;
  uint64_t cloneFlags;
  uint32_t cloneSize;
  bool mount;
  uint64_t attrs;
};

class AnswersByVersion : public ::testing::TestWithParam<VersionRow> {};

TEST_P(AnswersByVersion, FollowTheRfcFormula) {
  const VersionRow& r = GetParam();
  const ProbeAnswers a = buildAnswers(featuresForVersion(r.v));
  const auto& o = answerFor(a, SyscallId::Openat2);
  EXPECT_EQ(o.present, r.openat2);
  if (r.openat2) {
    EXPECT_EQ(o.ksize, 24u);
    EXPECT_EQ(o.field("flags"), r.openFlags);
    EXPECT_EQ(o.field("mode"), 07777u);
    EXPECT_EQ(o.field("resolve"), r.resolve);
  }
  const auto& c = answerFor(a, SyscallId::Clone3);
  EXPECT_EQ(c.present, r.clone3);
  if (r.clone3) {
    EXPECT_EQ(c.ksize, r.cloneSize);
    EXPECT_EQ(c.field("flags"), r.cloneFlags);
    EXPECT_EQ(c.field("exit_signal"), 0xFFu);
    for (const char* f : {"pidfd", "child_tid", "parent_tid", "stack", "stack_size", "tls"})
      EXPECT_EQ(c.field(f), kOnes) << f;
    EXPECT_EQ(c.field("set_tid"), r.cloneSize >= 80 ? kOnes : 0u);
    EXPECT_EQ(c.field("cgroup"), r.cloneSize >= 88 ? kOnes : 0u);
  }
  const auto& m = answerFor(a, SyscallId::MountSetattr);
  EXPECT_EQ(m.present, r.mount);
  if (r.mount) {
    EXPECT_EQ(m.ksize, 32u);
    EXPECT_EQ(m.field("attr_set"), r.attrs);
    EXPECT_EQ(m.field("attr_clr"), r.attrs);
    EXPECT_EQ(m.field("propagation"), 0x1E0000u);
    EXPECT_EQ(m.field("userns_fd"), kOnes);
  }
}

INSTANTIATE_TEST_SUITE_P(
    SpecTable, AnswersByVersion,
    ::testing::Values(
        VersionRow{{5, 2, 0}, false, 0, 0, false, 0, 0, false, 0},
        VersionRow{{5, 4, 0}, false, 0, 0, true, 0xFFFFFFFF, 64, false, 0},
        VersionRow{{5, 5, 0}, false, 0, 0, true, 0x1FFFFFFFF, 80, false, 0},
        VersionRow{{5, 6, 0}, true, 0x7FFFC3, 0x1F, true, 0x1FFFFFFFF, 80, false, 0},
        VersionRow{{5, 10, 0}, true, 0x7FFFC3, 0x1F, true, 0x3FFFFFFFF, 88, false, 0},
        VersionRow{{5, 12, 0}, true, 0x7FFFC3, 0x3F, true, 0x3FFFFFFFF, 88, true, 0x1000FF},
        VersionRow{{5, 15, 0}, true, 0x7FFFC3, 0x3F, true, 0x3FFFFFFFF, 88, true, 0x3000FF},
        VersionRow{{6, 1, 0}, true, 0x7FFFC3, 0x3F, true, 0x3FFFFFFFF, 88, true, 0x3000FF},
        VersionRow{{6, 18, 44}, true, 0x7FFFC3, 0x3F, true, 0x3FFFFFFFF, 88, true, 0x3000FF},
        VersionRow{{7, 1, 0}, true, 0x7FFFC3, 0x3F, true, 0x1FFFFFFFFF, 88, true, 0x3000FF},
        VersionRow{{7, 2, 0}, true, 0x1007FFFC3, 0x3F, true, 0x1FFFFFFFFF, 88, true, 0x3000FF}),
    [](const auto& p) {
      // Appended, not "v" + std::to_string(...): that inserts at the front of
      // a temporary, a false -Wrestrict for GCC 12 at -O3.
      std::string name = "v";
      name += std::to_string(p.param.v.major);
      name += '_';
      name += std::to_string(p.param.v.minor);
      return name;
    });

TEST(KernelVersion, ParsesReleases) {
  EXPECT_EQ(KernelVersion::parse("6.18.44-fc-v782"), (KernelVersion{6, 18, 44}));
  EXPECT_EQ(KernelVersion::parse("6.1.0-28-cloud-amd64"), (KernelVersion{6, 1, 0}));
  EXPECT_EQ(KernelVersion::parse("5.10"), (KernelVersion{5, 10, 0}));
  EXPECT_EQ(KernelVersion::parse("7.2.0-rc1"), (KernelVersion{7, 2, 0}));
  EXPECT_FALSE(KernelVersion::parse(""));
  EXPECT_FALSE(KernelVersion::parse("linux"));
  EXPECT_FALSE(KernelVersion::parse("6"));
  EXPECT_FALSE(KernelVersion::parse("0.1"));
}

// checkProbe rows: (syscall, args, page size) -> errno or the usize to copy.
struct CheckRow {
  const char* name;
  SyscallId id;
  uint64_t args[6];
  int err;
  uint64_t usize;
};

class ProbeChecks : public ::testing::TestWithParam<CheckRow> {};

TEST_P(ProbeChecks, FollowKernelOrder) {
  const CheckRow& r = GetParam();
  const ProbeAnswers answers = buildAnswers(featuresForVersion({6, 18, 0}));
  const ProbeVerdict v = checkProbe(describe(r.id), answerFor(answers, r.id), r.args, 4096);
  EXPECT_EQ(v.err, r.err) << r.name;
  if (r.err == 0) {
    EXPECT_EQ(v.usize, r.usize) << r.name;
  }
}

constexpr uint64_t kBadFlags = 1;

INSTANTIATE_TEST_SUITE_P(
    Spec, ProbeChecks,
    ::testing::Values(
        CheckRow{"openat2_ok", SyscallId::Openat2, {0, 0, 0, kCheckFields | 296, 0, 0}, 0, 296},
        CheckRow{"openat2_size0", SyscallId::Openat2, {0, 0, 0, kCheckFields, 0, 0}, EINVAL, 0},
        CheckRow{"openat2_size23", SyscallId::Openat2, {0, 0, 0, kCheckFields | 23, 0, 0}, EINVAL, 0},
        CheckRow{"openat2_ver0", SyscallId::Openat2, {0, 0, 0, kCheckFields | 24, 0, 0}, 0, 24},
        CheckRow{"openat2_page", SyscallId::Openat2, {0, 0, 0, kCheckFields | 4096, 0, 0}, 0, 4096},
        CheckRow{"openat2_page_plus1", SyscallId::Openat2, {0, 0, 0, kCheckFields | 4097, 0, 0}, E2BIG, 0},
        CheckRow{"openat2_0xF000", SyscallId::Openat2, {0, 0, 0, kCheckFields | 0xF000, 0, 0}, E2BIG, 0},
        CheckRow{"openat2_other_high_bit", SyscallId::Openat2, {0, 0, 0, kCheckFields | (1ULL << 40) | 24, 0, 0}, E2BIG, 0},
        CheckRow{"openat2_bit62", SyscallId::Openat2, {0, 0, 0, kCheckFields | (1ULL << 62), 0, 0}, E2BIG, 0},
        CheckRow{"openat2_ignores_dfd_path", SyscallId::Openat2, {kOnes, kOnes, 0, kCheckFields | 24, kOnes, kOnes}, 0, 24},
        CheckRow{"clone3_v0", SyscallId::Clone3, {0, kCheckFields | 64, 0, 0, 0, 0}, 0, 64},
        CheckRow{"clone3_63", SyscallId::Clone3, {0, kCheckFields | 63, 0, 0, 0, 0}, EINVAL, 0},
        CheckRow{"clone3_1", SyscallId::Clone3, {0, kCheckFields | 1, 0, 0, 0, 0}, EINVAL, 0},
        CheckRow{"clone3_0xF000", SyscallId::Clone3, {0, kCheckFields | 0xF000, 0, 0, 0, 0}, E2BIG, 0},
        CheckRow{"clone3_page", SyscallId::Clone3, {0, kCheckFields | 4096, 0, 0, 0, 0}, 0, 4096},
        CheckRow{"mount_ok", SyscallId::MountSetattr, {kOnes, 0, 0, 0, kCheckFields | 56, 0}, 0, 56},
        CheckRow{"mount_size0", SyscallId::MountSetattr, {0, 0, 0, 0, kCheckFields, 0}, EINVAL, 0},
        CheckRow{"mount_31", SyscallId::MountSetattr, {0, 0, 0, 0, kCheckFields | 31, 0}, EINVAL, 0},
        CheckRow{"mount_big", SyscallId::MountSetattr, {0, 0, 0, 0, kCheckFields | 0xF000, 0}, E2BIG, 0},
        CheckRow{"mount_bad_flags", SyscallId::MountSetattr, {0, 0, kBadFlags, 0, kCheckFields | 32, 0}, EINVAL, 0},
        CheckRow{"mount_bad_flags_beat_big_size", SyscallId::MountSetattr, {0, 0, kBadFlags, 0, kCheckFields | 0xF000, 0}, EINVAL, 0},
        CheckRow{"mount_allowed_flags", SyscallId::MountSetattr, {0, 0, 0x9900, 0, kCheckFields | 32, 0}, 0, 32},
        CheckRow{"mount_flags_high_half_ignored", SyscallId::MountSetattr, {0, 0, 0xFFFFFFFF00000000ULL, 0, kCheckFields | 32, 0}, 0, 32},
        CheckRow{"mount_flags_0x200", SyscallId::MountSetattr, {0, 0, 0x200, 0, kCheckFields | 32, 0}, EINVAL, 0}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(SyscallTable, IsConsistent) {
  size_t i = 0;
  for (const auto& d : syscallTable()) {
    EXPECT_EQ(static_cast<size_t>(d.id), i++) << d.name;
    EXPECT_EQ(syscallByName(d.name), d.id);
    EXPECT_GE(nativeSyscallNr(d.name), 0) << d.name;
    ASSERT_FALSE(d.sizes.empty()) << d.name;
    for (size_t s = 1; s < d.sizes.size(); ++s)
      EXPECT_LT(d.sizes[s - 1], d.sizes[s]) << d.name;
    EXPECT_LE(d.layoutSize(), kMaxImageSize) << d.name;
    EXPECT_LT(d.sizeArg, 6) << d.name;
    EXPECT_LT(d.structArg, 6) << d.name;
    EXPECT_NE(d.sizeArg, d.structArg) << d.name;
    EXPECT_LE(d.fields.size(), kMaxFields) << d.name;
    EXPECT_LE(d.args.size(), kMaxArgChecks) << d.name;
    uint16_t expectOffset = 0;
    for (const auto& f : d.fields) {  // fields are consecutive, naturally aligned
      EXPECT_EQ(f.offset, expectOffset) << d.name << "." << f.name;
      EXPECT_TRUE(f.width == 4 || f.width == 8) << d.name << "." << f.name;
      EXPECT_EQ(f.offset % f.width, 0) << d.name << "." << f.name;
      if (f.role == FieldRole::CopyOf) {
        ASSERT_LT(f.value, d.fields.size()) << d.name << "." << f.name;
        EXPECT_EQ(d.fields[f.value].role, FieldRole::Mask) << d.name << "." << f.name;
      }
      // Every flag field has bit names (policies and `extsys features`).
      EXPECT_EQ(f.isFlags(), !flagNames(d.id, f.name).empty()) << d.name << "." << f.name;
      expectOffset = static_cast<uint16_t>(expectOffset + f.width);
    }
    EXPECT_EQ(expectOffset, d.layoutSize()) << d.name;
    // Every size in the history ends at a field boundary.
    for (uint32_t size : d.sizes) {
      bool boundary = false;
      for (const auto& f : d.fields)
        boundary = boundary || f.offset + f.width == size;
      EXPECT_TRUE(boundary) << d.name << " size " << size;
    }
    for (const auto& a : d.args) {
      EXPECT_LT(a.argIndex, 6) << d.name << " " << a.name;
      EXPECT_NE(a.argIndex, d.sizeArg) << d.name << " " << a.name;
      if (!a.fixedMask) {
        EXPECT_FALSE(argFlagNames(d.id, a.name).empty()) << d.name << " " << a.name;
      }
    }
    bool checksSize[2] = {false, false};
    for (Check c : d.order) {
      checksSize[0] = checksSize[0] || c == Check::TooSmall;
      checksSize[1] = checksSize[1] || c == Check::TooBig;
    }
    EXPECT_TRUE(checksSize[0] && checksSize[1]) << d.name << ": both size checks";
  }
  EXPECT_FALSE(syscallByName("open"));
}

}  // namespace
}  // namespace extsys::kernel
