// SPDX-License-Identifier: MIT
// policy/effective.cpp - a policy applied to the running kernel.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kernel/abi/flag_names.h"
#include "kernel/abi/uapi_compat.h"
#include "kernel/abi/uapi_flags.h"
#include "policy/policy.h"
#include "policy/strict.h"

namespace extsys::policy {

using kernel::SyscallId;

const char* name(ProbeMode m) {
  switch (m) {
    case ProbeMode::Emulate: return "emulate";
    case ProbeMode::Passthrough: return "passthrough";
    case ProbeMode::Hide: return "hide";
  }
  return "?";
}
const char* name(CallMode m) {
  switch (m) {
    case CallMode::Allow: return "allow";
    case CallMode::Hide: return "hide";
    case CallMode::Restrict: return "restrict";
  }
  return "?";
}
const char* name(EnforceMode m) {
  return m == EnforceMode::Strict ? "strict" : "cooperative";
}
const char* name(ContainmentFloor f) {
  switch (f) {
    case ContainmentFloor::Full: return "full";
    case ContainmentFloor::PtraceOnly: return "ptrace-only";
    case ContainmentFloor::None: return "none";
  }
  return "?";
}
Result<ContainmentFloor> parseContainmentFloor(std::string_view text) {
  for (auto f : {ContainmentFloor::Full, ContainmentFloor::PtraceOnly, ContainmentFloor::None})
    if (text == name(f))
      return f;
  return Error(EINVAL, "containment must be \"full\", \"ptrace-only\" or \"none\", not \"" +
                           std::string(text) + "\"");
}

Policy defaultPolicy() { return Policy{}; }

namespace {

constexpr uint64_t kAllOnes = ~0ULL;

size_t fieldIndex(SyscallId id, std::string_view field) {
  const auto& fields = kernel::describe(id).fields;
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == field)
      return i;
  return kMaxFields;
}

void maskImageField(kernel::ProbeAnswer& a, size_t field, uint64_t mask) {
  const auto& f = kernel::describe(a.id).fields[field];
  if (f.offset + 8u > a.image.size())
    return;
  uint64_t v;
  std::memcpy(&v, a.image.data() + f.offset, 8);
  v &= mask;
  std::memcpy(a.image.data() + f.offset, &v, 8);
}

// The persona's view of the kernel: only what both have.
kernel::KernelFeatures personaView(const kernel::KernelFeatures& k, kernel::KernelVersion v) {
  const kernel::KernelFeatures p = kernel::featuresForVersion(v);
  kernel::KernelFeatures t = k;
  t.openat2.present = k.openat2.present && p.openat2.present;
  t.openat2.flags &= p.openat2.flags;
  t.openat2.mode &= p.openat2.mode;
  t.openat2.resolve &= p.openat2.resolve;
  t.clone3.present = k.clone3.present && p.clone3.present;
  t.clone3.extraFlags &= p.clone3.extraFlags;
  t.clone3.structSize = std::min(k.clone3.structSize, p.clone3.structSize);
  t.mountSetattr.present = k.mountSetattr.present && p.mountSetattr.present;
  t.mountSetattr.attrs &= p.mountSetattr.attrs;
  t.mountSetattr.attrsClr &= p.mountSetattr.attrsClr;
  t.mountSetattr.propagation &= p.mountSetattr.propagation;
  return t;
}

// What a persona lets real calls use, per field.
void personaAllow(const kernel::KernelFeatures& t, SyscallId id, EffectiveSyscall& decided) {
  auto set = [&](std::string_view field, uint64_t v) { decided.allow[fieldIndex(id, field)] = v; };
  switch (id) {
    case SyscallId::Openat2:
      set("flags", t.openat2.flags);
      set("mode", t.openat2.mode);
      set("resolve", t.openat2.resolve);
      decided.maxStructSize = t.openat2.structSize;
      break;
    case SyscallId::Clone3:
      set("flags", uapi::kCloneLegacyFlags | t.clone3.extraFlags);
      decided.maxStructSize = t.clone3.structSize;
      break;
    case SyscallId::MountSetattr:
      set("attr_set", t.mountSetattr.attrs);
      // As the RFC answer does: attr_clr = the valid attributes (the kernel
      // itself still refuses IDMAP there).
      set("attr_clr", t.mountSetattr.attrs);
      set("propagation", t.mountSetattr.propagation);
      decided.maxStructSize = t.mountSetattr.structSize;
      break;
  }
}

// Whether a persona's limits reject anything the running kernel accepts.
bool restrictsKernel(const kernel::KernelFeatures& k, SyscallId id, const EffectiveSyscall& decided,
                     const SyscallPolicy& written) {
  EffectiveSyscall kernelLimits;
  kernelLimits.allow.fill(kAllOnes);
  personaAllow(k, id, kernelLimits);
  for (size_t f = 0; f < kMaxFields; ++f)
    if ((kernelLimits.allow[f] & ~decided.allow[f]) != 0 || written.allow[f])
      return true;
  return kernelLimits.maxStructSize > decided.maxStructSize;
}

}  // namespace

