// SPDX-License-Identifier: MIT
// kernel/discovery/live_backend.cpp - the raw probe syscalls and the probe
// child.
#include "kernel/discovery/live_backend.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "base/errno_name.h"
#include "base/fd_passing.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "kernel/abi/uapi_compat.h"

namespace extsys::kernel {
namespace {

int errOf(long rc) { return rc < 0 ? errno : 0; }

// The number of a syscall of the table (libseccomp, or the fallback for
// those newer than it), resolved once.
long nr(SyscallId id) {
  static const auto nrs = [] {
    std::array<long, kSyscallCount> out{};
    for (const auto& d : syscallTable())
      out[static_cast<size_t>(d.id)] = nativeSyscallNr(d.name);
    return out;
  }();
  return nrs[static_cast<size_t>(id)];
}

// The path (and xattr name) every probe passes: an empty string names
// nothing. Without AT_EMPTY_PATH the kernel's getname() fails it with ENOENT
// (an empty xattr name: ERANGE), at exactly the step where a NULL pointer
// would fail with EFAULT; with AT_EMPTY_PATH the dfd, -1 (AT_FDCWD only for
// openat2, which has no AT_EMPTY_PATH), fails it with EBADF. A NULL pointer
// would do as well, but the kernel reaches EFAULT through a page fault on
// address 0, which on a VM with paravirtual paging costs ten calls: measured
// 11 us against 1.2 us per openat2 probe, ~2 ms of a cold discovery.
constexpr const char* kNoPath = "";

int closeIfFd(long rc) {
  if (rc >= 0) {
    close(static_cast<int>(rc));  // cannot happen with an empty path; be tidy
    return 0;
  }
  return errno;
}

// --- the child's side ------------------------------------------------------

enum Tag : uint8_t { kNotify = 'N', kMount = 'M', kClone = 'C', kLandlock = 'L' };

void sendInts(int sock, Tag tag, const std::vector<int>& v, const std::string& note) {
  std::vector<uint8_t> msg;
  msg.push_back(tag);
  const uint32_t n = static_cast<uint32_t>(v.size());
  msg.insert(msg.end(), reinterpret_cast<const uint8_t*>(&n), reinterpret_cast<const uint8_t*>(&n) + 4);
  msg.insert(msg.end(), reinterpret_cast<const uint8_t*>(v.data()),
             reinterpret_cast<const uint8_t*>(v.data() + v.size()));
  msg.insert(msg.end(), note.begin(), note.end());
  send(sock, msg.data(), msg.size(), MSG_NOSIGNAL);
}

void childNotify(int sock) {
  std::string note;
  uint8_t killable = 0;
  int fd = -1;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    note = std::string("prctl(NO_NEW_PRIVS): ") + errnoName(errno);
  } else {
    sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    sock_fprog prog{1, &allow};
    fd = sys::seccomp(SECCOMP_SET_MODE_FILTER,
                      SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
    if (fd >= 0) {
      killable = 1;
    } else if (errno == EINVAL) {
      fd = sys::seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    }
    if (fd < 0)
      note = errno == EBUSY ? "already under a seccomp listener (EBUSY)"
                            : std::string("seccomp(NEW_LISTENER): ") + errnoName(errno);
  }
  std::string payload{static_cast<char>(kNotify), static_cast<char>(killable)};
  payload += note;
  (void)sendWithFd(sock, payload, fd);
  if (fd >= 0)
    close(fd);
}

void childMount(int sock, const std::vector<ProbeCall>& calls) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    sendInts(sock, kMount, {}, std::string("unshare(CLONE_NEWUSER|CLONE_NEWNS): ") + errnoName(errno));
    return;
  }
  std::vector<int> errs;
  for (ProbeCall c : calls)
    errs.push_back(errOf(syscall(SYS_mount_setattr, -1, kNoPath, c.flags, c.buf.data(), c.size)));
  sendInts(sock, kMount, errs, "");
}

// With RLIMIT_NOFILE at 0 a ruleset that passed validation cannot get an
// fd: EMFILE, and the kernel frees it. Stops after the guard if a call
// returned an fd after all (closed at once). The soft limit is restored.
void childLandlock(int sock, const std::vector<ProbeCall>& calls) {
  rlimit old{};
  if (getrlimit(RLIMIT_NOFILE, &old) != 0) {
    sendInts(sock, kLandlock, {}, std::string("getrlimit(RLIMIT_NOFILE): ") + errnoName(errno));
    return;
  }
  rlimit none{0, old.rlim_max};
  if (setrlimit(RLIMIT_NOFILE, &none) != 0) {
    sendInts(sock, kLandlock, {}, std::string("setrlimit(RLIMIT_NOFILE): ") + errnoName(errno));
    return;
  }
  std::vector<int> errs;
  for (ProbeCall c : calls) {
    const long rc = syscall(nr(SyscallId::LandlockCreateRuleset), c.buf.data(), c.size, c.flags);
    if (rc >= 0) {
      close(static_cast<int>(rc));
      errs.push_back(0);
      break;  // the limit did not hold: stop
    }
    errs.push_back(errno);
  }
  setrlimit(RLIMIT_NOFILE, &old);
  sendInts(sock, kLandlock, errs, "");
}

