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

void RawCall::put(size_t offset, uint64_t v) { std::memcpy(buf.data() + offset, &v, sizeof v); }
uint64_t RawCall::get(size_t offset) const {
  uint64_t v;
  std::memcpy(&v, buf.data() + offset, sizeof v);
  return v;
}

namespace {

using namespace uapi;

// A non-NULL pidfd pointer: clone3 only writes it after creating the child,
// which the RLIMIT_NPROC guard prevents.
constexpr uint64_t kPidfdSlot = 0x10000;

RawCall call(uint64_t size) {
  RawCall c;
  c.size = size;
  return c;
}

void compare(SyscallReport& r, const char* field, uint64_t table, uint64_t probe) {
  if (table != probe)
    r.disagreements.push_back({field, table, probe});
}

// The kernel answered CHECK_FIELDS itself: any errno but the ones a kernel
// without it gives, with the buffer written.
bool nativeAnswer(int err, const RawCall& c) {
  if (err == E2BIG || err == EFAULT || err == EINVAL || err == ENOSYS || err == EPERM || err == 0)
    return false;
  for (uint8_t b : c.buf)
    if (b != 0)
      return true;
  return false;
}

void discoverOpenat2(ProbeBackend& k, const KnownBits& known, const KernelFeatures& table,
                     KernelFeatures& f) {
  auto& rep = f.report(SyscallId::Openat2);
  auto& o = f.openat2;
  RawCall exist = call(0);
  if (k.openat2(exist) == ENOSYS) {
    o = {};
    rep.source = FeatureSource::Probe;
    rep.note = "openat2 is not in this kernel (ENOSYS)";
    return;
  }
  o.present = true;
  RawCall cf = call(kCheckFields | 64);
  if (int err = k.openat2Out(cf); nativeAnswer(err, cf)) {
    o.flags = cf.get(0);
    o.mode = cf.get(8);
    o.resolve = cf.get(16);
    o.structSize = 24;
    rep.source = FeatureSource::Native;
    rep.note = std::string("the kernel answers CHECK_FIELDS itself (") + errnoName(err) + ")";
    return;
  }
  rep.source = FeatureSource::Probe;
  auto attempt = [&](uint64_t flags, uint64_t mode, uint64_t resolve) {
    RawCall c = call(24);
    c.put(0, flags);
    c.put(8, mode);
    c.put(16, resolve);
    int err = k.openat2(c);
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
  RawCall big = call(32);
  big.buf[24] = 1;
  o.structSize = 24;
  if (int err = k.openat2(big); err != E2BIG)
    rep.note += std::string(rep.note.empty() ? "" : "; ") +
                "open_how seems larger than 24 bytes (non-zero byte 24 gave " + errnoName(err) +
                "); extsys answers with the 24-byte layout it knows";
  if (table.openat2.present) {
    compare(rep, "flags", table.openat2.flags, o.flags);
    compare(rep, "mode", table.openat2.mode, o.mode);
    compare(rep, "resolve", table.openat2.resolve, o.resolve);
  }
}

// clone3 calls for the probe child; returns the index of each flag's call.
struct CloneProbe {
  uint64_t bit;
  size_t index;
};

RawCall cloneCall(uint64_t flags, uint64_t exitSignal, uint64_t size) {
  RawCall c = call(size);
  c.put(0, flags);
  c.put(32, exitSignal);
  if (flags & kClonePidfd)
    c.put(8, kPidfdSlot);
  return c;
}

void planClone3(ChildRequest& req, std::vector<CloneProbe>& flagProbes, size_t& setTid,
                size_t& cgroup, size_t& newField) {
  req.clone3.push_back(cloneCall(0, SIGCHLD, 64));  // the guard
  for (int b = 32; b < 64; ++b) {
    const uint64_t bit = 1ULL << b;
    RawCall c;
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
    flagProbes.push_back({bit, req.clone3.size()});
    req.clone3.push_back(c);
  }
  RawCall st = cloneCall(0, SIGCHLD, 80);
  st.put(64, 1);  // set_tid without set_tid_size: EINVAL if the field is known
  setTid = req.clone3.size();
  req.clone3.push_back(st);
  RawCall cg = cloneCall(kCloneIntoCgroup, SIGCHLD, 88);
  cg.put(80, static_cast<uint64_t>(INT_MAX) + 1);  // out of range: EINVAL if known
  cgroup = req.clone3.size();
  req.clone3.push_back(cg);
  RawCall nf = cloneCall(0, SIGCHLD, 96);
  nf.buf[88] = 1;  // E2BIG unless the kernel knows a field at 88
  newField = req.clone3.size();
  req.clone3.push_back(nf);
}

struct MountPlan {
  std::vector<RawCall> calls;
  std::vector<std::pair<uint64_t, size_t>> set, clr, prop;
  size_t noatime = 0, strict = 0, clrAtime = 0, bigStruct = 0;
};

MountPlan planMount() {
  MountPlan p;
  auto add = [&](uint64_t set, uint64_t clr, uint64_t prop, uint64_t userns) {
    RawCall c = call(32);
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
  RawCall big = call(40);
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

}  // namespace

KernelFeatures discover(ProbeBackend& k, KernelVersion version, DiscoveryOptions options) {
  const KernelFeatures table = featuresForVersion(version);
  const KnownBits known = knownBits(version);
  KernelFeatures f = table;

  discoverOpenat2(k, known, table, f);

  ChildRequest req;

  // mount_setattr: existence and native answer here; bit probes here when we
  // may mount, else in the child's new user and mount namespace.
  auto& mrep = f.report(SyscallId::MountSetattr);
  MountPlan mplan;
  bool mountInChild = false;
  {
    RawCall exist = call(0);
    RawCall cf = call(kCheckFields | 64);
    if (k.mountSetattr(exist) == ENOSYS) {
      f.mountSetattr = {};
      mrep.source = FeatureSource::Probe;
      mrep.note = "mount_setattr is not in this kernel (ENOSYS)";
    } else if (int err = k.mountSetattr(cf); nativeAnswer(err, cf)) {
      f.mountSetattr = {true, cf.get(0), cf.get(8), cf.get(16), 32};
      mrep.source = FeatureSource::Native;
      mrep.note = std::string("the kernel answers CHECK_FIELDS itself (") + errnoName(err) + ")";
    } else {
      mplan = planMount();
      std::vector<int> errs;
      if (options.canMount) {
        for (auto& c : mplan.calls)
          errs.push_back(k.mountSetattr(c));
      }
      if (!options.canMount || errs.front() == EPERM) {
        mountInChild = true;
        req.mountInUserns = mplan.calls;
      } else {
        mrep.source = FeatureSource::Probe;
        applyMount(mplan, errs, known, table, f);
      }
    }
  }

  // clone3: existence and native answer here, flag probes in the child.
  auto& crep = f.report(SyscallId::Clone3);
  std::vector<CloneProbe> cloneFlags;
  size_t setTid = 0, cgroup = 0, newField = 0;
  bool cloneInChild = false;
  {
    RawCall exist = call(0);
    RawCall cf = call(kCheckFields | 128);
    if (k.clone3(exist) == ENOSYS) {
      f.clone3 = {};
      crep.source = FeatureSource::Probe;
      crep.note = "clone3 is not in this kernel (ENOSYS)";
    } else if (int err = k.clone3(cf); nativeAnswer(err, cf)) {
      f.clone3.present = true;
      f.clone3.extraFlags = cf.get(0) & ~kCloneLegacyFlags;
      uint32_t size = 0;
      for (size_t off = 0; off + 8 <= cf.buf.size(); off += 8)
        if (cf.get(off) != 0)
          size = static_cast<uint32_t>(off + 8);
      f.clone3.structSize = size;
      crep.source = FeatureSource::Native;
      crep.note = std::string("the kernel answers CHECK_FIELDS itself (") + errnoName(err) + ")";
    } else {
      cloneInChild = true;
      planClone3(req, cloneFlags, setTid, cgroup, newField);
    }
  }

  ChildResult res = k.runChild(req);

  if (res.notify.tested) {
    f.notify = res.notify;
  } else {
    f.notify.note = "not tested (" + (res.error.empty() ? res.notify.note : res.error) +
                    "); from the version table";
  }

  if (mountInChild) {
    if (!res.error.empty() || res.mountInUserns.size() != mplan.calls.size()) {
      mrep.source = FeatureSource::Table;
      mrep.note = "probing needs CAP_SYS_ADMIN or an unprivileged user namespace (" +
                  (res.mountNote.empty() ? res.error : res.mountNote) +
                  "): values from the version table";
    } else {
      mrep.source = FeatureSource::Probe;
      mrep.note = "probed in a new user and mount namespace";
      applyMount(mplan, res.mountInUserns, known, table, f);
    }
  }

  if (cloneInChild) {
    const bool guardFailed = !res.clone3.empty() && res.clone3[0] != EAGAIN;
    const bool ran = res.clone3.size() == req.clone3.size();
    if (guardFailed || !ran) {
      crep.source = FeatureSource::Table;
      crep.note = guardFailed ? std::string("guard failed: clone3 with RLIMIT_NPROC=0 gave ") +
                                    (res.clone3[0] == 0 ? "success" : errnoName(res.clone3[0])) +
                                    " instead of EAGAIN; values from the version table"
                              : "probe child did not run (" +
                                    (res.cloneNote.empty() ? res.error : res.cloneNote) +
                                    "); values from the version table";
    } else {
      crep.source = FeatureSource::Probe;
      auto passed = [&](size_t i) { return res.clone3[i] == EAGAIN || res.clone3[i] == EPERM; };
      uint64_t extra = 0;
      for (const auto& p : cloneFlags)
        if (passed(p.index))
          extra |= p.bit;
      f.clone3.present = true;
      f.clone3.extraFlags = extra & known.cloneExtra;
      crep.unknownAccepted = extra & ~known.cloneExtra;
      uint32_t size = 64;
      if (res.clone3[setTid] == EINVAL)
        size = 80;
      if (size == 80 && res.clone3[cgroup] == EINVAL)
        size = 88;
      f.clone3.structSize = size;
      if (res.clone3[newField] != E2BIG)
        crep.note = std::string("clone_args seems larger than 88 bytes (non-zero byte 88 gave ") +
                    errnoName(res.clone3[newField]) + ")";
      if (table.clone3.present) {
        compare(crep, "flags", table.clone3.extraFlags, f.clone3.extraFlags);
        compare(crep, "struct_size", table.clone3.structSize, f.clone3.structSize);
      }
    }
  }
  return f;
}

}  // namespace extsys::kernel