Result<EffectivePolicy> makeEffective(const Policy& p, const kernel::KernelFeatures& k) {
  EffectivePolicy e;
  e.name = p.name;
  e.mode = p.mode;
  e.persona = p.persona;
  e.probeErrno = p.probeErrno.value_or(uapi::kEextsysNoop);
  // The kernel programs are shown: the persona's view of it, or itself.
  const kernel::KernelFeatures presented = p.persona ? personaView(k, *p.persona) : k;
  e.answers = kernel::buildAnswers(presented);

  for (const auto& d : kernel::syscallTable()) {
    const size_t i = static_cast<size_t>(d.id);
    const SyscallPolicy& written = p.syscalls[i];  // what the file says
    EffectiveSyscall& decided = e.syscalls[i];
    kernel::ProbeAnswer& answer = e.answers[i];
    decided.allow.fill(kAllOnes);
    decided.denyErrno = written.denyErrno.value_or(EINVAL);

    if (p.persona && !answer.present) {
      // Newer than the persona: as if the syscall did not exist.
      decided.probe = ProbeMode::Hide;
      decided.call = CallMode::Hide;
    } else {
      decided.probe = written.probe.value_or(ProbeMode::Emulate);
      decided.call = written.call.value_or(p.persona ? CallMode::Restrict : CallMode::Allow);
      if (p.persona) {
        personaAllow(presented, d.id, decided);
        if (!written.call && !restrictsKernel(k, d.id, decided, written))
          decided.call = CallMode::Allow;  // the persona accepts all this kernel does: no cost
      }
    }
    if (decided.call == CallMode::Hide)
      decided.probe = ProbeMode::Hide;
    for (size_t f = 0; f < d.fields.size(); ++f) {
      if (written.allow[f])
        decided.allow[f] &= *written.allow[f];
      uint64_t advertised = kAllOnes;
      if (written.advertise[f])
        advertised &= *written.advertise[f];
      if (decided.call == CallMode::Restrict && !kernel::flagNames(d.id, d.fields[f].name).empty())
        advertised &= decided.allow[f];  // never advertise what calls may not use
      maskImageField(answer, f, advertised);
    }
    if (decided.call == CallMode::Restrict && p.mode == EnforceMode::Strict)
      strict::translate(d.id, decided, e);
  }
  for (const auto& h : p.hide)
    e.enosys.push_back(h);
  if (p.mode == EnforceMode::Strict) {
    strict::closeSideDoors(e);
    e.containment = p.containment.value_or(ContainmentFloor::Full);
  }
  std::sort(e.enosys.begin(), e.enosys.end());
  e.enosys.erase(std::unique(e.enosys.begin(), e.enosys.end()), e.enosys.end());
  return e;
}

}  // namespace extsys::policy
