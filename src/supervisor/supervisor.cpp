// SPDX-License-Identifier: MIT
// supervisor/supervisor.cpp - the notification loop and its worker threads.
#include "supervisor/supervisor.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "base/errno_name.h"
#include "base/log.h"
#include "kernel/abi/uapi_compat.h"

namespace extsys::supervisor {
namespace {

// RECV sleeps even on a non-blocking fd. On kernels before the 2024 wake-up
// fix (6.11), a notification withdrawn between poll() and RECV (its task
// killed) leaves RECV asleep although no task is left. A 1 s timer whose
// signal handler does nothing interrupts such a RECV (EINTR), and the loop
// goes back to poll(), which then reports POLLHUP. It also wakes the serve()
// thread should requestStop()'s signal land just before its RECV.
//
// It is armed on every kernel: whether RECV returns ENOENT once the filter
// has no user cannot be told from the version (the fix may be backported,
// or not) nor tested without a RECV that may sleep for ever. The cost is one
// signal a second to one thread. The timer is a POSIX timer aimed at the
// serve() thread alone (SIGEV_THREAD_ID), so the process's ITIMER_REAL stays
// free, and it is deleted when serve() returns.
constexpr int kWatchdogSignal = SIGALRM;
// Sent to a worker to make its RECV return EINTR once serve() is stopping.
constexpr int kStopSignal = SIGUSR2;

void onSignal(int) {}

// For the lifetime of the object: `sig` runs a handler that does nothing,
// without SA_RESTART (so RECV returns EINTR), and is unblocked in this
// thread. Then a signal still pending is dropped and the previous handler
// and mask come back.
class InterruptingSignal {
public:
  explicit InterruptingSignal(int sig) : sig_(sig) {}
  InterruptingSignal(const InterruptingSignal&) = delete;
  InterruptingSignal& operator=(const InterruptingSignal&) = delete;

  Status install() {
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig_, &sa, &previous_) != 0)
      return Error::fromErrno(errno, std::string("sigaction(") + sigabbrev_np(sig_) + ")");
    installed_ = true;
    sigset_t set = only();
    pthread_sigmask(SIG_UNBLOCK, &set, &previousMask_);
    return okStatus();
  }

  ~InterruptingSignal() {
    if (!installed_)
      return;
    sigset_t set = only();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    const timespec now{0, 0};
    while (sigtimedwait(&set, nullptr, &now) == sig_) {
    }
    sigaction(sig_, &previous_, nullptr);
    pthread_sigmask(SIG_SETMASK, &previousMask_, nullptr);
  }

private:
  sigset_t only() const {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig_);
    return set;
  }

  int sig_;
  bool installed_ = false;
  struct sigaction previous_ {};
  sigset_t previousMask_{};
};

// kWatchdogSignal to the calling thread once a second, until destroyed.
class RecvWatchdog {
public:
  RecvWatchdog() = default;
  RecvWatchdog(const RecvWatchdog&) = delete;
  RecvWatchdog& operator=(const RecvWatchdog&) = delete;

  Status arm() {
    sigevent ev{};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = kWatchdogSignal;
    ev._sigev_un._tid = gettid();  // glibc 2.36 has no sigev_notify_thread_id
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer_) != 0)
      return Error::fromErrno(errno, "timer_create");
    armed_ = true;
    itimerspec every{{1, 0}, {1, 0}};
    if (timer_settime(timer_, 0, &every, nullptr) != 0)
      return Error::fromErrno(errno, "timer_settime");
    return okStatus();
  }

  ~RecvWatchdog() {
    if (armed_)
      timer_delete(timer_);
  }

private:
  timer_t timer_{};
  bool armed_ = false;
};

// Whether RECV found a notification already queued or slept until one came,
// told by how long it took: a RECV that sleeps is woken by another thread's
// system call and takes several microseconds at the least; one that finds a
// notification waiting returns in about one. Only decides whether to start
// another worker, never anything a target sees.
constexpr uint64_t kRecvSleepThresholdNs = 3000;

uint64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no system call
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

unsigned defaultWorkers() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return 1;
  return static_cast<unsigned>(std::clamp(CPU_COUNT(&set), 1, 8));
}

// The workers of one serve() call. Worker 0 is the serve() thread itself.
struct Supervisor::Pool {
  struct Worker {
    Worker(const policy::EffectivePolicy& p, uint64_t pageSize) : calls(p, pageSize) {}
    CallHandler calls;  // per worker: it has scratch space
    Counters counters;
    std::thread thread;  // empty for worker 0
    std::atomic<bool> done{false};
  };

