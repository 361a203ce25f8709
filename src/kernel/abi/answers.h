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
  bool present = false;   // false: the syscall does not exist (ENOSYS)
  int disabledErrno = 0;  // present but switched off: this errno first (Landlock: EOPNOTSUPP)
  uint32_t ksize = 0;
  std::array<uint8_t, kMaxImageSize> image{};
  // Accepted bits of each checked argument (SyscallDesc::args): a probe with
  // others gets EINVAL where the kernel checks them before the size.
  std::array<uint64_t, kMaxArgChecks> argMasks{};

  // The value of one field of the image (0 when it lies beyond ksize).
  uint64_t field(std::string_view name) const;
  uint64_t field(size_t index) const;
  // ANDs one field of the image with `mask`.
  void maskField(size_t index, uint64_t mask);
};

using ProbeAnswers = std::array<ProbeAnswer, kSyscallCount>;

// The RFC v3 values (src/kernel/abi/CHECK_FIELDS.md, 'Values written') for
// the kernel `f` describes, field by field from the descriptor's roles: a
// flag field gets its accepted bits (plus the bits always reported), a copy
// the other field's value, a pointer or value all ones of its width, a fixed
// field its value; ksize is the kernel's struct size.
ProbeAnswers buildAnswers(const KernelFeatures& f);

// The outcome of the kernel's checks on a probe: an errno written nothing
// (EINVAL, E2BIG), or "copy the answer into a user buffer of usize bytes".
struct ProbeVerdict {
  int err = 0;
  uint64_t usize = 0;
};

// The checks of src/kernel/abi/CHECK_FIELDS.md, 'Order of checks', in the
// kernel's order (SyscallDesc::order): a switched-off feature, the checked
// arguments against `a.argMasks`, a NULL struct, and the size with bit 63
// cleared against VER0 and `pageSize`. `args` are the six syscall arguments
// and must carry CHECK_FIELDS in the size argument; `a` must be present.
ProbeVerdict checkProbe(const SyscallDesc& d, const ProbeAnswer& a, const uint64_t (&args)[6],
                        uint64_t pageSize);

}  // namespace extsys::kernel
