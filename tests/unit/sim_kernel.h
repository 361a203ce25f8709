// SPDX-License-Identifier: MIT
// sim_kernel.h - a kernel as far as the discovery recipes can see it
// (src/kernel/discovery/RECIPES.md): every check of every syscall of the
// descriptor table that a recipe reaches, in the kernel's order, decided by
// a KernelFeatures ("truth") and a few quirks. discovery_test runs
// discovery against it for many versions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstring>

#include "kernel/abi/answers.h"
#include "kernel/abi/uapi_compat.h"
#include "kernel/abi/uapi_flags.h"
#include "kernel/discovery/probe_backend.h"

namespace extsys::kernel::sim {

using uapi::kCheckFields;
inline constexpr uint64_t kBit26 = 1ULL << 26;

struct SimConfig {
  KernelFeatures truth;              // what the simulated kernel accepts
  bool high32Ignored = false;        // 5.6-5.13: open flags copied into an int
  bool dropsBit26 = false;           // <= 6.13: FMODE_NONOTIFY stripped silently
  bool nativeCheckFields = false;    // answers CHECK_FIELDS itself (errno 134)
  bool privileged = true;            // may_mount() passes in our namespace
  bool usernsAllowed = true;         // unprivileged user namespaces
  bool guardWorks = true;            // RLIMIT_NPROC stops clone3 with EAGAIN
  bool landlockGuardWorks = true;    // RLIMIT_NOFILE stops rulesets with EMFILE
};

// A kernel, as far as the probe recipes can see it: the checks of
// src/kernel/discovery/RECIPES.md, in order.
class SimKernel final : public ProbeBackend {
public:
  explicit SimKernel(SimConfig c) : c_(std::move(c)) {}

  int call(SyscallId id, ProbeCall& call) override {
    ++calls;
    switch (id) {
      case SyscallId::Openat2: return openat2(call);
      case SyscallId::Clone3: return clone3(call);
      case SyscallId::MountSetattr: return mount(call, c_.privileged);
      case SyscallId::OpenTreeAttr: return openTreeAttr(call);
      case SyscallId::Setxattrat:
      case SyscallId::Getxattrat: return xattrat(id, call);
      case SyscallId::FileGetattr:
      case SyscallId::FileSetattr: return fileAttr(id, call);
      case SyscallId::LandlockCreateRuleset: return landlock(call, false);
    }
    ADD_FAILURE() << "no simulation for " << describe(id).name;
    return ENOSYS;
  }

  int openat2(ProbeCall& call) {
    const auto& o = c_.truth.of(SyscallId::Openat2);
    if (!o.present)
      return ENOSYS;
    if (call.size < 24)
      return EINVAL;
    if (call.size & kCheckFields)
      return checkFields(SyscallId::Openat2, call, E2BIG);
    if (call.size > 4096)
      return E2BIG;
    if (nonZeroPast(call, 24))
      return E2BIG;
    uint64_t flags = call.get(0);
    const uint64_t mode = call.get(8), resolve = call.get(16);
    if (c_.high32Ignored)
      flags &= 0xFFFFFFFFULL;
    if (c_.dropsBit26)
      flags &= ~kBit26;
    if (flags & ~c_.truth.field(SyscallId::Openat2, "flags"))
      return EINVAL;
    if (resolve & ~c_.truth.field(SyscallId::Openat2, "resolve"))
      return EINVAL;
    if (mode & ~c_.truth.field(SyscallId::Openat2, "mode"))
      return EINVAL;
    const bool creating = flags & (0x40 | 0x400000);
    if (mode != 0 && !creating)
      return EINVAL;
    if ((flags & 0x400000) && (!(flags & uapi::kODirectory) || !(flags & 0x3)))
      return EINVAL;
    if ((resolve & 0x20) && (flags & (0x40 | 0x200 | 0x400000)))
      return EAGAIN;
    return ENOENT;  // getname("")
  }

  int clone3(ProbeCall& call) {
    if (!c_.truth.of(SyscallId::Clone3).present)
      return ENOSYS;
    if (call.size & kCheckFields)
      return checkFields(SyscallId::Clone3, call, E2BIG);
    if (call.size < 64)
      return EINVAL;
    ADD_FAILURE() << "discovery made a clone3 call that could create a process";
    return EINVAL;
  }

