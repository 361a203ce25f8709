// SPDX-License-Identifier: MIT
// policy/effective.cpp - a policy applied to the running kernel.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kernel/abi/flag_names.h"
#include "kernel/abi/uapi_compat.h"
#include "kernel/abi/uapi_flags.h"
#include "policy/policy.h"

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

// MOUNT_ATTR_* bits -> the MS_* flags mount(2) uses for the same attribute.
uint64_t msFlagsFor(uint64_t forbiddenAttrs) {
  using namespace uapi;
  struct Same {
    uint64_t attr, ms;
  };
  static constexpr Same kSame[] = {
      {kMountAttrRdonly, kMsRdonly},       {kMountAttrNosuid, kMsNosuid},
      {kMountAttrNodev, kMsNodev},         {kMountAttrNoexec, kMsNoexec},
      {kMountAttrNoatime, kMsNoatime},     {kMountAttrStrictatime, kMsStrictatime},
      {kMountAttrNodiratime, kMsNodiratime}, {kMountAttrNosymfollow, kMsNosymfollow},
  };
  uint64_t ms = 0;
  for (const auto& s : kSame)
    if (forbiddenAttrs & s.attr)
      ms |= s.ms;
  // MOUNT_ATTR_RELATIME is 0: forbidding it means forbidding the whole field.
  if ((forbiddenAttrs & kMountAttrAtime) == kMountAttrAtime)
    ms |= kMsRelatime;
  return ms;
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

uint64_t allowed(const EffectiveSyscall& decided, SyscallId id, std::string_view field) {
  return decided.allow[fieldIndex(id, field)];
}

// Strict mode: a restriction that would need target memory becomes "hide"
// plus register-level rules on the legacy calls a libc falls back to.
void translateStrict(SyscallId id, EffectiveSyscall& decided, EffectivePolicy& e) {
  decided.call = CallMode::Hide;
  decided.probe = ProbeMode::Hide;
  const int err = decided.denyErrno;
  switch (id) {
    case SyscallId::Openat2: {
      // openat(2)'s flags are an int and unknown bits are ignored there, so
      // only the known ones are ever forbidden.
      const uint64_t flags = uapi::kValidOpenFlags & ~allowed(decided, id, "flags");
      const uint64_t mode = uapi::kModeBits & ~allowed(decided, id, "mode");
      if (flags) {
        e.argRules.push_back({"openat", 2, flags, err, "openat2 restricted: same open flags"});
        e.argRules.push_back({"open", 1, flags, err, "openat2 restricted: same open flags"});
        e.argRules.push_back({"open_by_handle_at", 2, flags, err, "openat2 restricted: same open flags"});
        if (flags & (uapi::kOCreat | uapi::kOWronly | uapi::kOTrunc))
          e.argRules.push_back({"creat", 0, 0, err, "creat implies O_CREAT|O_WRONLY|O_TRUNC"});
      }
      if (mode) {
        e.argRules.push_back({"openat", 3, mode, err, "openat2 restricted: same mode bits"});
        e.argRules.push_back({"open", 2, mode, err, "openat2 restricted: same mode bits"});
        e.argRules.push_back({"creat", 1, mode, err, "openat2 restricted: same mode bits"});
      }
      e.notes.push_back("openat2 is hidden (ENOSYS): a supervisor cannot open files on a "
                        "caller's behalf faithfully, so opens fall back to openat(2), whose "
                        "flags are checked in BPF; RESOLVE_* confinement is not available");
      break;
    }
    case SyscallId::Clone3: {
      const uint64_t forbidden = ~allowed(decided, id, "flags") & uapi::kCloneLegacyFlags;
      // clone(2) carries the exit signal in its low byte: never a flag. Its
      // flags are the first argument, the second on s390x (kernel/abi/arch.h).
      if (const uint64_t cloneFlags = forbidden & ~uapi::kCsignal)
        e.argRules.push_back({"clone", kernel::nativeArch().cloneFlagsArg, cloneFlags, err,
                              "clone3 restricted: same flags"});
      if (forbidden & uapi::kUnshareFlags)
        e.argRules.push_back({"unshare", 0, forbidden & uapi::kUnshareFlags, err,
                              "clone3 restricted: same namespace flags"});
      e.notes.push_back("clone3 is hidden (ENOSYS): its flags live in memory, so libc falls "
                        "back to clone(2), whose flags are checked in BPF");
      break;
    }
    case SyscallId::MountSetattr: {
      const uint64_t attrs = uapi::kKnownMountAttrs & ~allowed(decided, id, "attr_set");
      const uint64_t prop = uapi::kMountPropagationFlags & ~allowed(decided, id, "propagation");
      const uint64_t ms = msFlagsFor(attrs) | prop;
      if (ms)
        e.argRules.push_back({"mount", 3, ms, err, "mount_setattr restricted: same attributes"});
      if (attrs)
        e.argRules.push_back({"fsmount", 2, attrs, err, "mount_setattr restricted: same attributes"});
      e.enosys.push_back("open_tree_attr");  // takes the same struct mount_attr (6.15)
      e.notes.push_back("mount_setattr and open_tree_attr are hidden (ENOSYS): their attributes "
                        "live in memory; mount(2) and fsmount(2) flags are checked in BPF");
      break;
    }
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
      translateStrict(d.id, decided, e);
  }
  for (const auto& h : p.hide)
    e.enosys.push_back(h);
  if (p.mode == EnforceMode::Strict) {
    // io_uring runs opens (IORING_OP_OPENAT2) and more without seccomp.
    for (const char* s : {"io_uring_setup", "io_uring_enter", "io_uring_register"})
      e.enosys.push_back(s);
    e.foreignAbisEnosys = true;
    e.notes.push_back("io_uring and the " + std::string(kernel::nativeArch().compatAbis) +
                      " ABIs are closed (ENOSYS): their calls would bypass these rules");
  }
  std::sort(e.enosys.begin(), e.enosys.end());
  e.enosys.erase(std::unique(e.enosys.begin(), e.enosys.end()), e.enosys.end());
  return e;
}

}  // namespace extsys::policy