void childClone(int sock, const std::vector<ProbeCall>& calls) {
  rlimit none{0, 0};
  if (setrlimit(RLIMIT_NPROC, &none) != 0) {
    sendInts(sock, kClone, {}, std::string("setrlimit(RLIMIT_NPROC): ") + errnoName(errno));
    return;
  }
  if (getuid() == 0 || geteuid() == 0) {
    // The RLIMIT_NPROC check skips the initial user: become nobody. Raw
    // calls: the probe child shares its parent's memory (runChild), and
    // glibc's set*id() would act on every thread it finds there.
    if (syscall(SYS_setgroups, 0, nullptr) != 0 ||
        syscall(SYS_setresgid, 65534, 65534, 65534) != 0 ||
        syscall(SYS_setresuid, 65534, 65534, 65534) != 0) {
      sendInts(sock, kClone, {}, std::string("dropping to uid 65534: ") + errnoName(errno));
      return;
    }
  }
  // CAP_SYS_RESOURCE and CAP_SYS_ADMIN would bypass the limit: drop all.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none3[2]{};
  (void)syscall(SYS_capset, &header, none3);
  std::vector<int> errs;
  for (ProbeCall c : calls) {
    long rc = syscall(SYS_clone3, c.buf.data(), c.size);
    if (rc == 0)
      _exit(0);  // a child was created after all: leave at once
    if (rc > 0) {
      waitpid(static_cast<pid_t>(rc), nullptr, __WALL);
      errs.push_back(0);
      break;  // the guard failed; stop creating processes
    }
    errs.push_back(errno);
    // Only a guard that failed with EAGAIN proves that the limit binds;
    // anything else and the next call might create a process.
    if (errs.size() == 1 && errs.front() != EAGAIN)
      break;
  }
  sendInts(sock, kClone, errs, "");
}

// --- the parent's side -----------------------------------------------------

void parseInts(const std::string& d, std::vector<int>& ints, std::string& note) {
  if (d.size() < 5)
    return;
  uint32_t n;
  std::memcpy(&n, d.data() + 1, 4);
  const size_t bytes = static_cast<size_t>(n) * sizeof(int);
  if (5 + bytes > d.size())
    return;
  ints.resize(n);
  if (bytes != 0)  // an empty vector's data() may be null: memcpy(nullptr, ..., 0) is UB
    std::memcpy(ints.data(), d.data() + 5, bytes);
  note.assign(d.begin() + 5 + static_cast<long>(bytes), d.end());
}

void testListener(int fd, NotifyFeatures& nf) {
  nf.listener = true;
  nf.syncWakeUp =
      ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
  // ADDFD for a notification id that does not exist: ENOENT once the
  // request is understood, EINVAL when the ioctl or flag is unknown.
  seccomp_notif_addfd add{};
  add.id = ~0ULL;
  add.srcfd = static_cast<uint32_t>(fd);
  nf.addfd = ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) != 0 && errno == ENOENT;
  add.flags = SECCOMP_ADDFD_FLAG_SEND;
  nf.addfdSend = ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) != 0 && errno == ENOENT;
}

}  // namespace