  ChildResult runChild(const ChildRequest& r) override {
    ++children;
    ChildResult out;
    const auto& v = c_.truth.version;
    auto atLeast = [&](int a, int b) { return v >= KernelVersion{a, b, 0}; };
    if (r.notify) {
      out.notify.tested = true;
      out.notify.listener = true;
      out.notify.pollhup = atLeast(5, 8);
      out.notify.addfd = atLeast(5, 9);
      out.notify.addfdSend = atLeast(5, 14);
      out.notify.waitKillableRecv = atLeast(5, 19);
      out.notify.syncWakeUp = atLeast(6, 6);
    }
    if (!r.mountInUserns.empty()) {
      if (!c_.usernsAllowed) {
        out.mountNote = "unshare(CLONE_NEWUSER|CLONE_NEWNS): EPERM";
      } else {
        for (ProbeCall call : r.mountInUserns)
          out.mountInUserns.push_back(mount(call, true));
      }
    }
    for (size_t i = 0; i < r.landlock.size(); ++i) {
      if (i == 0 && !c_.landlockGuardWorks) {
        out.landlock.push_back(0);  // got an fd: the child stops
        break;
      }
      ProbeCall call = r.landlock[i];
      out.landlock.push_back(landlock(call, true));
    }
    for (size_t i = 0; i < r.clone3.size(); ++i) {
      if (i == 0 && !c_.guardWorks) {
        out.clone3.push_back(0);  // created a process: the child stops
        break;
      }
      out.clone3.push_back(cloneInChild(r.clone3[i]));
    }
    return out;
  }

  int children = 0;
  int calls = 0;

private:
  static bool nonZeroPast(const ProbeCall& c, size_t ksize) {
    for (size_t i = ksize; i < std::min<uint64_t>(c.size, c.buf.size()); ++i)
      if (c.buf[i] != 0)
        return true;
    return false;
  }

  int checkFields(SyscallId id, ProbeCall& call, int otherwise) {
    if (!c_.nativeCheckFields)
      return otherwise;
    const auto answers = buildAnswers(c_.truth);
    const auto& a = answers[static_cast<size_t>(id)];
    const uint64_t usize = call.size & ~kCheckFields;
    call.buf.fill(0);
    std::copy_n(a.image.begin(), std::min<uint64_t>(a.ksize, usize), call.buf.begin());
    return 134;
  }

  int mount(ProbeCall& call, bool privileged) {
    const auto& m = c_.truth.of(SyscallId::MountSetattr);
    if (!m.present)
      return ENOSYS;
    if (call.flags & ~c_.truth.arg(SyscallId::MountSetattr, "flags"))
      return EINVAL;
    if (call.size & kCheckFields)
      return checkFields(SyscallId::MountSetattr, call, E2BIG);
    if (call.size > 4096)
      return E2BIG;
    if (call.size < 32)
      return EINVAL;
    if (!privileged)
      return EPERM;
    if (nonZeroPast(call, 32))
      return E2BIG;
    const uint64_t set = call.get(0), clr = call.get(8), prop = call.get(16), userns = call.get(24);
    if (set == 0 && clr == 0 && prop == 0 && userns == 0)
      return 0;
    if ((prop & ~c_.truth.field(SyscallId::MountSetattr, "propagation")) || std::popcount(prop) > 1)
      return EINVAL;
    if ((set & ~c_.truth.field(SyscallId::MountSetattr, "attr_set")) ||
        (clr & ~c_.truth.field(SyscallId::MountSetattr, "attr_clr")))
      return EINVAL;
    if ((clr & 0x70) != 0 && (clr & 0x70) != 0x70)
      return EINVAL;
    if ((set & 0x70) != 0 && (clr & 0x70) != 0x70)
      return EINVAL;
    if ((set & 0x70) == 0x70 || (set & 0x70) == 0x40 || (set & 0x70) == 0x30)
      return EINVAL;  // not one of RELATIME, NOATIME, STRICTATIME
    if (set & uapi::kMountAttrIdmap)
      return userns > INT_MAX ? EINVAL : EBADF;
    return ENOENT;  // user_path_at("")
  }


  // open_tree_attr(-1, "", flags, uattr, usize) as 6.18/7.x check it.
  int openTreeAttr(ProbeCall& call) {
    const auto& o = c_.truth.of(SyscallId::OpenTreeAttr);
    if (!o.present)
      return ENOSYS;
    if (call.nullStruct && call.size != 0)
      return EINVAL;
    const uint64_t flags = call.flags, known = c_.truth.arg(SyscallId::OpenTreeAttr, "flags");
    if (flags & ~known)
      return EINVAL;
    const uint64_t cloneLike = uapi::kOpenTreeClone | uapi::kOpenTreeNamespace;
    if ((flags & uapi::kAtRecursive) && !(flags & cloneLike))
      return EINVAL;
    if (std::popcount(flags & cloneLike) > 1)
      return EINVAL;
    if (call.size & kCheckFields)  // where the proposal answers; else the path fails
      return checkFields(SyscallId::OpenTreeAttr, call, (flags & cloneLike) && !c_.privileged
                                                           ? EPERM
                                                           : ENOENT);
    if ((flags & cloneLike) && !c_.privileged)
      return EPERM;
    return ENOENT;  // the empty path: nothing was opened, the struct never read
  }

