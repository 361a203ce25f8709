// SPDX-License-Identifier: MIT
// kernel/abi/answers.h - CHECK_FIELDS answer images (the RFC v3 formula applied
// to a KernelFeatures) and the kernel's checks that decide whether a probe gets
// one. Pure: no system calls, so every case is unit-testable.
#pragma once

#include <array>
#include <cstdint>

#include "kernel/features/feature_set.h"
#include "kernel/abi/syscalls.h"

namespace extsys::kernel {

// What an RFC v3 kernel writes for one syscall: `ksize` bytes of `image`.
struct ProbeAnswer {
  SyscallId id = SyscallId::Openat2;
  bool present = false;  // false: the syscall does not exist (ENOSYS)
  uint32_t ksize = 0;
  std::array<uint8_t, kMaxImageSize> image{};

  // The value of one field of the image (0 when it lies beyond ksize).
  uint64_t field(std::string_view name) const;
};

using ProbeAnswers = std::array<ProbeAnswer, kSyscallCount>;

// The RFC v3 values (src/kernel/abi/CHECK_FIELDS.md, 'Values written') for
// the kernel `f` describes:
// openat2 {flags, 07777, resolve}; clone3 {legacy 32 bits | clone3-only flags,
// all ones, exit_signal 0xFF, ksize = the kernel's struct size}; mount_setattr
// {attrs, attrs, propagation, all ones}.
ProbeAnswers buildAnswers(const KernelFeatures& f);

// The outcome of the kernel's checks on a probe: an errno written nothing
// (EINVAL, E2BIG), or "copy the answer into a user buffer of usize bytes".
struct ProbeVerdict {
  int err = 0;
  uint64_t usize = 0;
};

// The checks of src/kernel/abi/CHECK_FIELDS.md, 'Order of checks', in the
// kernel's order: the other
// argument's mask (mount_setattr flags), then bit 63 cleared and the size
// compared with VER0 and `pageSize`. `args` are the six syscall arguments and
// must carry CHECK_FIELDS in the size argument.
ProbeVerdict checkProbe(const SyscallDesc& d, const uint64_t (&args)[6], uint64_t pageSize);

}  // namespace extsys::kernel
