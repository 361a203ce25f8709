// SPDX-License-Identifier: MIT
// kernel/abi/flag_names.h - the names of the bits of each struct field (O_PATH,
// RESOLVE_CACHED, CLONE_INTO_CGROUP, MOUNT_ATTR_IDMAP, MS_SHARED...), for
// display and for policy files.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/abi/syscalls.h"

namespace extsys::kernel {

struct FlagName {
  std::string_view name;
  uint64_t mask;  // one bit, or a whole multi-bit field such as MOUNT_ATTR__ATIME
};

// Names for one field; empty for fields that are not bit sets (pointers, fds).
// Every flag field (FieldDesc::isFlags) has names.
std::span<const FlagName> flagNames(SyscallId id, std::string_view field);

// "O_WRONLY O_RDWR ... 0x4000000": names for the set bits, then any rest in hex.
std::string describeBits(SyscallId id, std::string_view field, uint64_t value);
std::vector<std::string> bitNames(SyscallId id, std::string_view field, uint64_t value);

// Names for the bits of a checked argument (mount_setattr's flags...).
std::span<const FlagName> argFlagNames(SyscallId id, std::string_view arg);
std::vector<std::string> argBitNames(SyscallId id, std::string_view arg, uint64_t value);

// The mask a name stands for in this field, if it names one.
std::optional<uint64_t> flagByName(SyscallId id, std::string_view field, std::string_view name);

}  // namespace extsys::kernel
