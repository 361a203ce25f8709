// SPDX-License-Identifier: MIT
// tools/bench/pingpong.cpp - the bare notify ping-pong: the mechanism's floor.
//
// Same process model and filter shape as `extsys run`, minus everything
// extsys does per probe: a detached supervisor (double fork, setsid) receives
// the listener over SCM_RIGHTS and answers each notification with
// poll + RECV + SEND(error = -134). It writes no target memory, checks no
// size and calls no ID_VALID.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/fd_passing.h"
#include "kernel/abi/arch.h"
#include "bench.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace bench {
namespace {

// The native ABI's audit arch (src/kernel/abi/arch.h); libseccomp adds an
// x32 check to x86_64 programs, so this one does too.
constexpr uint32_t kAuditArch = extsys::kernel::nativeAuditArch();
constexpr bool kHasX32 = extsys::kernel::kNativeArch == extsys::kernel::Arch::X86_64;

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return sock_filter{code, jt, jf, k};
}

// The shape libseccomp gives extsys's filter: arch check, x32 check, then per
// syscall "nr == N && (arg.hi32 & 0x80000000) -> USER_NOTIF", else ALLOW.
std::vector<sock_filter> buildFilter() {
  struct Probe {
    uint32_t nr, sizeArg;
  };
  const Probe probes[] = {{SYS_mount_setattr, 4}, {SYS_openat2, 3}, {SYS_clone3, 1}};
  const uint32_t hiWord = 4;  // little-endian: the high half is the second word
  std::vector<sock_filter> f;
  f.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  const size_t archJump = f.size();
  f.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 0, 0));  // jf patched: ALLOW
  f.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  std::vector<size_t> toAllow, toNotify;
  if (kHasX32) {
    toAllow.push_back(f.size());
    f.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 0));  // jt patched
  }
  for (const Probe& p : probes) {
    f.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, p.nr, 0, 2));
    f.push_back(stmt(BPF_LD | BPF_W | BPF_ABS,
                     static_cast<uint32_t>(offsetof(seccomp_data, args) + 8 * p.sizeArg + hiWord)));
    toNotify.push_back(f.size());
    f.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, 0x80000000, 0, 0));  // jt, jf patched
  }
  const size_t allow = f.size();
  f.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  const size_t notify = f.size();
  f.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF));
  auto rel = [](size_t from, size_t to) { return static_cast<uint8_t>(to - from - 1); };
  f[archJump].jf = rel(archJump, allow);
  for (size_t i : toAllow)
    f[i].jt = rel(i, allow);
  for (size_t i : toNotify) {
    f[i].jt = rel(i, notify);
    f[i].jf = rel(i, allow);
  }
  return f;
}

// Where a probe's struct is: {pointer arg, size arg} by syscall number.
bool probeStruct(const seccomp_notif& n, uint64_t& ptr, uint64_t& size) {
  int p, s;
  switch (n.data.nr) {
    case SYS_openat2: p = 2, s = 3; break;
    case SYS_clone3: p = 0, s = 1; break;
    case SYS_mount_setattr: p = 3, s = 4; break;
    default: return false;
  }
  ptr = n.data.args[p];
  size = std::min<uint64_t>(n.data.args[s] & ~kCheckFields, 88);
  return true;
}

// The supervisor: the minimum a correct notify loop does, plus the optional
// extras used to decompose extsys's cost (see BareExtra).
[[noreturn]] void serveBare(int sock, bool syncWakeUp, unsigned extras) {
  setsid();
  prctl(PR_SET_NAME, "bare-super", 0, 0, 0);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
  }
  for (int sig : {SIGINT, SIGQUIT, SIGHUP, SIGPIPE})
    signal(sig, SIG_IGN);
  auto got = extsys::recvWithFd(sock, 16);  // the listener, as extsys's handshake
  if (!got || !got->fd.valid())
    _exit(1);
  const int listener = got->fd.release();
  char ready[2] = {'R', '0'};
  if (syncWakeUp &&
      ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0)
    ready[1] = '1';
  seccomp_notif_sizes sizes{};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
    _exit(1);
  const size_t reqSize = std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif));
  const size_t respSize = std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp));
  auto* req = static_cast<seccomp_notif*>(std::calloc(1, reqSize));
  auto* resp = static_cast<seccomp_notif_resp*>(std::calloc(1, respSize));
  if (req == nullptr || resp == nullptr)
    _exit(1);
  if (send(sock, ready, sizeof ready, MSG_NOSIGNAL) < 0)
    _exit(1);
  close(sock);

  static const uint8_t answer[88] = {0xff, 0xff, 0xff};
  pollfd pfd{listener, POLLIN, 0};
  for (;;) {
    pfd.revents = 0;
    if (extras & kBareNoPoll) {
      pfd.revents = POLLIN;  // straight into a blocking RECV
    } else if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      _exit(1);
    }
    if (pfd.revents & POLLIN) {
      std::memset(req, 0, reqSize);  // RECV insists on a zeroed buffer
      if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
        if (errno == EINTR)
          continue;
        if (errno == ENOENT || (extras & kBareNoPoll)) {
          // Without poll: is anybody left? (a blocked RECV returns once the
          // filter has no users on recent kernels)
          pfd.revents = 0;
          if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
            _exit(0);
          continue;
        }
        _exit(1);
      }
      if ((extras & kBareIdValid) &&
          ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) != 0)
        continue;
      uint64_t ptr, size;
      if ((extras & kBareWrite) && probeStruct(*req, ptr, size)) {
        iovec local{const_cast<uint8_t*>(answer), size};
        iovec remote{reinterpret_cast<void*>(ptr), size};
        (void)process_vm_writev(static_cast<pid_t>(req->pid), &local, 1, &remote, 1, 0);
      }
      std::memset(resp, 0, respSize);
      resp->id = req->id;
      resp->error = -kProbeErrno;
      while (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0 && errno == EINTR) {
      }
      continue;
    }
    if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
      _exit(0);
  }
}

}  // namespace

bool startBareSupervisor(bool syncWakeUp, unsigned extras) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    die("bare: socketpair: %s", strerror(errno));
  fflush(nullptr);
  pid_t child = fork();
  if (child < 0)
    die("bare: fork: %s", strerror(errno));
  if (child == 0) {
    close(sv[0]);
    pid_t grandchild = fork();
    if (grandchild != 0)
      _exit(grandchild < 0 ? 1 : 0);
    serveBare(sv[1], syncWakeUp, extras);
  }
  close(sv[1]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("bare: cannot fork the supervisor");

  std::vector<sock_filter> insns = buildFilter();
  sock_fprog prog{static_cast<unsigned short>(insns.size()), insns.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    die("bare: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (fd < 0 && errno == EINVAL)  // before 5.19, as extsys does
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0)
    die("bare: seccomp(NEW_LISTENER): %s", strerror(errno));
  if (auto st = extsys::sendWithFd(sv[0], "L", static_cast<int>(fd)); !st)
    die("bare: sending the listener: %s", st.error().message().c_str());
  close(static_cast<int>(fd));
  char ready[2] = {};
  ssize_t n;
  do {
    n = recv(sv[0], ready, sizeof ready, 0);
  } while (n < 0 && errno == EINTR);
  if (n != 2 || ready[0] != 'R')
    die("bare: the supervisor did not start");
  close(sv[0]);
  return ready[1] == '1';
}

}  // namespace bench
