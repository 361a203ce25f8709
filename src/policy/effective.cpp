// SPDX-License-Identifier: MIT
// policy/effective.cpp - a policy applied to the running kernel.
#include <algorithm>
#include <cerrno>
#include <string>

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


// The persona's view of the kernel: only what both have.
kernel::KernelFeatures personaView(const kernel::KernelFeatures& k, kernel::KernelVersion v) {
  const kernel::KernelFeatures p = kernel::featuresForVersion(v);
  kernel::KernelFeatures t = k;
  for (size_t i = 0; i < kernel::kSyscallCount; ++i) {
    const kernel::SyscallFeatures& ps = p.syscalls[i];
    kernel::SyscallFeatures& ts = t.syscalls[i];
    ts.present = ts.present && ps.present;
    ts.structSize = std::min(ts.structSize, ps.structSize);
    for (size_t f = 0; f < ts.fields.size(); ++f)
      ts.fields[f] &= ps.fields[f];
    for (size_t a = 0; a < ts.args.size(); ++a)
      ts.args[a] &= ps.args[a];
  }
  t.landlockAbi = std::min(k.landlockAbi, p.landlockAbi);
  return t;
}

// What a persona lets real calls use, per field and checked argument: what
// the persona's kernel accepts, as the answer reports it (flag fields with
// their always-reported bits; a copied field as its source, as the RFC
// answer does: the kernel itself still refuses what it refuses).
// The always-reported bits of a field, as a persona's kernel has them:
// clone3's legacy flags lack CLONE_NEWTIME before 5.6, which its clone3
// rejected; every other field's are constant.
uint64_t alwaysBits(SyscallId id, size_t field, std::optional<kernel::KernelVersion> persona) {
  const kernel::FieldDesc& fd = kernel::describe(id).fields[field];
  if (persona && id == SyscallId::Clone3 && fd.name == "flags")
    return fd.value & kernel::cloneLegacyFlags(*persona);
  return fd.value;
}

void personaAllow(const kernel::KernelFeatures& t, SyscallId id, EffectiveSyscall& decided,
                  std::optional<kernel::KernelVersion> persona = std::nullopt) {
  const kernel::SyscallDesc& d = kernel::describe(id);
  if (!d.readsStruct)
    return;  // the kernel only writes the struct: nothing in it to restrict
  const kernel::SyscallFeatures& s = t.of(id);
  for (size_t f = 0; f < d.fields.size(); ++f) {
    const kernel::FieldDesc& fd = d.fields[f];
    if (fd.role == kernel::FieldRole::Mask)
      decided.allow[f] = alwaysBits(id, f, persona) | s.fields[f];
    else if (fd.role == kernel::FieldRole::CopyOf)
      decided.allow[f] = alwaysBits(id, fd.value, persona) | s.fields[fd.value];
  }
  for (size_t a = 0; a < d.args.size(); ++a)
    if (!d.args[a].fixedMask)
      decided.argAllow[a] = s.args[a];
  decided.maxStructSize = s.structSize;
}

// Whether a persona's limits reject anything the running kernel accepts.
bool restrictsKernel(const kernel::KernelFeatures& k, SyscallId id, const EffectiveSyscall& decided,
                     const SyscallPolicy& written) {
  EffectiveSyscall kernelLimits;
  kernelLimits.allow.fill(kAllOnes);
  kernelLimits.argAllow.fill(kAllOnes);
  personaAllow(k, id, kernelLimits);
  for (size_t f = 0; f < kMaxFields; ++f)
    if ((kernelLimits.allow[f] & ~decided.allow[f]) != 0 || written.allow[f])
      return true;
  for (size_t a = 0; a < kernelLimits.argAllow.size(); ++a)
    if ((kernelLimits.argAllow[a] & ~decided.argAllow[a]) != 0)
      return true;
  return kernelLimits.maxStructSize > decided.maxStructSize;
}

// A described syscall that strict mode (or the policy) put on the ENOSYS
// list is hidden through its own decision, so that its rules in the filter
// never disagree.
void hideListedSyscalls(EffectivePolicy& e) {
  for (const auto& d : kernel::syscallTable()) {
    if (std::erase(e.enosys, std::string(d.name)) == 0)
      continue;
    EffectiveSyscall& decided = e.syscalls[static_cast<size_t>(d.id)];
    decided.call = CallMode::Hide;
    decided.probe = ProbeMode::Hide;
  }
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
    decided.argAllow.fill(kAllOnes);
    decided.denyErrno = written.denyErrno.value_or(EINVAL);

    if (p.persona && !answer.present) {
      // Newer than the persona: as if the syscall did not exist.
      decided.probe = ProbeMode::Hide;
      decided.call = CallMode::Hide;
    } else {
      decided.probe = written.probe.value_or(ProbeMode::Emulate);
      decided.call = written.call.value_or(p.persona ? CallMode::Restrict : CallMode::Allow);
      if (p.persona) {
        personaAllow(presented, d.id, decided, p.persona);
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
      if (decided.call == CallMode::Restrict && d.fields[f].isFlags())
        advertised &= decided.allow[f];  // never advertise what calls may not use
      answer.maskField(f, advertised);
    }
    if (decided.call == CallMode::Restrict)
      for (size_t a = 0; a < d.args.size(); ++a)
        answer.argMasks[a] &= decided.argAllow[a];
    if (decided.call == CallMode::Restrict && p.persona && d.abiQuery != 0)
      decided.abiVersion = presented.landlockAbi;
    if (decided.call == CallMode::Restrict && p.mode == EnforceMode::Strict)
      strict::translate(d.id, decided, e);
  }
  for (const auto& h : p.hide)
    e.enosys.push_back(h);
  if (p.mode == EnforceMode::Strict) {
    strict::closeSideDoors(e);
    e.containment = p.containment.value_or(ContainmentFloor::Full);
  }
  hideListedSyscalls(e);
  std::sort(e.enosys.begin(), e.enosys.end());
  e.enosys.erase(std::unique(e.enosys.begin(), e.enosys.end()), e.enosys.end());
  return e;
}

}  // namespace extsys::policy
