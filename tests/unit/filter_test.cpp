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
#include "kernel/uapi_compat.h"

namespace extsys::filter {
namespace {

// Executes a classic BPF program over a seccomp_data, as the kernel does.
uint32_t runBpf(const std::vector<sock_filter>& prog, const seccomp_data& data) {
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const uint8_t*>(&data);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& i = prog[pc];
    const uint32_t src = BPF_SRC(i.code) == BPF_X ? x : i.k;
    switch (BPF_CLASS(i.code)) {
      case BPF_LD:
        if (BPF_MODE(i.code) == BPF_ABS) {
          EXPECT_LE(i.k + 4, sizeof data);
          std::memcpy(&a, bytes + i.k, 4);
        } else if (BPF_MODE(i.code) == BPF_IMM) {
          a = i.k;
        } else if (BPF_MODE(i.code) == BPF_MEM) {
          a = mem[i.k];
        } else {
          ADD_FAILURE() << "unsupported LD mode at " << pc;
          return 0;
        }
        break;
      case BPF_LDX:
        x = BPF_MODE(i.code) == BPF_MEM ? mem[i.k] : i.k;
        break;
      case BPF_ST:
        mem[i.k] = a;
        break;
      case BPF_STX:
        mem[i.k] = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(i.code)) {
          case BPF_AND: a &= src; break;
          case BPF_OR: a |= src; break;
          case BPF_ADD: a += src; break;
          case BPF_SUB: a -= src; break;
          case BPF_LSH: a <<= src; break;
          case BPF_RSH: a >>= src; break;
          default: ADD_FAILURE() << "unsupported ALU op at " << pc; return 0;
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(i.code) == BPF_JA) {
          pc += i.k;
          break;
        }
        bool cond = false;
        switch (BPF_OP(i.code)) {
          case BPF_JEQ: cond = a == src; break;
          case BPF_JGT: cond = a > src; break;
          case BPF_JGE: cond = a >= src; break;
          case BPF_JSET: cond = (a & src) != 0; break;
          default: ADD_FAILURE() << "unsupported JMP op at " << pc; return 0;
        }
        pc += cond ? i.jt : i.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(i.code) == BPF_A ? a : i.k;
      case BPF_MISC:
        if (BPF_MISCOP(i.code) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
      default:
        ADD_FAILURE() << "unsupported class at " << pc;
        return 0;
    }
  }
  ADD_FAILURE() << "program fell off its end";
  return 0;
}

constexpr uint64_t kCF = uapi::kCheckFields;
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
        Row{"openat2_probe", kX64, SYS_openat2, {0, 0, 0, kCF | 24, 0, 0}, kNotify},
        Row{"openat2_probe_low_word_all_ones", kX64, SYS_openat2, {0, 0, 0, kCF | 0xFFFFFFFF, 0, 0}, kNotify},
        Row{"openat2_probe_other_high_bits", kX64, SYS_openat2, {0, 0, 0, ~0ULL, 0, 0}, kNotify},
        Row{"openat2_real_call", kX64, SYS_openat2, {0, 0, 0, 24, 0, 0}, kAllow},
        Row{"openat2_bit62_only", kX64, SYS_openat2, {0, 0, 0, (1ULL << 62) | 24, 0, 0}, kAllow},
        Row{"openat2_bit63_in_wrong_arg", kX64, SYS_openat2, {kCF, kCF, kCF, 24, kCF, kCF}, kAllow},
        Row{"openat2_bit31_of_size", kX64, SYS_openat2, {0, 0, 0, 0x80000000ULL, 0, 0}, kAllow},
        Row{"clone3_probe", kX64, SYS_clone3, {0, kCF | 88, 0, 0, 0, 0}, kNotify},
        Row{"clone3_real_call", kX64, SYS_clone3, {0, 88, 0, 0, 0, 0}, kAllow},
        Row{"clone3_bit63_in_arg0", kX64, SYS_clone3, {kCF, 88, 0, 0, 0, 0}, kAllow},
        Row{"mount_setattr_probe", kX64, SYS_mount_setattr, {0, 0, 0, 0, kCF | 32, 0}, kNotify},
        Row{"mount_setattr_real_call", kX64, SYS_mount_setattr, {0, 0, 0, 0, 32, 0}, kAllow},
        Row{"mount_setattr_bit63_in_arg3", kX64, SYS_mount_setattr, {0, 0, 0, kCF, 32, 0}, kAllow},
        Row{"getppid", kX64, SYS_getppid, {kCF, kCF, kCF, kCF, kCF, kCF}, kAllow},
        Row{"close", kX64, SYS_close, {0, kCF, 0, kCF, kCF, 0}, kAllow},
        Row{"openat_legacy", kX64, SYS_openat, {0, 0, 0, kCF, 0, 0}, kAllow},
        Row{"x32_openat2", kX64, static_cast<int>(kX32Bit | SYS_openat2), {0, 0, 0, kCF | 24, 0, 0}, kAllow},
        Row{"x32_clone3", kX64, static_cast<int>(kX32Bit | SYS_clone3), {0, kCF | 88, 0, 0, 0, 0}, kAllow},
        Row{"i386_openat2", AUDIT_ARCH_I386, 437, {0, 0, 0, kCF | 24, 0, 0}, kAllow},
        Row{"i386_clone3", AUDIT_ARCH_I386, 435, {0, kCF | 88, 0, 0, 0, 0}, kAllow},
        Row{"aarch64_openat2", AUDIT_ARCH_AARCH64, 437, {0, 0, 0, kCF | 24, 0, 0}, kAllow}),
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
    EXPECT_GT(nativeSyscallNr(d), 0) << d.name;
  EXPECT_EQ(nativeAuditArch(), static_cast<uint32_t>(AUDIT_ARCH_X86_64));
}

}  // namespace
}  // namespace extsys::filter
