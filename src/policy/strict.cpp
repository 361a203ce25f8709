// SPDX-License-Identifier: MIT
// policy/strict.cpp - the capability table and strict translation (see the
// header). Kernel references are to torvalds/linux.
#include "policy/strict.h"

#include <cerrno>
#include <string>

#include "kernel/abi/uapi_flags.h"

namespace extsys::policy::strict {
namespace {

using namespace uapi;
using kernel::SyscallId;
using C = Capability;
using S = Shape;

constexpr uint64_t kAll = ~0ULL;

// clone(2) carries the exit signal in its low byte: never a flag. Its flags
// are the first argument, the second on s390x (kernel/abi/arch.h).
constexpr uint64_t kCloneFlagBits = kCloneLegacyFlags & ~kCsignal;

// Every syscall that reaches each capability. A mode is a umode_t and the
// set-id bits are low bits, so a bit test is exact whatever the register's
// upper half holds; an equality is compared on the 32 bits the kernel reads.
constexpr Route kRoutes[] = {
    // ---- open flags: openat2's are in memory (hidden); these are registers.
    {C::OpenFlags, "openat", S::Bits, 2, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "openat2 restricted: the same open flags"},
    {C::OpenFlags, "open", S::Bits, 1, kAll, 0, ErrnoFrom::Policy, Arches::LegacyOnly,
     "openat2 restricted: the same open flags"},
    {C::OpenFlags, "open_by_handle_at", S::Bits, 2, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "openat2 restricted: the same open flags"},
    {C::OpenFlags, "creat", S::Whole, 0, kOCreat | kOWronly | kOTrunc, 0, ErrnoFrom::Policy,
     Arches::LegacyOnly, "creat implies O_CREAT|O_WRONLY|O_TRUNC"},

    // ---- file mode bits (S_ISUID|S_ISGID: no set-id files). Every call that
    // sets a mode: the creating opens (mode used with O_CREAT/O_TMPFILE; a
    // stray mode without them is refused too, harmlessly), the chmod family
    // (fs/open.c chmod_common; /proc/self/fd/N and AT_EMPTY_PATH are the
    // same calls) and mknod of a regular file, which needs no privilege.
    // mkdir cannot: vfs_mkdir keeps only S_IRWXUGO|S_ISVTX. chown clears
    // set-id bits; ACLs and file_setattr carry none.
    {C::FileModes, "openat", S::Bits, 3, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "openat2 restricted: the same mode bits"},
    {C::FileModes, "open", S::Bits, 2, kAll, 0, ErrnoFrom::Policy, Arches::LegacyOnly,
     "openat2 restricted: the same mode bits"},
    {C::FileModes, "creat", S::Bits, 1, kAll, 0, ErrnoFrom::Policy, Arches::LegacyOnly,
     "openat2 restricted: the same mode bits"},
    {C::FileModes, "chmod", S::Bits, 1, kAll, 0, ErrnoFrom::Policy, Arches::LegacyOnly,
     "a file may not get the mode bits openat2 may not create it with"},
    {C::FileModes, "fchmod", S::Bits, 1, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "a file may not get the mode bits openat2 may not create it with"},
    {C::FileModes, "fchmodat", S::Bits, 2, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "a file may not get the mode bits openat2 may not create it with"},
    {C::FileModes, "fchmodat2", S::Bits, 2, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "a file may not get the mode bits openat2 may not create it with (6.6)"},
    {C::FileModes, "mknod", S::Bits, 1, kAll, 0, ErrnoFrom::Policy, Arches::LegacyOnly,
     "mknod makes regular files with any mode, unprivileged"},
    {C::FileModes, "mknodat", S::Bits, 2, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "mknod makes regular files with any mode, unprivileged"},

    // ---- clone flags: clone3's are in memory (hidden); glibc falls back to
    // clone(2). clone reads lower_32_bits(flags): bits 8-31 are exact.
    {C::CloneFlags, "clone", S::Bits, kernel::nativeArch().cloneFlagsArg, kCloneFlagBits, 0, ErrnoFrom::Policy, Arches::All,
     "clone3 restricted: the same flags"},
    {C::CloneFlags, "unshare", S::Bits, 0, kUnshareFlags, 0, ErrnoFrom::Policy, Arches::All,
     "clone3 restricted: the same namespace flags"},

    // ---- joining a namespace of a forbidden type (kernel/nsproxy.c setns):
    // an nsfs fd with nstype 0 joins whatever namespace the fd is, so 0 is
    // refused too - on the low 32 bits, since nstype is an int (nstype 1<<32
    // is 0 to the kernel). Pidfd forms must name their types (bits below).
    // Where the fd comes from does not matter: /proc/PID/ns, NS_GET_USERNS,
    // SCM_RIGHTS, inheritance, nsfs file handles (6.18).
    {C::JoinNamespaces, "setns", S::Bits, 1, kSetnsTypes, 0, ErrnoFrom::Policy, Arches::All,
     "no joining an existing namespace of a type the program may not create"},
    {C::JoinNamespaces, "setns", S::Low32Eq, 1, kSetnsTypes, 0, ErrnoFrom::Policy, Arches::All,
     "nstype 0 joins whatever namespace the fd refers to (compared as the int the kernel reads)"},

    // ---- mount attributes (fs/namespace.c path_mount). MS_REMOUNT is refused
    // outright: with MS_BIND it sets the mount's flags to exactly those given
    // (absent bits clear ro,nosuid,nodev,noexec), without it it reconfigures
    // the superblock. mount_setattr is hidden by its own restriction; the
    // rest of the new mount API is hidden with it: fspick + fsconfig
    // reconfigure a superblock through strings in memory, and programs fall
    // back to mount(2) as a whole.
    {C::MountAttributes, "mount", S::Bits, 3, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "mount_setattr restricted: the same attributes and propagation as MS_* flags"},
    {C::MountAttributes, "mount", S::FixedBit, 3, kAll, kMsRemount, ErrnoFrom::Policy,
     Arches::All, "MS_REMOUNT replaces a mount's attributes (any bit it leaves out is cleared)"},
    {C::MountAttributes, "open_tree_attr", S::Hide, 0, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "takes the same struct mount_attr as mount_setattr (6.15)"},
    {C::MountAttributes, "fsopen", S::Hide, 0, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "the new mount API passes its settings in memory"},
    {C::MountAttributes, "fsconfig", S::Hide, 0, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "fspick + fsconfig reconfigure a superblock (\"rw\") through strings in memory"},
    {C::MountAttributes, "fspick", S::Hide, 0, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "fspick + fsconfig reconfigure a superblock (\"rw\") through strings in memory"},
    {C::MountAttributes, "fsmount", S::Hide, 0, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "the new mount API passes its settings in memory"},
    {C::MountAttributes, "move_mount", S::Hide, 0, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "the new mount API passes its settings in memory"},
    {C::MountAttributes, "open_tree", S::Hide, 0, kAll, 0, ErrnoFrom::Policy, Arches::All,
     "the new mount API passes its settings in memory"},

    // ---- io_uring: its operations (OPENAT2, SETXATTR, ...) run without
    // seccomp. All three: a ring can arrive by SCM_RIGHTS or inheritance.
    {C::IoUring, "io_uring_setup", S::Hide, 0, kAll, 0, ErrnoFrom::Eperm, Arches::All,
     "io_uring operations bypass seccomp"},
    {C::IoUring, "io_uring_enter", S::Hide, 0, kAll, 0, ErrnoFrom::Eperm, Arches::All,
     "io_uring operations bypass seccomp (a ring can be received)"},
    {C::IoUring, "io_uring_register", S::Hide, 0, kAll, 0, ErrnoFrom::Eperm, Arches::All,
     "io_uring operations bypass seccomp (a ring can be received)"},

    // ---- typing into the terminal (drivers/tty/tty_io.c tiocsti): a program
    // run in place keeps the terminal, and what it pushes is read by the
    // user's shell after it exits (CVE-2017-5226). The request is an
    // unsigned int: compared on 32 bits.
    {C::TerminalInput, "ioctl", S::Low32Eq, 1, kAll, kTiocsti, ErrnoFrom::Eperm, Arches::All,
     "TIOCSTI types commands into the terminal for the shell to run after the program"},
    {C::TerminalInput, "ioctl", S::Low32Eq, 1, kAll, kTioclinux, ErrnoFrom::Eperm, Arches::All,
     "TIOCLINUX pastes the console selection into a VT's input"},

    // ---- another process's resource limits (kernel/sys.c prlimit64): a
    // same-uid process outside, and no LSM hook Landlock uses. RLIMIT_CPU is
    // a kill, RLIMIT_NOFILE and RLIMIT_AS break it. pid 0 (what setrlimit
    // and getrlimit use) and reading (new == NULL) stay allowed. pid_t is an
    // int: a pid with high bits set is refused although the kernel would
    // read it as its low half (never 0 then, unless the call meant itself).
    {C::OtherProcessLimits, "prlimit64", S::OtherPid, 0, kAll, 2, ErrnoFrom::Eperm, Arches::All,
     "setting another process's resource limits (RLIMIT_CPU kills it)"},

    // ---- extended attributes (6.13's setxattrat: struct xattr_args in
    // memory, hidden). The legacy calls carry its flags in a register (arg 4).
    {C::XattrSet, "setxattr", S::Bits, 4, kXattrCreate | kXattrReplace, 0, ErrnoFrom::Policy,
     Arches::All, "setxattrat restricted: the same flags"},
    {C::XattrSet, "lsetxattr", S::Bits, 4, kXattrCreate | kXattrReplace, 0, ErrnoFrom::Policy,
     Arches::All, "setxattrat restricted: the same flags"},
    {C::XattrSet, "fsetxattr", S::Bits, 4, kXattrCreate | kXattrReplace, 0, ErrnoFrom::Policy,
     Arches::All, "setxattrat restricted: the same flags"},
};

// MOUNT_ATTR_* bits -> the MS_* flags mount(2) uses for the same attribute.
uint64_t msFlagsFor(uint64_t forbiddenAttrs) {
  struct Same {
    uint64_t attr, ms;
  };
  static constexpr Same kSame[] = {
      {kMountAttrRdonly, kMsRdonly},         {kMountAttrNosuid, kMsNosuid},
      {kMountAttrNodev, kMsNodev},           {kMountAttrNoexec, kMsNoexec},
      {kMountAttrNoatime, kMsNoatime},       {kMountAttrStrictatime, kMsStrictatime},
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

uint64_t allowed(const EffectiveSyscall& decided, SyscallId id, std::string_view field) {
  const auto& fields = kernel::describe(id).fields;
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == field)
      return decided.allow[i];
  return ~0ULL;
}

Forbidden forbid(uint64_t bits, int err) { return {bits != 0, bits, err}; }

void emit(const Route& r, const Forbidden& f, EffectivePolicy& e) {
  if (!f.on)
    return;
  const bool meets = (f.bits & r.within) != 0;
  ArgRule rule{std::string(r.syscall), {}, r.err == ErrnoFrom::Eperm ? EPERM : f.err,
               name(r.capability), std::string(r.why)};
  switch (r.shape) {
    case Shape::Bits:
      if (!meets)
        return;
      rule.checks = {{r.arg, ArgTest::AnyBitOf, f.bits & r.within}};
      break;
    case Shape::FixedBit:
      rule.checks = {{r.arg, ArgTest::AnyBitOf, r.value}};
      break;
    case Shape::Whole:
      if (!meets)
        return;
      break;
    case Shape::Hide:
      e.enosys.push_back(std::string(r.syscall));
      return;
    case Shape::Low32Eq:
      if (!meets)
        return;
      rule.checks = {{r.arg, ArgTest::Low32Eq, r.value}};
      break;
    case Shape::OtherPid:
      rule.checks = {{r.arg, ArgTest::NonZero, 0},
                     {static_cast<uint8_t>(r.value), ArgTest::NonZero, 0}};
      break;
  }
  e.argRules.push_back(std::move(rule));
}

void emitAll(const std::array<Forbidden, kCapabilityCount>& forbidden, EffectivePolicy& e) {
  for (const Route& r : kRoutes)
    emit(r, forbidden[static_cast<size_t>(r.capability)], e);
}

}  // namespace

const char* name(Capability c) {
  switch (c) {
    case C::OpenFlags: return "open flags";
    case C::FileModes: return "file mode bits";
    case C::CloneFlags: return "clone flags";
    case C::JoinNamespaces: return "joining namespaces";
    case C::MountAttributes: return "mount attributes";
    case C::IoUring: return "io_uring";
    case C::ForeignAbis: return "32-bit ABIs";
    case C::TerminalInput: return "terminal input";
    case C::OtherProcessLimits: return "other processes' limits";
    case C::XattrSet: return "setting extended attributes";
  }
  return "?";
}

std::span<const Route> routes() { return kRoutes; }

std::array<Forbidden, kCapabilityCount> forbiddenBy(SyscallId id, const EffectiveSyscall& decided) {
  std::array<Forbidden, kCapabilityCount> out{};
  auto at = [&](Capability c) -> Forbidden& { return out[static_cast<size_t>(c)]; };
  const int err = decided.denyErrno;
  switch (id) {
    case SyscallId::Openat2:
      // openat(2)'s flags are an int and unknown bits are ignored there, so
      // only the known ones are ever forbidden.
      at(C::OpenFlags) = forbid(kValidOpenFlags & ~allowed(decided, id, "flags"), err);
      at(C::FileModes) = forbid(kModeBits & ~allowed(decided, id, "mode"), err);
      break;
    case SyscallId::Clone3: {
      const uint64_t flags = kCloneLegacyFlags & ~allowed(decided, id, "flags");
      at(C::CloneFlags) = forbid(flags, err);
      at(C::JoinNamespaces) = forbid(flags & kSetnsTypes, err);
      break;
    }
    case SyscallId::MountSetattr:
    case SyscallId::OpenTreeAttr: {  // the same struct mount_attr
      const uint64_t set = kKnownMountAttrs & ~allowed(decided, id, "attr_set");
      const uint64_t clr = kKnownMountAttrs & ~allowed(decided, id, "attr_clr");
      const uint64_t prop = kMountPropagationFlags & ~allowed(decided, id, "propagation");
      at(C::MountAttributes) = {(set | clr | prop) != 0, msFlagsFor(set) | prop, err};
      break;
    }
    case SyscallId::Setxattrat:
      at(C::XattrSet) = forbid((kXattrCreate | kXattrReplace) & ~allowed(decided, id, "flags"), err);
      break;
    default:
      break;  // nothing reachable through registers
  }
  return out;
}

void translate(SyscallId id, EffectiveSyscall& decided, EffectivePolicy& e) {
  decided.call = CallMode::Hide;
  decided.probe = ProbeMode::Hide;
  emitAll(forbiddenBy(id, decided), e);
  switch (id) {
    case SyscallId::Openat2:
      e.notes.push_back("openat2 is hidden (ENOSYS): a supervisor cannot open files on a "
                        "caller's behalf faithfully, so opens fall back to openat(2), whose "
                        "flags and mode are checked in BPF, as are chmod and mknod modes; "
                        "RESOLVE_* confinement is not available");
      break;
    case SyscallId::Clone3:
      e.notes.push_back("clone3 is hidden (ENOSYS): its flags live in memory, so libc falls "
                        "back to clone(2), whose flags are checked in BPF, as are unshare(2) "
                        "and setns(2) into a namespace of a forbidden type");
      break;
    case SyscallId::MountSetattr:
    case SyscallId::OpenTreeAttr:
      e.enosys.push_back(id == SyscallId::MountSetattr ? "open_tree_attr" : "mount_setattr");
      e.notes.push_back("mount_setattr, open_tree_attr and the new mount API are hidden "
                        "(ENOSYS): their attributes live in memory; mount(2) flags are checked "
                        "in BPF and MS_REMOUNT is refused");
      break;
    case SyscallId::Setxattrat:
    case SyscallId::Getxattrat:
      e.notes.push_back(std::string(kernel::describe(id).name) +
                        " is hidden (ENOSYS): its struct lives in memory; the legacy *xattr "
                        "calls' flags are checked in BPF");
      break;
    case SyscallId::FileSetattr:
      e.notes.push_back("file_setattr is hidden (ENOSYS): its struct lives in memory. The "
                        "FS_IOC_FSSETXATTR and FS_IOC_SETFLAGS ioctls set the same attributes "
                        "from memory and are NOT checked: strict mode cannot confine them");
      break;
    case SyscallId::LandlockCreateRuleset:
      e.notes.push_back("landlock_create_ruleset is hidden (ENOSYS): its struct lives in memory. "
                        "Programs then usually run without their Landlock sandbox");
      break;
    default:
      e.notes.push_back(std::string(kernel::describe(id).name) +
                        " is hidden (ENOSYS): its struct lives in memory");
      break;
  }
}

void closeSideDoors(EffectivePolicy& e) {
  std::array<Forbidden, kCapabilityCount> always{};
  for (Capability c : {C::IoUring, C::TerminalInput, C::OtherProcessLimits})
    always[static_cast<size_t>(c)] = {true, kAll, EPERM};
  emitAll(always, e);
  e.foreignAbisEnosys = true;
  e.notes.push_back("io_uring and the " + std::string(kernel::nativeArch().compatAbis) +
                    " ABIs are closed (ENOSYS): their calls would "
                    "bypass these rules; TIOCSTI/TIOCLINUX and setting another process's "
                    "resource limits are refused (EPERM)");
}

}  // namespace extsys::policy::strict
