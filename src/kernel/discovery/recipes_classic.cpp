// SPDX-License-Identifier: MIT
// kernel/discovery/recipes_classic.cpp - the recipes for the RFC's three
// syscalls: openat2, mount_setattr and clone3
// (src/kernel/discovery/RECIPES.md).
#include <cerrno>
#include <climits>
#include <csignal>

#include "base/errno_name.h"
#include "kernel/abi/uapi_flags.h"
#include "kernel/discovery/recipes.h"

namespace extsys::kernel::recipes {
namespace {

using namespace uapi;

// A non-NULL pidfd pointer: clone3 only writes it after creating the child,
// which the RLIMIT_NPROC guard prevents.
constexpr uint64_t kPidfdSlot = 0x10000;

}  // namespace

void startOpenat2(Context& c) {
  auto& rep = c.f.report(SyscallId::Openat2);
  auto attempt = [&](uint64_t flags, uint64_t mode, uint64_t resolve) {
    ProbeCall p = call(24);
    p.put(0, flags);
    p.put(8, mode);
    p.put(16, resolve);
    int err = c.kernel.call(SyscallId::Openat2, p);
    // ENOENT: validated, then the empty path failed. EAGAIN: RESOLVE_CACHED
    // with a create flag, also past validation.
    return err == ENOENT || err == EAGAIN;
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
  c.f.setField(SyscallId::Openat2, "flags", flags);
  c.f.setField(SyscallId::Openat2, "mode", mode);
  c.f.setField(SyscallId::Openat2, "resolve", resolve);
  c.f.of(SyscallId::Openat2).structSize = 24;
  ProbeCall big = call(32);
  big.buf[24] = 1;
  if (int err = c.kernel.call(SyscallId::Openat2, big); err != E2BIG)
    appendNote(rep, std::string("open_how seems larger than 24 bytes (non-zero byte 24 gave ") +
                        errnoName(err) + "); extsys answers with the 24-byte layout it knows");
}

// --- mount_setattr ----------------------------------------------------------

namespace {

MountPlan planMount() {
  MountPlan p;
  p.calls.reserve(3 * 64 + 4);  // no regrowth: every fresh heap page is a fault
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

void applyMount(const MountPlan& p, const std::vector<int>& errs, KernelFeatures& f) {
  auto& rep = f.report(SyscallId::MountSetattr);
  // ENOENT: past every check, the empty path failed; EBADF: IDMAP's closed
  // fd (or AT_EMPTY_PATH's dfd -1).
  auto ok = [&](size_t i) { return errs[i] == ENOENT || errs[i] == EBADF; };
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
  f.setField(SyscallId::MountSetattr, "attr_set", set);
  f.setField(SyscallId::MountSetattr, "attr_clr", clr);
  f.setField(SyscallId::MountSetattr, "propagation", prop);
  f.of(SyscallId::MountSetattr).structSize = 32;
  if (errs[p.bigStruct] != E2BIG)
    appendNote(rep, std::string("mount_attr seems larger than 32 bytes (non-zero byte 32 gave ") +
                        errnoName(errs[p.bigStruct]) + ")");
}

}  // namespace

// The flags argument here (no privilege needed: it is checked before the
// size); the attribute probes here when we may mount, else in the probe
// child's new user and mount namespace.
void startMountSetattr(Context& c) {
  uint64_t flags = 0;
  for (int b = 0; b < 32; ++b) {  // unsigned int: the upper half is not seen
    ProbeCall p = call(kAbovePage);
    p.nullStruct = true;
    p.flags = 1U << b;
    if (c.kernel.call(SyscallId::MountSetattr, p) == E2BIG)
      flags |= 1ULL << b;
  }
  c.f.of(SyscallId::MountSetattr).args[0] = flags;
  MountPlan plan = planMount();
  std::vector<int> errs;
  if (c.options.canMount)
    for (auto& p : plan.calls)
      errs.push_back(c.kernel.call(SyscallId::MountSetattr, p));
  if (!c.options.canMount || errs.front() == EPERM) {
    plan.inChild = true;
    c.req.mountInUserns = plan.calls;
  } else {
    applyMount(plan, errs, c.f);
  }
  c.mount = std::move(plan);
}

void finishMountSetattr(Context& c, const ChildResult& res) {
  const MountPlan& plan = c.mount;
  if (!plan.inChild)
    return;
  auto& rep = c.f.report(SyscallId::MountSetattr);
  if (!res.error.empty() || res.mountInUserns.size() != plan.calls.size()) {
    rep.source = FeatureSource::Table;
    rep.note = "probing needs CAP_SYS_ADMIN or an unprivileged user namespace (" +
               (res.mountNote.empty() ? res.error : res.mountNote) +
               "): values from the version table";
    return;
  }
  rep.note = "probed in a new user and mount namespace";
  applyMount(plan, res.mountInUserns, c.f);
}

// --- clone3 -----------------------------------------------------------------

namespace {

ProbeCall cloneCall(uint64_t flags, uint64_t exitSignal, uint64_t size) {
  ProbeCall c = call(size);
  c.put(0, flags);
  c.put(32, exitSignal);
  if (flags & kClonePidfd)
    c.put(8, kPidfdSlot);
  return c;
}

}  // namespace

// The flag probes, all in the probe child.
void startClone3(Context& c) {
  Clone3Plan& p = c.clone3;
  std::vector<ProbeCall>& calls = c.req.clone3;
  p.inChild = true;
  calls.reserve(1 + 32 + 3);
  auto add = [&](const ProbeCall& call) {
    calls.push_back(call);
    return calls.size() - 1;
  };
  add(cloneCall(0, SIGCHLD, 64));  // the guard
  for (int b = 32; b < 64; ++b) {
    const uint64_t bit = 1ULL << b;
    ProbeCall call;
    if (bit == kCloneIntoCgroup) {
      call = cloneCall(bit, SIGCHLD, 88);
      call.put(80, INT_MAX);
    } else if (bit == kCloneAutoreap) {
      call = cloneCall(bit | kClonePidfd, 0, 64);
    } else if (bit == kClonePidfdAutokill) {
      call = cloneCall(bit | kCloneAutoreap | kCloneNnp | kClonePidfd, 0, 64);
    } else {
      call = cloneCall(bit, SIGCHLD, 64);
    }
    p.flags.push_back({bit, add(call)});
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
}

void finishClone3(Context& c, const ChildResult& res) {
  const Clone3Plan& plan = c.clone3;
  if (!plan.inChild)
    return;
  auto& rep = c.f.report(SyscallId::Clone3);
  const std::vector<int>& errs = res.clone3;
  const size_t requested = c.req.clone3.size();
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
  auto passed = [&](size_t i) { return errs[i] == EAGAIN || errs[i] == EPERM; };
  uint64_t extra = 0;
  for (auto [bit, i] : plan.flags)
    if (passed(i))
      extra |= bit;
  c.f.setField(SyscallId::Clone3, "flags", extra);
  uint32_t size = 64;
  if (errs[plan.setTid] == EINVAL)
    size = 80;
  if (size == 80 && errs[plan.cgroup] == EINVAL)
    size = 88;
  c.f.of(SyscallId::Clone3).structSize = size;
  if (errs[plan.newField] != E2BIG)
    rep.note = std::string("clone_args seems larger than 88 bytes (non-zero byte 88 gave ") +
               errnoName(errs[plan.newField]) + ")";
}

}  // namespace extsys::kernel::recipes
