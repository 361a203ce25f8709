// SPDX-License-Identifier: MIT
// supervisor/supervisor.cpp - the notification loop.
#include "supervisor/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>

#include "base/errno_name.h"
#include "base/log.h"
#include "kernel/uapi_compat.h"

namespace extsys::supervisor {
namespace {

// RECV sleeps even on a non-blocking fd. On kernels before the 2024 wake-up
// fix, a notification withdrawn between poll() and RECV (its task killed)
// leaves RECV asleep although no task is left. A 1 s interval timer whose
// handler does nothing interrupts such a RECV (EINTR), and the loop goes back
// to poll(), which then reports POLLHUP. Costs one signal a second.
void onWatchdog(int) {}

Status armRecvWatchdog() {
  struct sigaction sa {};
  sa.sa_handler = onWatchdog;
  sa.sa_flags = 0;  // no SA_RESTART: RECV must return EINTR
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, nullptr) != 0)
    return Error::fromErrno(errno, "sigaction(SIGALRM)");
  itimerval it{};
  it.it_interval.tv_sec = 1;
  it.it_value.tv_sec = 1;
  if (setitimer(ITIMER_REAL, &it, nullptr) != 0)
    return Error::fromErrno(errno, "setitimer");
  return okStatus();
}

}  // namespace

Supervisor::Supervisor(policy::EffectivePolicy policy, SupervisorOptions options, AuditLog audit)
    : policy_(std::move(policy)),
      options_(std::move(options)),
      probes_(policy_.answers, ProbeConfig{policy_.probeErrno, options_.pageSize}),
      calls_(policy_, options_.pageSize),
      audit_(std::move(audit)) {}

Result<std::unique_ptr<Supervisor>> Supervisor::create(policy::EffectivePolicy policy,
                                                       SupervisorOptions options) {
  if (policy.probeErrno <= 0 || policy.probeErrno >= 4096)
    return Error(EINVAL, "probe errno must be between 1 and 4095");
  if (options.pageSize == 0 || options.pageSize > 65536)
    return Error(EINVAL, "unsupported page size " + std::to_string(options.pageSize));
  AuditLog audit;
  if (!options.auditPath.empty()) {
    auto opened = AuditLog::open(options.auditPath);
    if (!opened)
      return std::move(opened).error();
    audit = std::move(*opened);
  }
  return std::unique_ptr<Supervisor>(
      new Supervisor(std::move(policy), std::move(options), std::move(audit)));
}

Reply Supervisor::dispatch(const seccomp_notif& n, const kernel::NotifyFd& listener) {
  const kernel::SyscallDesc* d = lookup_.find(n.data.arch, static_cast<int>(n.data.nr));
  if (d == nullptr) {
    // Not something our filter notifies: answer what the kernel answers when
    // no supervisor is there.
    log::supervisor().warn("Unexpected notification: arch {:#x} nr {} from pid {}, answering ENOSYS",
                           n.data.arch, n.data.nr, n.pid);
    ++counters_.rejected;
    return {Reply::Kind::Send, ENOSYS, "rejected"};
  }
  const bool probe = n.data.args[d->sizeArg] & uapi::kCheckFields;
  const policy::EffectiveSyscall& es = policy_.of(d->id);
  Reply r;
  if (probe && es.probe == policy::ProbeMode::Emulate)
    r = probes_.handle(n, *d, listener, counters_);
  else if (!probe && es.call == policy::CallMode::Restrict)
    r = calls_.handle(n, *d, listener, counters_);
  else
    r = {Reply::Kind::Send, ENOSYS, "rejected"};
  if (audit_.enabled())
    audit_.write({&n, d->name.data(), probe ? "probe" : "call",
                  n.data.args[d->sizeArg] & ~uapi::kCheckFields, r.decision,
                  r.kind == Reply::Kind::Send ? r.err : 0});
  return r;
}

Status Supervisor::serve(UniqueFd listenerFd) {
  auto made = kernel::NotifyFd::create(std::move(listenerFd));
  if (!made)
    return std::move(made).error();
  kernel::NotifyFd& listener = *made;

  if (options_.syncWakeUp != SyncWakeUp::Off) {
    // Wake the target on the CPU that answers it (6.6+). Optional: older
    // kernels simply lack it.
    if (int err = listener.enableSyncWakeUp(); err != 0) {
      if (options_.syncWakeUp == SyncWakeUp::On)
        log::supervisor().warn("SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP unavailable: {}, ignoring",
                               errnoDescribe(err));
      else
        log::supervisor().debug("SYNC_WAKE_UP unavailable: {}", errnoName(err));
    }
  }
  if (auto st = armRecvWatchdog(); !st)
    return std::move(st).error();

  // RECV blocks until a notification arrives; no poll() per probe. It
  // returns ENOENT when the filter loses its last user (Linux 6.11+) or
  // EINTR from the watchdog (older kernels): then a zero-timeout poll()
  // tells whether the listener hung up.
  for (;;) {
    int err = listener.recv();
    if (err == 0) {
      const seccomp_notif& n = listener.notif();
      const Reply r = dispatch(n, listener);
      if (r.kind != Reply::Kind::Drop) {
        err = r.kind == Reply::Kind::Continue ? listener.sendContinue(n.id)
                                              : listener.sendError(n.id, r.err);
        if (err == ENOENT)
          ++counters_.gone;  // killed or interrupted meanwhile: normal
        else if (err != 0)
          log::supervisor().warn("Failed to send answer to pid {}: {}, ignoring", n.pid,
                                 errnoDescribe(err));
      }
      continue;
    }
    if (err != EINTR && err != ENOENT)
      return Error::fromErrno(err, "SECCOMP_IOCTL_NOTIF_RECV");
    pollfd pfd{listener.fd(), POLLIN, 0};
    if (poll(&pfd, 1, 0) < 0 && errno != EINTR)
      return Error::fromErrno(errno, "poll(listener)");
    if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd.revents & POLLIN)) {
      log::supervisor().debug("listener has no tasks left: answered {}, rejected {}, "
                              "faulted {}, gone {}, unwritable {}, calls allowed {}, denied {}",
                              counters_.answered, counters_.rejected, counters_.faulted,
                              counters_.gone, counters_.unwritable, counters_.allowed,
                              counters_.denied);
      return okStatus();
    }
  }
}

}  // namespace extsys::supervisor