  Pool(const Supervisor& s, const kernel::NotifyFd& l) : sup(s), listener(l) {}

  void loop(Worker& w);
  void grow();
  void requestStop(std::optional<Error> why);
  void stopWorkers();

  const Supervisor& sup;
  const kernel::NotifyFd& listener;
  const pthread_t serveThread = pthread_self();
  std::atomic<unsigned> idle{0};  // workers waiting in RECV
  std::atomic<bool> stop{false};
  std::mutex mu;  // guards everything below
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<Error> failure;
  bool cannotGrow = false;
};

// RECV blocks until a notification arrives; no poll() per probe. It
// returns ENOENT when the filter loses its last user (Linux 6.11+) or
// EINTR from the watchdog (older kernels) or from requestStop(): then a
// zero-timeout poll() tells whether the listener hung up.
void Supervisor::Pool::loop(Worker& w) {
  auto channel = kernel::NotifyChannel::open(listener);
  if (!channel) {
    if (pthread_equal(pthread_self(), serveThread))
      requestStop(std::move(channel).error());
    else
      log::supervisor().debug("a worker could not start: {}", channel.error().message());
    return;
  }
  while (!stop.load(std::memory_order_acquire)) {
    idle.fetch_add(1, std::memory_order_relaxed);
    const uint64_t before = monotonicNs();
    int err = channel->recv();
    const bool waited = monotonicNs() - before > kRecvSleepThresholdNs;
    idle.fetch_sub(1, std::memory_order_relaxed);
    if (err == 0) {
      const seccomp_notif& n = channel->notif();
      const Reply r = sup.dispatch(n, listener, w.calls, w.counters);
      if (r.kind != Reply::Kind::Drop) {
        err = r.kind == Reply::Kind::Continue ? channel->sendContinue(n.id)
              : r.err != 0                    ? channel->sendError(n.id, r.err)
                                              : channel->sendValue(n.id, r.val);
        if (err == ENOENT)
          ++w.counters.gone;  // killed or interrupted meanwhile: normal
        else if (err != 0)
          log::supervisor().warn("Failed to send answer to pid {}: {}, ignoring", n.pid,
                                 errnoDescribe(err));
      }
      // This notification was queued before we asked for it (RECV did not
      // sleep) and no other worker is waiting: probes are queueing up.
      if (!waited && idle.load(std::memory_order_relaxed) == 0)
        grow();
      continue;
    }
    if (stop.load(std::memory_order_acquire))
      return;
    if (err != EINTR && err != ENOENT) {
      requestStop(Error::fromErrno(err, "SECCOMP_IOCTL_NOTIF_RECV"));
      return;
    }
    pollfd pfd{listener.fd(), POLLIN, 0};
    if (poll(&pfd, 1, 0) < 0 && errno != EINTR) {
      requestStop(Error::fromErrno(errno, "poll(listener)"));
      return;
    }
    if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd.revents & POLLIN)) {
      requestStop(std::nullopt);
      return;
    }
  }
}

void Supervisor::Pool::grow() {
  std::lock_guard lock(mu);
  if (stop.load() || cannotGrow || workers.size() >= sup.options_.maxWorkers)
    return;
  auto w = std::make_unique<Worker>(sup.policy_, sup.options_.pageSize);
  Worker& ref = *w;
  try {
    ref.thread = std::thread([this, &ref] {
      loop(ref);
      ref.done.store(true, std::memory_order_release);
    });
  } catch (const std::system_error& e) {
    // Out of threads or memory: the workers we have go on serving.
    cannotGrow = true;
    log::supervisor().info("cannot start another supervisor thread ({}); serving with {}",
                           e.what(), workers.size());
    return;
  }
  workers.push_back(std::move(w));
}

void Supervisor::Pool::requestStop(std::optional<Error> why) {
  std::lock_guard lock(mu);
  if (why && !failure)
    failure = std::move(why);
  if (stop.exchange(true, std::memory_order_acq_rel))
    return;
  // serve() stops the others; it only needs waking. Should this signal land
  // just before its RECV, the 1 s watchdog wakes it instead.
  if (!pthread_equal(pthread_self(), serveThread))
    pthread_kill(serveThread, kStopSignal);
}

