// SPDX-License-Identifier: MIT
// kernel/discovery/discovery.cpp - safe active probes; each recipe and why it
// is safe: src/kernel/discovery/RECIPES.md.
#include "kernel/discovery/discovery.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>

#include "base/errno_name.h"
#include "kernel/abi/uapi_compat.h"
#include "kernel/abi/uapi_flags.h"

namespace extsys::kernel {

void ProbeCall::put(size_t offset, uint64_t v) { std::memcpy(buf.data() + offset, &v, sizeof v); }
uint64_t ProbeCall::get(size_t offset) const {
  uint64_t v;
  std::memcpy(&v, buf.data() + offset, sizeof v);
  return v;
}

namespace {

using namespace uapi;

// A non-NULL pidfd pointer: clone3 only writes it after creating the child,
// which the RLIMIT_NPROC guard prevents.
constexpr uint64_t kPidfdSlot = 0x10000;

ProbeCall call(uint64_t size) {
  ProbeCall c;
  c.size = size;
  return c;
}

void compare(SyscallReport& r, const char* field, uint64_t table, uint64_t probe) {
  if (table != probe)
    r.disagreements.push_back({field, table, probe});
}

// The kernel answered CHECK_FIELDS itself: any errno but the ones a kernel
// without it gives, with the buffer written.
bool nativeAnswer(int err, const ProbeCall& c) {
  if (err == E2BIG || err == EFAULT || err == EINVAL || err == ENOSYS || err == EPERM || err == 0)
    return false;
  for (uint8_t b : c.buf)
    if (b != 0)
      return true;
  return false;
}

// The running kernel's own CHECK_FIELDS answer, if it gives one: true
// after filling `rep` (and, through `fill`, the features).
template <typename Fill>
bool takeNativeAnswer(int err, const ProbeCall& answer, SyscallReport& rep, Fill fill) {
  if (!nativeAnswer(err, answer))
    return false;
  fill();
  rep.source = FeatureSource::Native;
  rep.note = std::string("the kernel answers CHECK_FIELDS itself (") + errnoName(err) + ")";
  return true;
}

void markAbsent(SyscallReport& rep, const char* name) {
  rep.source = FeatureSource::Probe;
  rep.note = std::string(name) + " is not in this kernel (ENOSYS)";
}

void discoverOpenat2(ProbeBackend& kernel, const KnownBits& known, const KernelFeatures& table,
                     KernelFeatures& f) {
  auto& rep = f.report(SyscallId::Openat2);
  auto& o = f.openat2;
  ProbeCall exist = call(0);
  if (kernel.openat2(exist) == ENOSYS) {
    o = {};
    markAbsent(rep, "openat2");
    return;
  }
  o.present = true;
  ProbeCall answer = call(kCheckFields | 64);
  if (takeNativeAnswer(kernel.openat2Out(answer), answer, rep, [&] {
        o.flags = answer.get(0);
        o.mode = answer.get(8);
        o.resolve = answer.get(16);
        o.structSize = 24;
      }))
    return;
  rep.source = FeatureSource::Probe;
  auto attempt = [&](uint64_t flags, uint64_t mode, uint64_t resolve) {
    ProbeCall c = call(24);
    c.put(0, flags);
    c.put(8, mode);
    c.put(16, resolve);
    int err = kernel.openat2(c);
    // EFAULT: validated, then the NULL path faulted. EAGAIN: RESOLVE_CACHED
    // with a create flag, also past validation.
    return err == EFAULT || err == EAGAIN;
  };
  // 5.6-5.13 copied flags into an int: bits 32-63 were ignored, so a probe
  // of them proves nothing.
  const bool highTrusted = !attempt(1ULL << 62, 0, 0);
  if (!highTrusted)
    rep.note = "kernel ignores open flag bits 32-63 (5.6-5.13 behaviour): none reported";
  uint64_t flags = 0, mode = 0, resolve = 0;
  for (int b = 0; b < 64; ++b) {
    const uint64_t bit = 1ULL << b;
    if (b < 32 || highTrusted) {
      const bool ok = bit == kOTmpfileBit
                           ? attempt(kOTmpfileBit | kODirectory | kORdwr, kSIrusr | kSIwusr, 0)
                           : attempt(bit, 0, 0);
      if (ok)
        flags |= bit;
    }
    if (attempt(0, 0, bit))
      resolve |= bit;
    if (attempt(kOCreat | kOWronly, bit, 0))
      mode |= bit;
  }
  o.flags = flags & known.openFlags;
  o.mode = mode & known.openMode;
  o.resolve = resolve & known.resolve;
  rep.unknownAccepted = (flags & ~known.openFlags) | (resolve & ~known.resolve);
  ProbeCall big = call(32);
  big.buf[24] = 1;
  o.structSize = 24;
  if (int err = kernel.openat2(big); err != E2BIG)
    rep.note += std::string(rep.note.empty() ? "" : "; ") +
                "open_how seems larger than 24 bytes (non-zero byte 24 gave " + errnoName(err) +
                "); extsys answers with the 24-byte layout it knows";
  if (table.openat2.present) {
    compare(rep, "flags", table.openat2.flags, o.flags);
    compare(rep, "mode", table.openat2.mode, o.mode);
    compare(rep, "resolve", table.openat2.resolve, o.resolve);
  }
}

// The clone3 calls of the probe child (ChildRequest::clone3) and what each
// one tests: the index of its call in the request.
struct Clone3Plan {
  bool inChild = false;
  std::vector<std::pair<uint64_t, size_t>> flags;  // a clone3-only flag bit, its call
  size_t setTid = 0, cgroup = 0, newField = 0;
};

ProbeCall cloneCall(uint64_t flags, uint64_t exitSignal, uint64_t size) {
  ProbeCall c = call(size);
  c.put(0, flags);
  c.put(32, exitSignal);
  if (flags & kClonePidfd)
    c.put(8, kPidfdSlot);
  return c;
}

Clone3Plan planClone3(std::vector<ProbeCall>& calls) {
  Clone3Plan p;
  p.inChild = true;
  auto add = [&](const ProbeCall& c) {
    calls.push_back(c);
    return calls.size() - 1;
  };
  add(cloneCall(0, SIGCHLD, 64));  // the guard
  for (int b = 32; b < 64; ++b) {
    const uint64_t bit = 1ULL << b;
    ProbeCall c;
    if (bit == kCloneIntoCgroup) {
      c = cloneCall(bit, SIGCHLD, 88);
      c.put(80, INT_MAX);
    } else if (bit == kCloneAutoreap) {
      c = cloneCall(bit | kClonePidfd, 0, 64);
    } else if (bit == kClonePidfdAutokill) {
      c = cloneCall(bit | kCloneAutoreap | kCloneNnp | kClonePidfd, 0, 64);
    } else {
      c = cloneCall(bit, SIGCHLD, 64);
    }
    p.flags.push_back({bit, add(c)});
  }
  ProbeCall setTid = cloneCall(0, SIGCHLD, 80);
  setTid.put(64, 1);  // set_tid without set_tid_size: EINVAL if the field is known
  p.setTid = add(setTid);
  ProbeCall cgroup = cloneCall(kCloneIntoCgroup, SIGCHLD, 88);
  cgroup.put(80, static_cast<uint64_t>(INT_MAX) + 1);  // out of range: EINVAL if known
  p.cgroup = add(cgroup);
  ProbeCall newField = cloneCall(0, SIGCHLD, 96);
  newField.buf[88] = 1;  // E2BIG unless the kernel knows a field at 88
  p.newField = add(newField);
  return p;
}

struct MountPlan {
  bool inChild = false;  // the calls go to the probe child
  std::vector<ProbeCall> calls;
  std::vector<std::pair<uint64_t, size_t>> set, clr, prop;
  size_t noatime = 0, strict = 0, clrAtime = 0, bigStruct = 0;
};

MountPlan planMount() {
  MountPlan p;
  auto add = [&](uint64_t set, uint64_t clr, uint64_t prop, uint64_t userns) {
    ProbeCall c = call(32);
    c.put(0, set);
    c.put(8, clr);
    c.put(16, prop);
    c.put(24, userns);
    p.calls.push_back(c);
    return p.calls.size() - 1;
  };
  for (int b = 0; b < 64; ++b) {
    const uint64_t bit = 1ULL << b;
    if (bit & kMountAttrAtime)
      continue;  // an enum, probed below as a whole
    // IDMAP with a closed fd: EBADF when known, EINVAL when not.
    p.set.push_back({bit, add(bit, 0, 0, bit == kMountAttrIdmap ? INT_MAX : 0)});
    p.clr.push_back({bit, add(0, bit, 0, 0)});
    p.prop.push_back({bit, add(0, 0, bit, 0)});
  }
  p.noatime = add(kMountAttrNoatime, kMountAttrAtime, 0, 0);
  p.strict = add(kMountAttrStrictatime, kMountAttrAtime, 0, 0);
  p.clrAtime = add(0, kMountAttrAtime, 0, 0);
  ProbeCall big = call(40);
  big.put(0, kMountAttrRdonly);  // so the attr is not all zero
  big.buf[32] = 1;
  p.calls.push_back(big);
  p.bigStruct = p.calls.size() - 1;
  return p;
}

void applyMount(const MountPlan& p, const std::vector<int>& errs, const KnownBits& known,
                const KernelFeatures& table, KernelFeatures& f) {
  auto& rep = f.report(SyscallId::MountSetattr);
  auto& m = f.mountSetattr;
  auto ok = [&](size_t i) { return errs[i] == EFAULT || errs[i] == EBADF; };
  uint64_t set = 0, clr = 0, prop = 0;
  for (auto [bit, i] : p.set)
    if (ok(i))
      set |= bit;
  for (auto [bit, i] : p.clr)
    if (ok(i))
      clr |= bit;
  for (auto [bit, i] : p.prop)
    if (ok(i))
      prop |= bit;
  // Bit by bit the atime field reads 0x30; it is one enum, reported whole.
  if (ok(p.noatime) || ok(p.strict))
    set |= kMountAttrAtime;
  if (ok(p.clrAtime))
    clr |= kMountAttrAtime;
  m.attrs = set & known.mountAttrs;
  m.attrsClr = clr & known.mountAttrs;
  m.propagation = prop & known.propagation;
  m.structSize = 32;
  rep.unknownAccepted = (set & ~known.mountAttrs) | (prop & ~known.propagation);
  if (errs[p.bigStruct] != E2BIG)
    rep.note += std::string(rep.note.empty() ? "" : "; ") +
                "mount_attr seems larger than 32 bytes (non-zero byte 32 gave " +
                errnoName(errs[p.bigStruct]) + ")";
  if (table.mountSetattr.present) {
    compare(rep, "attr_set", table.mountSetattr.attrs, m.attrs);
    compare(rep, "attr_clr", table.mountSetattr.attrsClr, m.attrsClr);
    compare(rep, "propagation", table.mountSetattr.propagation, m.propagation);
  }
}

// mount_setattr: existence and native answer here; the bit probes here when
// we may mount, else in the probe child's new user and mount namespace.
MountPlan startMountSetattr(ProbeBackend& kernel, DiscoveryOptions options,
                            const KnownBits& known, const KernelFeatures& table,
                            KernelFeatures& f) {
  auto& rep = f.report(SyscallId::MountSetattr);
  ProbeCall exist = call(0);
  if (kernel.mountSetattr(exist) == ENOSYS) {
    f.mountSetattr = {};
    markAbsent(rep, "mount_setattr");
    return {};
  }
  ProbeCall answer = call(kCheckFields | 64);
  if (takeNativeAnswer(kernel.mountSetattr(answer), answer, rep, [&] {
        f.mountSetattr = {true, answer.get(0), answer.get(8), answer.get(16), 32};
      }))
    return {};
  MountPlan plan = planMount();
  std::vector<int> errs;
  if (options.canMount)
    for (auto& c : plan.calls)
      errs.push_back(kernel.mountSetattr(c));
  if (!options.canMount || errs.front() == EPERM) {
    plan.inChild = true;
  } else {
    rep.source = FeatureSource::Probe;
    applyMount(plan, errs, known, table, f);
  }
  return plan;
}

// clone3: existence and native answer here; the flag probes in the child.
Clone3Plan startClone3(ProbeBackend& kernel, KernelFeatures& f, std::vector<ProbeCall>& calls) {
  auto& rep = f.report(SyscallId::Clone3);
  ProbeCall exist = call(0);
  if (kernel.clone3(exist) == ENOSYS) {
    f.clone3 = {};
    markAbsent(rep, "clone3");
    return {};
  }
  ProbeCall answer = call(kCheckFields | 128);
  if (takeNativeAnswer(kernel.clone3(answer), answer, rep, [&] {
        f.clone3.present = true;
        f.clone3.extraFlags = answer.get(0) & ~kCloneLegacyFlags;
        uint32_t size = 0;
        for (size_t off = 0; off + 8 <= answer.buf.size(); off += 8)
          if (answer.get(off) != 0)
            size = static_cast<uint32_t>(off + 8);
        f.clone3.structSize = size;
      }))
    return {};
  return planClone3(calls);
}

void finishNotify(const ChildResult& res, KernelFeatures& f) {
  if (res.notify.tested)
    f.notify = res.notify;
  else
    f.notify.note = "not tested (" + (res.error.empty() ? res.notify.note : res.error) +
                    "); from the version table";
}

void finishMountSetattr(const MountPlan& plan, const ChildResult& res, const KnownBits& known,
                        const KernelFeatures& table, KernelFeatures& f) {
  if (!plan.inChild)
    return;
  auto& rep = f.report(SyscallId::MountSetattr);
  if (!res.error.empty() || res.mountInUserns.size() != plan.calls.size()) {
    rep.source = FeatureSource::Table;
    rep.note = "probing needs CAP_SYS_ADMIN or an unprivileged user namespace (" +
               (res.mountNote.empty() ? res.error : res.mountNote) +
               "): values from the version table";
    return;
  }
  rep.source = FeatureSource::Probe;
  rep.note = "probed in a new user and mount namespace";
  applyMount(plan, res.mountInUserns, known, table, f);
}

void finishClone3(const Clone3Plan& plan, size_t requested, const ChildResult& res,
                  const KnownBits& known, const KernelFeatures& table, KernelFeatures& f) {
  if (!plan.inChild)
    return;
  auto& rep = f.report(SyscallId::Clone3);
  const std::vector<int>& errs = res.clone3;
  const bool guardFailed = !errs.empty() && errs[0] != EAGAIN;
  if (guardFailed || errs.size() != requested) {
    rep.source = FeatureSource::Table;
    rep.note = guardFailed ? std::string("guard failed: clone3 with RLIMIT_NPROC=0 gave ") +
                                 (errs[0] == 0 ? "success" : errnoName(errs[0])) +
                                 " instead of EAGAIN; values from the version table"
                           : "probe child did not run (" +
                                 (res.cloneNote.empty() ? res.error : res.cloneNote) +
                                 "); values from the version table";
    return;
  }
  rep.source = FeatureSource::Probe;
  auto passed = [&](size_t i) { return errs[i] == EAGAIN || errs[i] == EPERM; };
  uint64_t extra = 0;
  for (auto [bit, i] : plan.flags)
    if (passed(i))
      extra |= bit;
  f.clone3.present = true;
  f.clone3.extraFlags = extra & known.cloneExtra;
  rep.unknownAccepted = extra & ~known.cloneExtra;
  uint32_t size = 64;
  if (errs[plan.setTid] == EINVAL)
    size = 80;
  if (size == 80 && errs[plan.cgroup] == EINVAL)
    size = 88;
  f.clone3.structSize = size;
  if (errs[plan.newField] != E2BIG)
    rep.note = std::string("clone_args seems larger than 88 bytes (non-zero byte 88 gave ") +
               errnoName(errs[plan.newField]) + ")";
  if (table.clone3.present) {
    compare(rep, "flags", table.clone3.extraFlags, f.clone3.extraFlags);
    compare(rep, "struct_size", table.clone3.structSize, f.clone3.structSize);
  }
}

}  // namespace

KernelFeatures discover(ProbeBackend& kernel, KernelVersion version, DiscoveryOptions options) {
  const KernelFeatures table = featuresForVersion(version);
  const KnownBits known = knownBits(version);
  KernelFeatures f = table;
  discoverOpenat2(kernel, known, table, f);

  // What cannot be probed here goes to the one throw-away probe child.
  ChildRequest req;
  const MountPlan mount = startMountSetattr(kernel, options, known, table, f);
  if (mount.inChild)
    req.mountInUserns = mount.calls;
  const Clone3Plan clone = startClone3(kernel, f, req.clone3);
  const ChildResult res = kernel.runChild(req);

  finishNotify(res, f);
  finishMountSetattr(mount, res, known, table, f);
  finishClone3(clone, req.clone3.size(), res, known, table, f);
  return f;
}

}  // namespace extsys::kernel