int LiveBackend::call(SyscallId id, ProbeCall& c) {
  void* buf = c.nullStruct ? nullptr : c.buf.data();
  switch (id) {
    case SyscallId::Openat2:
      return closeIfFd(syscall(SYS_openat2, AT_FDCWD, kNoPath, buf, c.size));
    case SyscallId::Clone3: {
      // Only sizes that cannot create a process reach here (0, CHECK_FIELDS).
      long rc = syscall(SYS_clone3, buf, c.size);
      if (rc == 0)
        _exit(0);
      if (rc > 0) {
        waitpid(static_cast<pid_t>(rc), nullptr, __WALL);
        return 0;
      }
      return errno;
    }
    case SyscallId::MountSetattr:
      return errOf(syscall(SYS_mount_setattr, -1, kNoPath, c.flags, buf, c.size));
    case SyscallId::OpenTreeAttr:
      return closeIfFd(syscall(nr(id), -1, kNoPath, c.flags, buf, c.size));
    case SyscallId::Setxattrat:
    case SyscallId::Getxattrat:
      return errOf(syscall(nr(id), -1, kNoPath, c.flags, kNoPath, buf, c.size));
    case SyscallId::FileGetattr:
    case SyscallId::FileSetattr:
      // dfd is -1 whatever the flags: with AT_EMPTY_PATH and an empty path
      // a valid dfd (or AT_FDCWD) would name a real file.
      return errOf(syscall(nr(id), -1, kNoPath, buf, c.size, c.flags));
    case SyscallId::LandlockCreateRuleset: {
      if (c.flags == 0 && !c.nullStruct && (c.size & uapi::kCheckFields) == 0)
        return EINVAL;  // could create a ruleset: only in the probe child
      const long rc = syscall(nr(id), buf, c.size, c.flags);
      if (rc < 0)
        return errno;
      if (c.flags == 0)
        close(static_cast<int>(rc));  // a ruleset fd after all: cannot happen, be tidy
      c.result = rc;
      return 0;
    }
  }
  return ENOSYS;
}

namespace {

[[noreturn]] void probeChild(const ChildRequest& r, int sock) {
  if (r.notify)
    childNotify(sock);
  // clone3 before the new user namespace: in there getuid() no longer
  // reads 0 for root, so the drop to nobody would be skipped while the
  // kernel still exempts root's real uid from RLIMIT_NPROC, and the guard
  // would create a process. Dropped to nobody here, the child can still
  // make a user namespace for the mount probes.
  if (!r.clone3.empty())
    childClone(sock, r.clone3);
  if (!r.mountInUserns.empty())
    childMount(sock, r.mountInUserns);
  // Last: it leaves the child without room for a new fd (RLIMIT_NOFILE 0).
  if (!r.landlock.empty())
    childLandlock(sock, r.landlock);
  _exit(0);
}

// The probe child is vfork'ed: it shares our memory while the calling
// thread waits, so no page tables are copied and none torn down (a fork
// plus the child's copy-on-write faults cost ~1.5 ms on a VM with
// paravirtual paging). What it changes is its own: credentials, rlimits
// (its own process), no_new_privs, its seccomp filter, namespaces and fd
// table; set*id and capset are raw calls (runChild's callers may have
// threads, which glibc's wrappers would reach through the shared memory).
// It writes to the socket only, never to our objects, and _exits; every
// message waits in the socket until we read it.
[[gnu::noinline]] pid_t vforkProbeChild(const ChildRequest& r, int sock) {
  const pid_t pid = vfork();
  if (pid == 0)
    probeChild(r, sock);
  return pid;
}

}  // namespace

ChildResult LiveBackend::runChild(const ChildRequest& r) {
  ChildResult out;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    out.error = std::string("socketpair: ") + errnoName(errno);
    return out;
  }
  UniqueFd mine(sv[0]), theirs(sv[1]);
  const pid_t pid = vforkProbeChild(r, theirs.get());
  if (pid < 0) {
    out.error = std::string("vfork: ") + errnoName(errno);
    return out;
  }
  theirs.reset();
  UniqueFd listener;
  for (auto msg = recvWithFd(mine.get(), 4096); msg; msg = recvWithFd(mine.get(), 4096)) {
    const std::string& d = msg->data;
    if (d.empty())
      continue;
    switch (d[0]) {
      case kNotify:
        out.notify.tested = msg->fd.valid();
        out.notify.waitKillableRecv = d.size() > 1 && d[1] != 0;
        out.notify.note.assign(d.begin() + std::min<size_t>(2, d.size()), d.end());
        listener = std::move(msg->fd);
        if (listener.valid())
          testListener(listener.get(), out.notify);
        break;
      case kMount:
        parseInts(d, out.mountInUserns, out.mountNote);
        break;
      case kClone:
        parseInts(d, out.clone3, out.cloneNote);
        break;
      case kLandlock:
        parseInts(d, out.landlock, out.landlockNote);
        break;
      default:
        break;
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (listener.valid()) {
    // The child was the filter's only user: reaped, the listener must hang up.
    pollfd p{listener.get(), POLLIN, 0};
    out.notify.pollhup = poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    out.error = "probe child died";
  return out;
}

bool mayMount() {
  cap_t caps = cap_get_proc();
  if (caps == nullptr)
    return false;
  cap_flag_value_t admin = CAP_CLEAR;
  cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &admin);
  cap_free(caps);
  return admin == CAP_SET;
}

}  // namespace extsys::kernel
