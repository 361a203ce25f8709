// SPDX-License-Identifier: MIT
// tools/bench/oldway.cpp - feature discovery the way a program must do it
// without CHECK_FIELDS (recipes: src/kernel/discovery/RECIPES.md).
// Each function performs ONE full discovery and returns its wall time.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "bench.h"

namespace bench {

long clone3ExitChild(CloneArgs* a, uint64_t size) {
#if defined(__x86_64__)
  long ret;
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "mov $60, %%eax\n\t"  // SYS_exit: this task only, touches no memory
      "xor %%edi, %%edi\n\t"
      "syscall\n\t"
      "1:\n\t"
      : "=a"(ret)
      : "0"(static_cast<long>(SYS_clone3)), "D"(a), "S"(size)
      : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 asm("x8") = SYS_clone3;
  register long x0 asm("x0") = reinterpret_cast<long>(a);
  register long x1 asm("x1") = static_cast<long>(size);
  asm volatile(
      "svc #0\n\t"
      "cbnz x0, 1f\n\t"
      "mov x8, #93\n\t"  // SYS_exit
      "mov x0, #0\n\t"
      "svc #0\n\t"
      "1:\n\t"
      : "+r"(x0), "+r"(x8)
      : "r"(x1)
      : "memory");
  return x0;
#else
#error "extsys-bench: clone3ExitChild needs this architecture's syscall sequence"
#endif
}

namespace {

constexpr uint64_t kCloneIntoCgroup = 1ULL << 33;
constexpr uint64_t kCloneAutoreap = 1ULL << 34;
constexpr uint64_t kCloneNnp = 1ULL << 35;
constexpr uint64_t kClonePidfdAutokill = 1ULL << 36;
constexpr uint64_t kCloneEmptyMntns = 1ULL << 37;
constexpr uint64_t kMountAttrAtime = 0x70;
constexpr uint64_t kMountAttrIdmap = 0x100000;

// Results shared between a throw-away probe child and the caller.
struct Shared {
  uint64_t mask, mask2, reparented, atFlags;
  int guardErr;
};

Shared* sharedPage() {
  static Shared* s = [] {
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      die("mmap(shared): %s", strerror(errno));
    return static_cast<Shared*>(p);
  }();
  std::memset(s, 0, sizeof *s);
  return s;
}

void* probeStack() {
  static void* stack = [] {
    void* p = mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      die("mmap(stack): %s", strerror(errno));
    return p;
  }();
  return stack;
}

void waitChild(pid_t pid) {
  int st;
  while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
  }
}

// openat2(AT_FDCWD, NULL, &how, 24): EFAULT (or EAGAIN) = accepted, EINVAL = not.
bool openAccepted(OpenHow how) {
  long r = rawOpenat2(AT_FDCWD, nullptr, &how, sizeof how);
  if (r >= 0) {  // cannot happen with a NULL path; be safe
    close(static_cast<int>(r));
    return true;
  }
  return r == -EFAULT || r == -EAGAIN;
}

}  // namespace

OldWayResult oldOpenat2Scan() {
  OldWayResult res;
  const uint64_t t0 = nowNs();
  OpenHow control{1ULL << 62, 0, 0};  // must be EINVAL, or high bits are dropped
  if (openAccepted(control))
    res.note = "kernel drops the high 32 flag bits";
  const uint64_t tmpfileBit = static_cast<uint64_t>(O_TMPFILE & ~O_DIRECTORY);
  for (int bit = 0; bit < 64; ++bit) {
    OpenHow how{1ULL << bit, 0, 0};
    if (how.flags == tmpfileBit) {
      how.flags = static_cast<uint64_t>(O_TMPFILE | O_RDWR);
      how.mode = 0600;
    }
    if (openAccepted(how))
      res.mask |= 1ULL << bit;
  }
  for (int bit = 0; bit < 64; ++bit)
    if (openAccepted(OpenHow{0, 0, 1ULL << bit}))
      res.mask2 |= 1ULL << bit;
  uint64_t modes = 0;
  for (int bit = 0; bit < 64; ++bit)
    if (openAccepted(OpenHow{static_cast<uint64_t>(O_CREAT | O_WRONLY), 1ULL << bit, 0}))
      modes |= 1ULL << bit;
  // Field probe: a non-zero byte past 24 gives E2BIG while the struct is 24 bytes.
  struct {
    OpenHow how;
    uint64_t extra;
  } big{{0, 0, 0}, 1};
  if (rawOpenat2(AT_FDCWD, nullptr, &big.how, sizeof big) != -E2BIG)
    res.note += " open_how grew";
  res.ns = nowNs() - t0;
  res.ok = modes == 07777;
  return res;
}

