// SPDX-License-Identifier: MIT
// kernel/abi/syscalls.h - the descriptor table of extensible-struct syscalls
// that extsys answers CHECK_FIELDS probes for. Adding a syscall is one entry
// here plus its answer formula (answers.cpp), its discovery recipe and tests;
// nothing in the filter or supervisor names a syscall.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "kernel/abi/arch.h"

namespace extsys::kernel {

enum class SyscallId : uint8_t { Openat2, Clone3, MountSetattr };
inline constexpr size_t kSyscallCount = 3;

// One __u64 field of the extensible struct.
struct FieldDesc {
  std::string_view name;
  uint16_t offset;
};

// A check the kernel makes on another argument before it looks at the size.
struct ArgMaskCheck {
  uint8_t argIndex;
  uint64_t allowedMask;  // bits outside it give EINVAL
  bool low32Only;        // the argument is declared `unsigned int`
};

// Which size check the kernel runs first. The two cannot fail at once, so the
// order is not observable; it is recorded to mirror the kernel code.
enum class SizeCheckOrder : uint8_t { TooSmallFirst, TooBigFirst };

struct SyscallDesc {
  SyscallId id;
  std::string_view name;
  uint8_t sizeArg;          // index of the size argument
  uint8_t structArg;        // index of the struct pointer
  uint32_t ver0;            // smallest accepted size
  uint32_t layoutSize;      // size of the newest layout extsys knows
  SizeCheckOrder order;
  std::optional<ArgMaskCheck> preCheck;
  std::span<const FieldDesc> fields;
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
