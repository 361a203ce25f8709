// SPDX-License-Identifier: MIT
// kernel/abi/uapi_flags.h - the bits of the arguments and struct fields
// extsys reads, decides on or answers with, as the kernel's uapi headers
// define them: open flags and mode, RESOLVE_*, CLONE_*, MOUNT_ATTR_*, MS_*,
// AT_*, OPEN_TREE_*, XATTR_*, FS_XFLAG_* and LANDLOCK_*, and the sets of them
// a kernel validates against. The only place for these values in src/: the
// flag-name table, the version table, discovery and strict mode all use
// these names. Raw values, never glibc's: glibc's O_LARGEFILE is 0 on LP64,
// and <linux/mount.h> cannot be included next to glibc's <sys/mount.h>. Four
// open flags are numbered per architecture (O_DIRECT, O_LARGEFILE,
// O_DIRECTORY, O_NOFOLLOW: arm64 and powerpc permute them): they come from
// the native row of kernel/abi/arch.h; everything else here is the same on
// every architecture extsys builds for.
// Constants the system headers may lack altogether (CHECK_FIELDS, newer
// seccomp flags) are in kernel/abi/uapi_compat.h.
#pragma once

#include <cstdint>

#include "kernel/abi/arch.h"

namespace extsys::uapi {

// --- open(2), openat(2), openat2(2): include/uapi/asm-generic/fcntl.h and
// arch/*/include/uapi/asm/fcntl.h ---------------------------------------------
inline constexpr uint64_t kOWronly = 0x1;
inline constexpr uint64_t kORdwr = 0x2;
inline constexpr uint64_t kOCreat = 0x40;
inline constexpr uint64_t kOExcl = 0x80;
inline constexpr uint64_t kONoctty = 0x100;
inline constexpr uint64_t kOTrunc = 0x200;
inline constexpr uint64_t kOAppend = 0x400;
inline constexpr uint64_t kONonblock = 0x800;
inline constexpr uint64_t kODsync = 0x1000;
inline constexpr uint64_t kFasync = 0x2000;
inline constexpr uint64_t kODirect = kernel::nativeArch().open.direct;        // x86_64: 0x4000
inline constexpr uint64_t kOLargefile = kernel::nativeArch().open.largefile;  // x86_64: 0x8000
inline constexpr uint64_t kODirectory = kernel::nativeArch().open.directory;  // x86_64: 0x10000
inline constexpr uint64_t kONofollow = kernel::nativeArch().open.nofollow;    // x86_64: 0x20000
inline constexpr uint64_t kONoatime = 0x40000;
inline constexpr uint64_t kOCloexec = 0x80000;
inline constexpr uint64_t kOSyncBit = 0x100000;  // __O_SYNC (O_SYNC is it | O_DSYNC)
inline constexpr uint64_t kOPath = 0x200000;
inline constexpr uint64_t kOTmpfileBit = 0x400000;  // __O_TMPFILE (O_TMPFILE adds O_DIRECTORY)
inline constexpr uint64_t kOEmptyPath = 1ULL << 26;      // 7.2 cycle, presumed
inline constexpr uint64_t kOpenat2Regular = 1ULL << 32;  // 7.2, openat2 only

// VALID_OPEN_FLAGS (include/linux/fcntl.h), 5.6 through 7.1: the same bits
// on every architecture in the table.
inline constexpr uint64_t kValidOpenFlags =
    kOWronly | kORdwr | kOCreat | kOExcl | kONoctty | kOTrunc | kOAppend | kONonblock | kODsync |
    kFasync | kODirect | kOLargefile | kODirectory | kONofollow | kONoatime | kOCloexec |
    kOSyncBit | kOPath | kOTmpfileBit;
static_assert(kValidOpenFlags == 0x7FFFC3);

// open_how.mode: S_IALLUGO (include/linux/stat.h).
inline constexpr uint64_t kSIsuid = 04000, kSIsgid = 02000, kSIsvtx = 01000;
inline constexpr uint64_t kSIrusr = 0400, kSIwusr = 0200, kSIxusr = 0100;
inline constexpr uint64_t kSIrgrp = 040, kSIwgrp = 020, kSIxgrp = 010;
inline constexpr uint64_t kSIroth = 04, kSIwoth = 02, kSIxoth = 01;
inline constexpr uint64_t kModeBits = kSIsuid | kSIsgid | kSIsvtx | kSIrusr | kSIwusr | kSIxusr |
                                      kSIrgrp | kSIwgrp | kSIxgrp | kSIroth | kSIwoth | kSIxoth;

// open_how.resolve: include/uapi/linux/openat2.h.
inline constexpr uint64_t kResolveNoXdev = 0x01;
inline constexpr uint64_t kResolveNoMagiclinks = 0x02;
inline constexpr uint64_t kResolveNoSymlinks = 0x04;
inline constexpr uint64_t kResolveBeneath = 0x08;
inline constexpr uint64_t kResolveInRoot = 0x10;
inline constexpr uint64_t kResolveCached = 0x20;  // 5.12
// VALID_RESOLVE_FLAGS of 5.6 (without RESOLVE_CACHED) and of 5.12 on.
inline constexpr uint64_t kValidResolveFlags56 =
    kResolveNoXdev | kResolveNoMagiclinks | kResolveNoSymlinks | kResolveBeneath | kResolveInRoot;
inline constexpr uint64_t kValidResolveFlags = kValidResolveFlags56 | kResolveCached;

// --- clone(2), clone3(2), unshare(2): include/uapi/linux/sched.h -----------
inline constexpr uint64_t kCsignal = 0xFF;  // the exit signal in clone(2)'s flags
inline constexpr uint64_t kCloneNewtime = 0x80;
inline constexpr uint64_t kCloneVm = 0x100;
inline constexpr uint64_t kCloneFs = 0x200;
inline constexpr uint64_t kCloneFiles = 0x400;
inline constexpr uint64_t kCloneSighand = 0x800;
inline constexpr uint64_t kClonePidfd = 0x1000;
inline constexpr uint64_t kClonePtrace = 0x2000;
inline constexpr uint64_t kCloneVfork = 0x4000;
inline constexpr uint64_t kCloneParent = 0x8000;
inline constexpr uint64_t kCloneThread = 0x10000;
inline constexpr uint64_t kCloneNewns = 0x20000;
inline constexpr uint64_t kCloneSysvsem = 0x40000;
inline constexpr uint64_t kCloneSettls = 0x80000;
inline constexpr uint64_t kCloneParentSettid = 0x100000;
inline constexpr uint64_t kCloneChildCleartid = 0x200000;
inline constexpr uint64_t kCloneDetached = 0x400000;
inline constexpr uint64_t kCloneUntraced = 0x800000;
inline constexpr uint64_t kCloneChildSettid = 0x1000000;
inline constexpr uint64_t kCloneNewcgroup = 0x2000000;
inline constexpr uint64_t kCloneNewuts = 0x4000000;
inline constexpr uint64_t kCloneNewipc = 0x8000000;
inline constexpr uint64_t kCloneNewuser = 0x10000000;
inline constexpr uint64_t kCloneNewpid = 0x20000000;
inline constexpr uint64_t kCloneNewnet = 0x40000000;
inline constexpr uint64_t kCloneIo = 0x80000000;
// Every bit of clone(2)'s 32-bit flags word: clone3 advertises them all.
inline constexpr uint64_t kCloneLegacyFlags = 0xFFFFFFFFULL;
// clone3-only flags.
inline constexpr uint64_t kCloneClearSighand = 1ULL << 32;  // 5.5
inline constexpr uint64_t kCloneIntoCgroup = 1ULL << 33;    // 5.7
inline constexpr uint64_t kCloneAutoreap = 1ULL << 34;      // 7.1
inline constexpr uint64_t kCloneNnp = 1ULL << 35;           // 7.1
inline constexpr uint64_t kClonePidfdAutokill = 1ULL << 36; // 7.1
inline constexpr uint64_t kCloneEmptyMntns = 1ULL << 37;    // 7.1, unconfirmed
// The clone flags unshare(2) also takes (kernel/fork.c, ksys_unshare).
inline constexpr uint64_t kUnshareFlags = kCloneNewtime | kCloneFs | kCloneFiles | kCloneNewns |
                                          kCloneSysvsem | kCloneNewcgroup | kCloneNewuts |
                                          kCloneNewipc | kCloneNewuser | kCloneNewpid |
                                          kCloneNewnet;
// The namespace types setns(2) takes in nstype (kernel/nsproxy.c).
inline constexpr uint64_t kSetnsTypes = kCloneNewns | kCloneNewcgroup | kCloneNewuts |
                                        kCloneNewipc | kCloneNewuser | kCloneNewpid |
                                        kCloneNewnet | kCloneNewtime;
static_assert(kSetnsTypes == 0x7E020080);

// --- mount_setattr(2), fsmount(2): include/uapi/linux/mount.h --------------
inline constexpr uint64_t kMountAttrRdonly = 0x1;
inline constexpr uint64_t kMountAttrNosuid = 0x2;
inline constexpr uint64_t kMountAttrNodev = 0x4;
inline constexpr uint64_t kMountAttrNoexec = 0x8;
inline constexpr uint64_t kMountAttrAtime = 0x70;  // MOUNT_ATTR__ATIME: an enum, not bits
inline constexpr uint64_t kMountAttrRelatime = 0x0;
inline constexpr uint64_t kMountAttrNoatime = 0x10;
inline constexpr uint64_t kMountAttrStrictatime = 0x20;
inline constexpr uint64_t kMountAttrNodiratime = 0x80;
inline constexpr uint64_t kMountAttrIdmap = 0x100000;       // 5.12
inline constexpr uint64_t kMountAttrNosymfollow = 0x200000;  // 5.14
// FSMOUNT_VALID_FLAGS | MOUNT_ATTR_IDMAP: what mount_setattr takes in 5.12.
inline constexpr uint64_t kMountAttrs512 = kMountAttrRdonly | kMountAttrNosuid | kMountAttrNodev |
                                           kMountAttrNoexec | kMountAttrAtime |
                                           kMountAttrNodiratime | kMountAttrIdmap;
static_assert(kMountAttrs512 == 0x1000FF);
// Every attribute extsys knows (5.14 on).
inline constexpr uint64_t kKnownMountAttrs = kMountAttrs512 | kMountAttrNosymfollow;
static_assert(kKnownMountAttrs == 0x3000FF);

// mount(2)'s MS_* flags (include/uapi/linux/mount.h): the propagation types
// mount_attr.propagation takes, and the per-mount flags that mean the same
// as a MOUNT_ATTR_* attribute.
inline constexpr uint64_t kMsRdonly = 0x1;
inline constexpr uint64_t kMsNosuid = 0x2;
inline constexpr uint64_t kMsNodev = 0x4;
inline constexpr uint64_t kMsNoexec = 0x8;
inline constexpr uint64_t kMsRemount = 0x20;  // an operation, not an attribute
inline constexpr uint64_t kMsBind = 0x1000;   // likewise
inline constexpr uint64_t kMsNosymfollow = 0x100;
inline constexpr uint64_t kMsNoatime = 0x400;
inline constexpr uint64_t kMsNodiratime = 0x800;
inline constexpr uint64_t kMsUnbindable = 0x20000;
inline constexpr uint64_t kMsPrivate = 0x40000;
inline constexpr uint64_t kMsSlave = 0x80000;
inline constexpr uint64_t kMsShared = 0x100000;
inline constexpr uint64_t kMsRelatime = 0x200000;
inline constexpr uint64_t kMsStrictatime = 0x1000000;
inline constexpr uint64_t kMountPropagationFlags =
    kMsUnbindable | kMsPrivate | kMsSlave | kMsShared;
static_assert(kMountPropagationFlags == 0x1E0000);

// --- AT_* flags: include/uapi/linux/fcntl.h --------------------------------
inline constexpr uint64_t kAtSymlinkNofollow = 0x100;
inline constexpr uint64_t kAtNoAutomount = 0x800;
inline constexpr uint64_t kAtEmptyPath = 0x1000;
inline constexpr uint64_t kAtRecursive = 0x8000;
// mount_setattr's `flags` argument.
inline constexpr uint64_t kMountSetattrAtFlags =
    kAtEmptyPath | kAtRecursive | kAtSymlinkNofollow | kAtNoAutomount;
static_assert(kMountSetattrAtFlags == 0x9900);
// The at_flags argument of setxattrat, getxattrat, file_getattr, file_setattr.
inline constexpr uint64_t kXattratAtFlags = kAtSymlinkNofollow | kAtEmptyPath;

// --- open_tree(2), open_tree_attr(2): include/uapi/linux/mount.h -----------
inline constexpr uint64_t kOpenTreeClone = 0x1;
inline constexpr uint64_t kOpenTreeNamespace = 0x2;     // 7.0
inline constexpr uint64_t kOpenTreeCloexec = kOCloexec;  // O_CLOEXEC
// vfs_open_tree()'s flags (6.15: open_tree_attr): AT_RECURSIVE needs CLONE
// (7.0: or NAMESPACE); CLONE and NAMESPACE exclude each other.
inline constexpr uint64_t kOpenTreeFlags615 = kAtEmptyPath | kAtNoAutomount | kAtRecursive |
                                              kAtSymlinkNofollow | kOpenTreeClone |
                                              kOpenTreeCloexec;
static_assert(kOpenTreeFlags615 == 0x89901);

// --- setxattr(2), setxattrat(2): include/uapi/linux/xattr.h ----------------
inline constexpr uint64_t kXattrCreate = 0x1;
inline constexpr uint64_t kXattrReplace = 0x2;

// --- file_getattr(2), file_setattr(2): struct file_attr's fa_xflags, the
// FS_XFLAG_* bits of include/uapi/linux/fs.h ---------------------------------
inline constexpr uint64_t kFsXflagRealtime = 0x1;
inline constexpr uint64_t kFsXflagPrealloc = 0x2;
inline constexpr uint64_t kFsXflagImmutable = 0x8;
inline constexpr uint64_t kFsXflagAppend = 0x10;
inline constexpr uint64_t kFsXflagSync = 0x20;
inline constexpr uint64_t kFsXflagNoatime = 0x40;
inline constexpr uint64_t kFsXflagNodump = 0x80;
inline constexpr uint64_t kFsXflagRtinherit = 0x100;
inline constexpr uint64_t kFsXflagProjinherit = 0x200;
inline constexpr uint64_t kFsXflagNosymlinks = 0x400;
inline constexpr uint64_t kFsXflagExtsize = 0x800;
inline constexpr uint64_t kFsXflagExtszinherit = 0x1000;
inline constexpr uint64_t kFsXflagNodefrag = 0x2000;
inline constexpr uint64_t kFsXflagFilestream = 0x4000;
inline constexpr uint64_t kFsXflagDax = 0x8000;
inline constexpr uint64_t kFsXflagCowextsize = 0x10000;
inline constexpr uint64_t kFsXflagVerity = 0x20000;  // 7.0
inline constexpr uint64_t kFsXflagHasattr = 0x80000000;
// FS_XFLAGS_MASK (include/linux/fileattr.h) of 6.17: every bit above but
// VERITY; file_setattr accepts them (the read-only PREALLOC and HASATTR are
// dropped silently).
inline constexpr uint64_t kFsXflagsMask617 =
    kFsXflagRealtime | kFsXflagPrealloc | kFsXflagImmutable | kFsXflagAppend | kFsXflagSync |
    kFsXflagNoatime | kFsXflagNodump | kFsXflagRtinherit | kFsXflagProjinherit |
    kFsXflagNosymlinks | kFsXflagExtsize | kFsXflagExtszinherit | kFsXflagNodefrag |
    kFsXflagFilestream | kFsXflagDax | kFsXflagCowextsize | kFsXflagHasattr;
static_assert(kFsXflagsMask617 == 0x8001FFFB);

// --- landlock_create_ruleset(2): include/uapi/linux/landlock.h -------------
inline constexpr uint64_t kLandlockCreateRulesetVersion = 0x1;
inline constexpr uint64_t kLandlockCreateRulesetErrata = 0x2;  // 6.15, and stable
// handled_access_fs: LANDLOCK_ACCESS_FS_* bits 0-16.
inline constexpr uint64_t kLandlockFsExecute = 1ULL << 0;
inline constexpr uint64_t kLandlockFsWriteFile = 1ULL << 1;
inline constexpr uint64_t kLandlockFsReadFile = 1ULL << 2;
inline constexpr uint64_t kLandlockFsReadDir = 1ULL << 3;
inline constexpr uint64_t kLandlockFsRemoveDir = 1ULL << 4;
inline constexpr uint64_t kLandlockFsRemoveFile = 1ULL << 5;
inline constexpr uint64_t kLandlockFsMakeChar = 1ULL << 6;
inline constexpr uint64_t kLandlockFsMakeDir = 1ULL << 7;
inline constexpr uint64_t kLandlockFsMakeReg = 1ULL << 8;
inline constexpr uint64_t kLandlockFsMakeSock = 1ULL << 9;
inline constexpr uint64_t kLandlockFsMakeFifo = 1ULL << 10;
inline constexpr uint64_t kLandlockFsMakeBlock = 1ULL << 11;
inline constexpr uint64_t kLandlockFsMakeSym = 1ULL << 12;
inline constexpr uint64_t kLandlockFsRefer = 1ULL << 13;        // ABI 2, 5.19
inline constexpr uint64_t kLandlockFsTruncate = 1ULL << 14;     // ABI 3, 6.2
inline constexpr uint64_t kLandlockFsIoctlDev = 1ULL << 15;     // ABI 5, 6.10
inline constexpr uint64_t kLandlockFsResolveUnix = 1ULL << 16;  // ABI 9, 7.1
inline constexpr uint64_t kLandlockFsAbi1 = 0x1FFF;             // EXECUTE ... MAKE_SYM
// handled_access_net (ABI 4, 6.7) and scoped (ABI 6, 6.12).
inline constexpr uint64_t kLandlockNetBindTcp = 1ULL << 0;
inline constexpr uint64_t kLandlockNetConnectTcp = 1ULL << 1;
inline constexpr uint64_t kLandlockScopeAbstractUnixSocket = 1ULL << 0;
inline constexpr uint64_t kLandlockScopeSignal = 1ULL << 1;

// --- ioctl(2) requests strict mode refuses: include/uapi/asm-generic/ioctls.h
// (x86_64, arm64, riscv; powerpc, mips and sparc number them differently).
// The request argument is an `unsigned int`: compare 32 bits.
inline constexpr uint64_t kTiocsti = 0x5412;    // push a byte into a terminal's input
inline constexpr uint64_t kTioclinux = 0x541C;  // VT console: selection paste and more

}  // namespace extsys::uapi