// Fork a throw-away child that tries every clone3 flag for real: an accepted
// flag creates a process (which exits at once); the child reaps them.
OldWayResult oldClone3Fork() {
  OldWayResult res;
  Shared* sh = sharedPage();
  const uint64_t t0 = nowNs();
  pid_t child = fork();
  if (child < 0)
    die("fork: %s", strerror(errno));
  if (child == 0) {
    int pidfd = -1;
    pid_t ptid = 0, ctid = 0;
    for (int bit = 0; bit < 64; ++bit) {
      CloneArgs a{};
      a.flags = 1ULL << bit;
      a.exit_signal = SIGCHLD;
      a.pidfd = reinterpret_cast<uint64_t>(&pidfd);
      a.child_tid = reinterpret_cast<uint64_t>(&ctid);
      a.parent_tid = reinterpret_cast<uint64_t>(&ptid);
      a.stack = reinterpret_cast<uint64_t>(probeStack());
      a.stack_size = 65536;
      if (a.flags == kCloneIntoCgroup)
        a.cgroup = INT_MAX;  // not an open fd: EBADF once the flag is accepted
      long r = clone3ExitChild(&a, sizeof a);
      if (r > 0) {
        sh->mask |= a.flags;
        if (a.flags & CLONE_PARENT)
          ++sh->reparented;  // our parent's child now: the caller reaps it
        else
          waitChild(static_cast<pid_t>(r));
        if (a.flags & CLONE_PIDFD)
          close(pidfd);
      } else if (r != -EINVAL) {
        sh->mask |= a.flags;  // EPERM, EBADF...: known, just not possible here
      }
    }
    _exit(0);
  }
  waitChild(child);
  for (uint64_t i = 0; i < sh->reparented; ++i) {
    int st;
    if (waitpid(-1, &st, __WALL) < 0)
      break;
  }
  res.ns = nowNs() - t0;
  res.mask = sh->mask;
  return res;
}