// Called by serve() once stop is set: signals every other worker until it
// has left its loop (a signal can land just before a RECV and be missed),
// then joins them.
void Supervisor::Pool::stopWorkers() {
  for (;;) {
    bool all = true;
    {
      std::lock_guard lock(mu);
      for (size_t i = 1; i < workers.size(); ++i)
        if (!workers[i]->done.load(std::memory_order_acquire)) {
          all = false;
          pthread_kill(workers[i]->thread.native_handle(), kStopSignal);
        }
    }
    if (all)
      break;
    const timespec pause{0, 2'000'000};
    nanosleep(&pause, nullptr);
  }
  for (size_t i = 1; i < workers.size(); ++i)
    workers[i]->thread.join();
}

Supervisor::Supervisor(policy::EffectivePolicy policy, SupervisorOptions options, AuditLog audit)
    : policy_(std::move(policy)),
      options_(std::move(options)),
      probes_(policy_.answers, ProbeConfig{policy_.probeErrno, options_.pageSize}),
      audit_(std::move(audit)) {}

Result<std::unique_ptr<Supervisor>> Supervisor::create(policy::EffectivePolicy policy,
                                                       SupervisorOptions options) {
  if (policy.probeErrno <= 0 || policy.probeErrno >= 4096)
    return Error(EINVAL, "probe errno must be between 1 and 4095");
  if (options.maxWorkers == 0)
    return Error(EINVAL, "the supervisor needs at least one thread");
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

Reply Supervisor::dispatch(const seccomp_notif& n, const kernel::NotifyFd& listener,
                           CallHandler& calls, Counters& counters) const {
  const kernel::SyscallDesc* d = lookup_.find(n.data.arch, static_cast<int>(n.data.nr));
  if (d == nullptr) {
    // Not something our filter notifies: answer what the kernel answers when
    // no supervisor is there.
    log::supervisor().warn("Unexpected notification: arch {:#x} nr {} from pid {}, answering ENOSYS",
                           n.data.arch, n.data.nr, n.pid);
    ++counters.rejected;
    return {Reply::Kind::Send, ENOSYS, "rejected"};
  }
  const bool probe = n.data.args[d->sizeArg] & uapi::kCheckFields;
  const policy::EffectiveSyscall& decided = policy_.of(d->id);
  Reply r;
  if (probe && decided.probe == policy::ProbeMode::Emulate)
    r = probes_.handle(n, *d, listener, counters);
  else if (!probe && decided.call == policy::CallMode::Restrict)
    r = calls.handle(n, *d, listener, counters);
  else
    r = {Reply::Kind::Send, ENOSYS, "rejected"};
  if (audit_.enabled())
    audit_.write({&n, d->name.data(), probe ? "probe" : "call",
                  n.data.args[d->sizeArg] & ~uapi::kCheckFields, r.decision,
                  r.kind == Reply::Kind::Send ? r.err : 0});
  return r;
}

Reply Supervisor::decide(const seccomp_notif& n, const kernel::NotifyFd& listener) {
  if (!decideCalls_)
    decideCalls_ = std::make_unique<CallHandler>(policy_, options_.pageSize);
  return dispatch(n, listener, *decideCalls_, counters_);
}

Status Supervisor::serve(UniqueFd listenerFd) {
  auto made = kernel::NotifyFd::create(std::move(listenerFd));
  if (!made)
    return std::move(made).error();
  const kernel::NotifyFd& listener = *made;

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
  InterruptingSignal watchdogSignal(kWatchdogSignal), stopSignal(kStopSignal);
  RecvWatchdog watchdog;  // destroyed first: no tick after the handler goes
  if (auto st = watchdogSignal.install(); !st)
    return std::move(st).error();
  if (auto st = stopSignal.install(); !st)
    return std::move(st).error();
  if (auto st = watchdog.arm(); !st)
    return std::move(st).error();

  Pool pool(*this, listener);
  pool.workers.reserve(options_.maxWorkers);  // grow() never reallocates
  pool.workers.push_back(std::make_unique<Pool::Worker>(policy_, options_.pageSize));
  pool.loop(*pool.workers.front());
  pool.requestStop(std::nullopt);  // a no-op unless loop() failed to start
  pool.stopWorkers();

  counters_ = {};
  for (const auto& w : pool.workers)
    counters_ += w->counters;
  workersStarted_ = static_cast<unsigned>(pool.workers.size());
  if (pool.failure)
    return std::move(*pool.failure);
  log::supervisor().debug("listener has no tasks left: {} worker(s); answered {}, rejected {}, "
                          "faulted {}, gone {}, unwritable {}, calls allowed {}, denied {}",
                          workersStarted_, counters_.answered, counters_.rejected,
                          counters_.faulted, counters_.gone, counters_.unwritable,
                          counters_.allowed, counters_.denied);
  return okStatus();
}

}  // namespace extsys::supervisor
