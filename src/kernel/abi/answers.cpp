// SPDX-License-Identifier: MIT
// kernel/abi/answers.cpp - RFC v3 answer images and probe checks.
#include "kernel/abi/answers.h"

#include <cerrno>
#include <cstring>

#include "kernel/abi/uapi_compat.h"
#include "kernel/abi/uapi_flags.h"

namespace extsys::kernel {
namespace {

constexpr uint64_t kAllOnes = ~0ULL;

void put(ProbeAnswer& a, const SyscallDesc& d, std::string_view field, uint64_t value) {
  for (const auto& f : d.fields)
    if (f.name == field) {
      std::memcpy(a.image.data() + f.offset, &value, sizeof value);  // native endianness
      return;
    }
}

}  // namespace

uint64_t ProbeAnswer::field(std::string_view name) const {
  for (const auto& f : describe(id).fields)
    if (f.name == name && f.offset + 8u <= ksize) {
      uint64_t v;
      std::memcpy(&v, image.data() + f.offset, sizeof v);
      return v;
    }
  return 0;
}

ProbeAnswers buildAnswers(const KernelFeatures& f) {
  ProbeAnswers out{};
  for (const auto& d : syscallTable())
    out[static_cast<size_t>(d.id)].id = d.id;

  {
    const auto& d = describe(SyscallId::Openat2);
    auto& a = out[static_cast<size_t>(d.id)];
    a.present = f.openat2.present;
    a.ksize = d.layoutSize;
    put(a, d, "flags", f.openat2.flags);
    put(a, d, "mode", f.openat2.mode);
    put(a, d, "resolve", f.openat2.resolve);
  }
  {
    const auto& d = describe(SyscallId::Clone3);
    auto& a = out[static_cast<size_t>(d.id)];
    a.present = f.clone3.present;
    a.ksize = f.clone3.structSize;
    // Every field all ones, then flags and exit_signal; fields beyond the
    // kernel's struct size are not part of the image (ksize cuts them off).
    for (const auto& field : d.fields)
      put(a, d, field.name, kAllOnes);
    put(a, d, "flags", uapi::kCloneLegacyFlags | f.clone3.extraFlags);
    put(a, d, "exit_signal", uapi::kCsignal);
  }
  {
    const auto& d = describe(SyscallId::MountSetattr);
    auto& a = out[static_cast<size_t>(d.id)];
    a.present = f.mountSetattr.present;
    a.ksize = d.layoutSize;
    put(a, d, "attr_set", f.mountSetattr.attrs);
    put(a, d, "attr_clr", f.mountSetattr.attrs);
    put(a, d, "propagation", f.mountSetattr.propagation);
    put(a, d, "userns_fd", kAllOnes);
  }
  return out;
}

ProbeVerdict checkProbe(const SyscallDesc& d, const uint64_t (&args)[6], uint64_t pageSize) {
  if (d.preCheck) {
    uint64_t v = args[d.preCheck->argIndex];
    if (d.preCheck->low32Only)
      v &= 0xFFFFFFFFULL;
    if (v & ~d.preCheck->allowedMask)
      return {EINVAL, 0};
  }
  const uint64_t usize = args[d.sizeArg] & ~uapi::kCheckFields;
  const bool tooSmall = usize < d.ver0;
  const bool tooBig = usize > pageSize;  // any other high bit lands here too
  if (d.order == SizeCheckOrder::TooSmallFirst) {
    if (tooSmall)
      return {EINVAL, 0};
    if (tooBig)
      return {E2BIG, 0};
  } else {
    if (tooBig)
      return {E2BIG, 0};
    if (tooSmall)
      return {EINVAL, 0};
  }
  return {0, usize};
}

}  // namespace extsys::kernel
