// SPDX-License-Identifier: MIT
// kernel/abi/syscalls.h - the descriptor table of extensible-struct syscalls
// that extsys answers CHECK_FIELDS probes for. Each descriptor says what the
// answer is made of (every field's offset, width and role), which struct
// sizes exist, and which checks the kernel makes, in its order, before it
// would read the struct. Everything else - answers, personas, JSON, the
// cache, `extsys features`, the filter - loops over this table. Adding a
// syscall is one row here, its rows in the version table
// (features/feature_set.cpp), its bit names (flag_names.cpp), its discovery
// recipe and tests; nothing in the filter or supervisor names a syscall.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "kernel/abi/arch.h"

namespace extsys::kernel {

enum class SyscallId : uint8_t {
  Openat2,
  Clone3,
  MountSetattr,
  OpenTreeAttr,
  Setxattrat,
  Getxattrat,
  FileGetattr,
  FileSetattr,
  LandlockCreateRuleset,
};
inline constexpr size_t kSyscallCount = 9;

// Most fields of any struct in the table, and most checked arguments.
inline constexpr size_t kMaxFields = 11;
inline constexpr size_t kMaxArgChecks = 1;

// What a field of the answer image holds (src/kernel/abi/CHECK_FIELDS.md,
// 'Values written').
enum class FieldRole : uint8_t {
  Mask,     // a flag field: the accepted bits (a feature), OR `value` (bits always reported)
  CopyOf,   // the answer of field number `value` (mount_setattr's attr_clr = attr_set);
            // the field's own accepted bits are a feature too, shown but not answered
  AllOnes,  // a pointer, fd, length or value: all ones of its width
  Fixed,    // always `value` (clone3's exit_signal: CSIGNAL)
};

struct FieldDesc {
  std::string_view name;
  uint16_t offset;
  uint8_t width;  // 4 or 8 bytes, native endianness
  FieldRole role;
  uint64_t value = 0;  // Mask: bits always reported; CopyOf: source field; Fixed: the value
  // The key of the accepted bits in JSON and the cache, when it is not the
  // field's name (clone3's accepted mask holds only the clone3-only flags).
  std::string_view featureKey = {};

  bool isFlags() const { return role == FieldRole::Mask || role == FieldRole::CopyOf; }
  std::string_view key() const { return featureKey.empty() ? name : featureKey; }
  uint64_t allOnes() const { return width == 8 ? ~0ULL : (1ULL << (8 * width)) - 1; }
};

// An invalid combination inside a checked argument (EINVAL).
struct ArgCombo {
  uint64_t bits;      // Requires: any of these bits set...
  uint64_t needsAny;  // ...needs one of these; 0: the bits are mutually exclusive
};

// A check the kernel makes on another argument (not the struct). Its
// accepted bits are a feature that can depend on the kernel version.
struct ArgCheck {
  std::string_view name;  // the argument's name in the kernel's prototype
  uint8_t argIndex;
  bool low32Only;   // declared `unsigned int`: the upper half is ignored
  bool beforeSize;  // checked before the size: a probe fails here with EINVAL.
                    // false: after the struct copy, so a probe never sees it
  std::optional<uint64_t> fixedMask;  // set: not a feature (Landlock's flags must be 0)
  std::span<const ArgCombo> combos = {};
};

// The checks a probe passes, in the kernel's order.
enum class Check : uint8_t {
  Usable,      // the feature is switched on (Landlock off at boot: EOPNOTSUPP)
  Args,        // the arguments checked before the size (ArgCheck::beforeSize), EINVAL
  NullStruct,  // the struct pointer is NULL: SyscallDesc::nullStructErrno
  TooSmall,    // size < VER0: EINVAL
  TooBig,      // size > page: E2BIG
};

struct SyscallDesc {
  SyscallId id;
  std::string_view name;
  uint8_t sizeArg;    // index of the size argument
  uint8_t structArg;  // index of the struct pointer
  std::span<const uint32_t> sizes;  // the struct's sizes, oldest (VER0) first
  std::span<const Check> order;     // the checks, in the kernel's order
  int nullStructErrno;              // for Check::NullStruct
  bool readsStruct;                 // false: the kernel only writes the struct
  // Non-zero: a call with exactly this value in the checked argument, a NULL
  // struct and size 0 returns the feature's ABI version (Landlock's
  // LANDLOCK_CREATE_RULESET_VERSION); a persona answers it.
  uint64_t abiQuery = 0;
  std::span<const ArgCheck> args;
  std::span<const FieldDesc> fields;

  uint32_t ver0() const { return sizes.front(); }
  uint32_t layoutSize() const { return sizes.back(); }
  std::optional<size_t> fieldIndex(std::string_view field) const;
  std::optional<size_t> argIndex(std::string_view arg) const;
};

// The table, indexed by SyscallId.
const std::array<SyscallDesc, kSyscallCount>& syscallTable();
const SyscallDesc& describe(SyscallId id);
std::optional<SyscallId> syscallByName(std::string_view name);

// Largest layoutSize in the table: answer images fit in this many bytes.
inline constexpr size_t kMaxImageSize = 88;

// Syscall numbers, which syscalls the native ABI has, and its audit arch:
// kernel/abi/arch.h (nativeSyscallNr, syscallExists, nativeAuditArch).

// nr -> descriptor for notifications of the native ABI, resolved once.
class SyscallLookup {
public:
  SyscallLookup();
  const SyscallDesc* find(uint32_t arch, int nr) const;

private:
  uint32_t arch_;
  struct NrEntry {
    int nr;
    SyscallId id;
  };
  std::array<NrEntry, kSyscallCount> nrs_{};
};

}  // namespace extsys::kernel
