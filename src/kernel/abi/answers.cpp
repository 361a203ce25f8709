// SPDX-License-Identifier: MIT
// kernel/abi/answers.cpp - RFC v3 answer images and probe checks, generic
// over the descriptor table.
#include "kernel/abi/answers.h"

#include <bit>
#include <cerrno>
#include <cstring>

#include "kernel/abi/uapi_compat.h"

namespace extsys::kernel {
namespace {

// Native endianness, `width` bytes.
void store(uint8_t* p, uint8_t width, uint64_t v) {
  if (width == 8) {
    std::memcpy(p, &v, 8);
  } else {
    const uint32_t w = static_cast<uint32_t>(v);
    std::memcpy(p, &w, 4);
  }
}

uint64_t load(const uint8_t* p, uint8_t width) {
  if (width == 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// One field's value in the answer of the kernel `s` describes.
uint64_t fieldAnswer(const SyscallDesc& d, const SyscallFeatures& s, size_t i) {
  const FieldDesc& f = d.fields[i];
  switch (f.role) {
    case FieldRole::Mask: return (f.value | s.fields[i]) & f.allOnes();
    case FieldRole::CopyOf: return fieldAnswer(d, s, f.value) & f.allOnes();
    case FieldRole::AllOnes: return f.allOnes();
    case FieldRole::Fixed: return f.value;
  }
  return 0;
}

bool argsPass(const SyscallDesc& d, const ProbeAnswer& a, const uint64_t (&args)[6]) {
  for (size_t i = 0; i < d.args.size(); ++i) {
    const ArgCheck& c = d.args[i];
    if (!c.beforeSize)
      continue;
    uint64_t v = args[c.argIndex];
    if (c.low32Only)
      v &= 0xFFFFFFFFULL;
    if (v & ~c.fixedMask.value_or(a.argMasks[i]))
      return false;
    for (const ArgCombo& combo : c.combos) {
      if (combo.needsAny == 0 ? std::popcount(v & combo.bits) > 1
                              : (v & combo.bits) != 0 && (v & combo.needsAny) == 0)
        return false;
    }
  }
  return true;
}

}  // namespace

uint64_t ProbeAnswer::field(size_t index) const {
  const FieldDesc& f = describe(id).fields[index];
  if (f.offset + f.width > ksize)
    return 0;
  return load(image.data() + f.offset, f.width);
}

uint64_t ProbeAnswer::field(std::string_view name) const {
  auto i = describe(id).fieldIndex(name);
  return i ? field(*i) : 0;
}

void ProbeAnswer::maskField(size_t index, uint64_t mask) {
  const FieldDesc& f = describe(id).fields[index];
  uint8_t* p = image.data() + f.offset;
  store(p, f.width, load(p, f.width) & mask);
}

ProbeAnswers buildAnswers(const KernelFeatures& k) {
  ProbeAnswers out{};
  for (const auto& d : syscallTable()) {
    const SyscallFeatures& s = k.of(d.id);
    ProbeAnswer& a = out[static_cast<size_t>(d.id)];
    a.id = d.id;
    a.present = s.present;
    a.disabledErrno = s.disabledErrno;
    a.ksize = s.structSize;
    a.argMasks = s.args;
    // Every field of the newest layout; ksize cuts off the ones this
    // kernel's struct does not have.
    for (size_t i = 0; i < d.fields.size(); ++i)
      store(a.image.data() + d.fields[i].offset, d.fields[i].width, fieldAnswer(d, s, i));
  }
  return out;
}

ProbeVerdict checkProbe(const SyscallDesc& d, const ProbeAnswer& a, const uint64_t (&args)[6],
                        uint64_t pageSize) {
  const uint64_t usize = args[d.sizeArg] & ~uapi::kCheckFields;
  for (Check c : d.order) {
    switch (c) {
      case Check::Usable:
        if (a.disabledErrno != 0)
          return {a.disabledErrno, 0};
        break;
      case Check::Args:
        if (!argsPass(d, a, args))
          return {EINVAL, 0};
        break;
      case Check::NullStruct:
        if (args[d.structArg] == 0)
          return {d.nullStructErrno, 0};
        break;
      case Check::TooSmall:
        if (usize < d.ver0())
          return {EINVAL, 0};
        break;
      case Check::TooBig:
        if (usize > pageSize)  // any other high bit lands here too
          return {E2BIG, 0};
        break;
    }
  }
  return {0, usize};
}

}  // namespace extsys::kernel