  // setxattrat/getxattrat(-1, "", at_flags, "", uargs, usize).
  int xattrat(SyscallId id, ProbeCall& call) {
    if (!c_.truth.of(id).present)
      return ENOSYS;
    if (call.size & kCheckFields)
      return checkFields(id, call, E2BIG);
    if (call.size < 16)
      return EINVAL;
    if (call.size > 4096)
      return E2BIG;  // CHECK_FIELDS sizes land here
    if (call.nullStruct)
      return EFAULT;
    if (nonZeroPast(call, 16))
      return E2BIG;
    if (call.flags & ~c_.truth.arg(id, "at_flags"))
      return EINVAL;
    uint32_t flags;
    std::memcpy(&flags, call.buf.data() + 12, 4);
    if (flags & ~c_.truth.field(id, "flags"))
      return EINVAL;
    return ERANGE;  // the empty name
  }

  // file_getattr/file_setattr(-1, "", ufattr, usize, at_flags).
  int fileAttr(SyscallId id, ProbeCall& call) {
    if (!c_.truth.of(id).present)
      return ENOSYS;
    if (call.flags & ~c_.truth.arg(id, "at_flags"))
      return EINVAL;
    if (call.size & kCheckFields)
      return checkFields(id, call, E2BIG);
    if (call.size > 4096)
      return E2BIG;
    if (call.size < 24)
      return EINVAL;
    if (id == SyscallId::FileGetattr) {
      ADD_FAILURE() << "discovery made a file_getattr call past the size checks";
      return EFAULT;
    }
    if (call.nullStruct)
      return EFAULT;
    if (nonZeroPast(call, 24))
      return E2BIG;
    if (call.get(0) & ~c_.truth.field(id, "fa_xflags"))
      return EINVAL;
    if (call.flags & uapi::kAtEmptyPath)
      ADD_FAILURE() << "file_setattr with AT_EMPTY_PATH and an empty path acts on the dfd";
    return ENOENT;  // getname("")
  }

  // landlock_create_ruleset(attr, size, flags); `limited`: in the probe
  // child, with RLIMIT_NOFILE = 0.
  int landlock(ProbeCall& call, bool limited) {
    const auto& l = c_.truth.of(SyscallId::LandlockCreateRuleset);
    if (!l.present)
      return ENOSYS;
    if (l.disabledErrno)
      return l.disabledErrno;
    if (call.flags) {
      if (!call.nullStruct || call.size)
        return EINVAL;
      if (call.flags == uapi::kLandlockCreateRulesetVersion) {
        call.result = c_.truth.landlockAbi;
        return 0;
      }
      return EINVAL;
    }
    if (call.nullStruct)
      return EFAULT;
    if (call.size & kCheckFields)
      return checkFields(SyscallId::LandlockCreateRuleset, call, E2BIG);
    if (call.size < 8)
      return EINVAL;
    if (call.size > 4096)
      return E2BIG;
    if (nonZeroPast(call, l.structSize))
      return E2BIG;
    const uint64_t fs = call.get(0), net = call.get(8), scoped = call.get(16);
    if ((fs & ~c_.truth.field(SyscallId::LandlockCreateRuleset, "handled_access_fs")) ||
        (net & ~c_.truth.field(SyscallId::LandlockCreateRuleset, "handled_access_net")) ||
        (scoped & ~c_.truth.field(SyscallId::LandlockCreateRuleset, "scoped")))
      return EINVAL;
    if (!fs && !net && !scoped)
      return ENOMSG;
    if (!limited)
      ADD_FAILURE() << "discovery created a Landlock ruleset outside the probe child";
    return EMFILE;
  }

  int cloneInChild(const ProbeCall& call) {
    const auto& c = c_.truth.of(SyscallId::Clone3);
    if (call.size > 4096)
      return E2BIG;
    if (call.size < 64)
      return EINVAL;
    if (nonZeroPast(call, c.structSize))
      return E2BIG;
    const uint64_t flags = call.get(0), exitSignal = call.get(32);
    const uint64_t setTid = call.get(64), setTidSize = call.get(72), cgroup = call.get(80);
    if (setTidSize > 32 || ((setTid == 0) != (setTidSize == 0)))
      return EINVAL;
    if (exitSignal & ~0xFFULL || exitSignal > 64)
      return EINVAL;
    if ((flags & uapi::kCloneIntoCgroup) && (cgroup > INT_MAX || call.size < 88))
      return EINVAL;
    if (flags & ~(uapi::kCloneLegacyFlags | c_.truth.field(SyscallId::Clone3, "flags")))
      return EINVAL;
    if (flags & (0x400000 | 0x7F))
      return EINVAL;
    if ((flags & uapi::kCloneAutoreap) && exitSignal != 0)
      return EINVAL;
    if ((flags & uapi::kClonePidfdAutokill) &&
        !((flags & uapi::kCloneAutoreap) && (flags & 0x1000)))
      return EINVAL;
    return EAGAIN;  // RLIMIT_NPROC
  }

  SimConfig c_;
};

}  // namespace extsys::kernel::sim