// The RLIMIT_NPROC trick (RECIPES.md, 'clone3'): in a throw-away child with no
// process left to spend, every accepted flag fails with EAGAIN and none
// creates a process.
OldWayResult oldClone3Nproc() {
  OldWayResult res;
  Shared* sh = sharedPage();
  const uint64_t t0 = nowNs();
  pid_t child = fork();
  if (child < 0)
    die("fork: %s", strerror(errno));
  if (child == 0) {
    rlimit zero{0, 0};
    if (setrlimit(RLIMIT_NPROC, &zero) != 0)
      _exit(1);
    if (geteuid() == 0) {
      if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
          setresuid(65534, 65534, 65534) != 0)
        _exit(1);
    }
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    syscall(SYS_capget, &hdr, data);
    data[0].effective = data[1].effective = 0;
    syscall(SYS_capset, &hdr, data);
    int pidfd = -1;
    CloneArgs guard{};
    guard.exit_signal = SIGCHLD;
    long g = clone3ExitChild(&guard, 64);
    sh->guardErr = static_cast<int>(-g);
    if (g != -EAGAIN) {
      if (g > 0)
        waitChild(static_cast<pid_t>(g));
      _exit(2);
    }
    for (int bit = 0; bit < 64; ++bit) {
      CloneArgs a{};
      a.flags = 1ULL << bit;
      a.exit_signal = SIGCHLD;
      a.pidfd = reinterpret_cast<uint64_t>(&pidfd);
      a.stack = reinterpret_cast<uint64_t>(probeStack());
      a.stack_size = 65536;
      if (a.flags == kCloneIntoCgroup)
        a.cgroup = INT_MAX;
      if (a.flags == kCloneAutoreap) {
        a.flags |= CLONE_PIDFD;
        a.exit_signal = 0;
      }
      if (a.flags == kClonePidfdAutokill) {
        a.flags |= kCloneAutoreap | kCloneNnp | CLONE_PIDFD;
        a.exit_signal = 0;
      }
      long r = clone3ExitChild(&a, sizeof a);
      if (r > 0)  // must not happen; never leave a process behind
        waitChild(static_cast<pid_t>(r));
      if (r == -EAGAIN || r == -EPERM || r > 0)
        sh->mask |= 1ULL << bit;
    }
    (void)kCloneEmptyMntns;  // probed like any other bit: CLONE_FS is not set
    // Field probes: set_tid (size 80) and "anything past 88".
    CloneArgs f{};
    f.exit_signal = SIGCHLD;
    f.set_tid = 1;
    if (clone3ExitChild(&f, 80) == -EINVAL)
      sh->mask2 |= 1;  // set_tid known
    struct {
      CloneArgs a;
      uint64_t extra;
    } big{};
    big.a.exit_signal = SIGCHLD;
    big.extra = 1;
    if (clone3ExitChild(&big.a, sizeof big) == -E2BIG)
      sh->mask2 |= 2;  // no field past 88
    _exit(0);
  }
  int st = 0;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  res.ns = nowNs() - t0;
  res.mask = sh->mask;
  res.mask2 = sh->mask2;
  res.ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  if (!res.ok)
    res.note = "guard clone3 did not give EAGAIN (" + std::string(strerror(sh->guardErr)) + ")";
  return res;
}

namespace {

// mount_setattr(-1, NULL, flags, &attr, 32): EINVAL = unknown, else accepted.
bool mountAccepted(unsigned flags, MountAttr a) {
  return rawMountSetattr(-1, nullptr, flags, &a, sizeof a) != -EINVAL;
}

void mountScan(Shared* sh) {
  for (int bit = 0; bit < 32; ++bit)  // the syscall's own flags argument
    if (mountAccepted(1U << bit, MountAttr{1, 0, 0, 0}))
      sh->atFlags |= 1ULL << bit;
  for (int bit = 0; bit < 64; ++bit) {
    MountAttr a{1ULL << bit, 0, 0, 0};
    if (a.attr_set & kMountAttrAtime)
      a.attr_clr = kMountAttrAtime;
    if (a.attr_set == kMountAttrIdmap)
      a.userns_fd = INT_MAX;  // closed: EBADF if IDMAP is known
    if (mountAccepted(0, a))
      sh->mask |= 1ULL << bit;
  }
  for (int bit = 0; bit < 64; ++bit)
    (void)mountAccepted(0, MountAttr{0, 1ULL << bit, 0, 0});
  for (int bit = 0; bit < 64; ++bit)
    if (mountAccepted(0, MountAttr{0, 0, 1ULL << bit, 0}))
      sh->mask2 |= 1ULL << bit;
}

}  // namespace

// Flag by flag (RECIPES.md, 'mount_setattr'); without CAP_SYS_ADMIN (EPERM) the scan runs in
// a child inside a new user and mount namespace, and that cost is included.
OldWayResult oldMountSetattrScan() {
  OldWayResult res;
  Shared* sh = sharedPage();
  const uint64_t t0 = nowNs();
  MountAttr first{1, 0, 0, 0};
  if (rawMountSetattr(-1, nullptr, 0, &first, sizeof first) != -EPERM) {
    mountScan(sh);
  } else {
    pid_t child = fork();
    if (child < 0)
      die("fork: %s", strerror(errno));
    if (child == 0) {
      if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        _exit(1);
      mountScan(sh);
      _exit(0);
    }
    waitChild(child);
    res.note = "scanned in a new user+mount namespace";
  }
  res.ns = nowNs() - t0;
  res.mask = sh->mask;
  res.mask2 = sh->mask2;
  return res;
}

}  // namespace bench
