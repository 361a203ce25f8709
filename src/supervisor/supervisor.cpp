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

// Sent to a thread blocked in RECV or ppoll() to make it return EINTR once
// serve() is stopping; its handler does nothing.
constexpr int kStopSignal = SIGUSR2;

void onSignal(int) {}

// For the lifetime of the object: `sig` runs a handler that does nothing,
// without SA_RESTART (so RECV returns EINTR), and is unblocked in this
// thread. Then a signal still pending is dropped and the previous handler
// and mask come back - unless keepHandler() was called: a thread left
// behind may still have the signal pending, and the default action of
// SIGUSR2 would end the process.
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

  void keepHandler() { keep_ = true; }

  ~InterruptingSignal() {
    if (!installed_)
      return;
    sigset_t set = only();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    const timespec now{0, 0};
    while (sigtimedwait(&set, nullptr, &now) == sig_) {
    }
    if (!keep_)
      sigaction(sig_, &previous_, nullptr);
    pthread_sigmask(SIG_SETMASK, &previousMask_, nullptr);
  }

  sigset_t only() const {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig_);
    return set;
  }

private:
  int sig_;
  bool installed_ = false;
  bool keep_ = false;
  struct sigaction previous_ {};
  sigset_t previousMask_{};
};

// Whether RECV found a notification already queued or slept until one came,
// told by how long it took: a RECV that sleeps is woken by another thread's
// system call and takes several microseconds at the least; one that finds a
// notification waiting returns in about one. A short RECV is only a hint
// (with SYNC_WAKE_UP a sleeping RECV can take less than this on a fast
// machine): a second worker starts only when, after such a RECV, another
// notification is still queued once this one is answered, kGrowAfter times
// in a row. Only decides whether to start another worker, never anything a
// target sees; with one worker allowed nothing of this runs.
constexpr uint64_t kRecvSleepThresholdNs = 3000;
constexpr unsigned kGrowAfter = 4;

// How long serve() keeps signalling workers once the listener hung up,
// before it leaves the ones still blocked (in a page fault nobody services)
// behind.
constexpr int kStopGraceMs = 1000;

uint64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no system call
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

bool queued(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

}  // namespace

unsigned defaultWorkers() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return 1;
  return static_cast<unsigned>(std::clamp(CPU_COUNT(&set) / 2, 1, 8));
}

// Everything the workers read. Shared: a worker left behind by serve()
// keeps it alive after the Supervisor is gone.
struct Supervisor::Core {
  Core(policy::EffectivePolicy p, SupervisorOptions o, AuditLog a)
      : policy(std::move(p)),
        options(std::move(o)),
        probes(policy.answers, ProbeConfig{policy.probeErrno, options.pageSize}),
        audit(std::move(a)) {}
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  Reply dispatch(const seccomp_notif& n, const kernel::NotifyFd& listener, CallHandler& calls,
                 Counters& counters) const;

  const policy::EffectivePolicy policy;
  const SupervisorOptions options;
  const kernel::SyscallLookup lookup;
  const ProbeHandler probes;
  const AuditLog audit;
};

// The workers of one serve() call, and the listener they answer. Each
// worker thread holds a reference, so a worker left behind keeps all it
// uses.
struct Supervisor::Pool : std::enable_shared_from_this<Pool> {
  struct Worker {
    Worker(const policy::EffectivePolicy& p, uint64_t pageSize) : calls(p, pageSize) {}
    CallHandler calls;  // per worker: it has scratch space
    Counters counters;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  Pool(std::shared_ptr<const Core> c, kernel::NotifyFd l, pthread_t serving)
      : core(std::move(c)), listener(std::move(l)), serveThread(serving) {
    workers.reserve(core->options.maxWorkers);  // start() never reallocates
  }

  void loop(Worker& w);
  bool start();  // one more worker; false when none could start
  void maybeGrow(unsigned& streak);
  void requestStop(std::optional<Error> why);
  unsigned stopWorkers();  // returns how many were left behind

  const std::shared_ptr<const Core> core;
  const kernel::NotifyFd listener;
  const pthread_t serveThread;
  std::atomic<unsigned> idle{0};  // workers waiting in RECV
  std::atomic<bool> stop{false};
  std::atomic<bool> cannotGrow{false};  // set under mu; read without it
  std::mutex mu;  // guards everything below
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<Error> failure;
};

// RECV blocks until a notification arrives; no poll() per probe. It
// returns ENOENT when the filter loses its last user (Linux 6.11+) or
// EINTR from requestStop()/stopWorkers(): then a zero-timeout poll() tells
// whether the listener hung up (serve()'s thread notices that too, and
// stops the workers RECV keeps asleep on older kernels).
void Supervisor::Pool::loop(Worker& w) {
  auto channel = kernel::NotifyChannel::open(listener);
  if (!channel) {
    requestStop(std::move(channel).error());
    return;
  }
  unsigned streak = 0;
  const bool mayGrow = core->options.maxWorkers > 1;
  while (!stop.load(std::memory_order_acquire)) {
    idle.fetch_add(1, std::memory_order_relaxed);
    const uint64_t before = mayGrow ? monotonicNs() : 0;
    int err = channel->recv();
    const bool waited = mayGrow && monotonicNs() - before > kRecvSleepThresholdNs;
    idle.fetch_sub(1, std::memory_order_relaxed);
    if (err == 0) {
      const seccomp_notif& n = channel->notif();
      const Reply r = core->dispatch(n, listener, w.calls, w.counters);
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
      // This notification may have been queued before we asked for it (RECV
      // did not sleep) and no other worker is waiting: probes may be queueing.
      if (mayGrow && !waited && idle.load(std::memory_order_relaxed) == 0)
        maybeGrow(streak);
      else
        streak = 0;
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

// Confirms the hint: another notification already waits now that this one
// is answered. Stops asking once no worker can be added.
void Supervisor::Pool::maybeGrow(unsigned& streak) {
  if (cannotGrow.load(std::memory_order_relaxed))  // stale false: one poll() more
    return;
  if (!queued(listener.fd())) {
    streak = 0;
    return;
  }
  if (++streak < kGrowAfter)
    return;
  streak = 0;
  std::lock_guard lock(mu);
  if (stop.load() || cannotGrow)
    return;
  if (workers.size() >= core->options.maxWorkers) {
    cannotGrow = true;
    return;
  }
  if (!start())
    cannotGrow = true;
}

// Called with mu held (or before any worker runs).
bool Supervisor::Pool::start() {
  auto w = std::make_unique<Worker>(core->policy, core->options.pageSize);
  Worker& ref = *w;
  try {
    ref.thread = std::thread([self = shared_from_this(), &ref] {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, kStopSignal);
      pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
      self->loop(ref);
      ref.done.store(true, std::memory_order_release);
    });
  } catch (const std::system_error& e) {
    // Out of threads or memory: the workers we have go on serving.
    log::supervisor().info("cannot start another supervisor thread ({}); serving with {}",
                           e.what(), workers.size());
    return false;
  }
  workers.push_back(std::move(w));
  return true;
}

void Supervisor::Pool::requestStop(std::optional<Error> why) {
  std::lock_guard lock(mu);
  if (why && !failure)
    failure = std::move(why);
  if (stop.exchange(true, std::memory_order_acq_rel))
    return;
  // serve()'s thread stops the workers; it only needs waking from ppoll(),
  // which unblocks the signal atomically: it cannot be missed.
  if (!pthread_equal(pthread_self(), serveThread))
    pthread_kill(serveThread, kStopSignal);
}

// Called by serve() once stop is set: signals every worker until it has
// left its loop (a signal can land just before a RECV and be missed), then
// joins them. A worker still blocked after kStopGraceMs - in a page fault of
// a gone task's FUSE or userfaultfd page nobody services - is detached: it
// holds the pool, ends when its call returns, and is not waited for.
unsigned Supervisor::Pool::stopWorkers() {
  const timespec pause{0, 2'000'000};
  for (int waitedMs = 0;; waitedMs += 2) {
    bool all = true;
    {
      std::lock_guard lock(mu);
      for (const auto& w : workers)
        if (!w->done.load(std::memory_order_acquire)) {
          all = false;
          if (waitedMs < kStopGraceMs)
            pthread_kill(w->thread.native_handle(), kStopSignal);
        }
    }
    if (all || waitedMs >= kStopGraceMs)
      break;
    nanosleep(&pause, nullptr);
  }
  std::lock_guard lock(mu);
  unsigned leftBehind = 0;
  for (const auto& w : workers) {
    if (w->done.load(std::memory_order_acquire)) {
      w->thread.join();
    } else {
      w->thread.detach();
      ++leftBehind;
    }
  }
  return leftBehind;
}

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
  return std::unique_ptr<Supervisor>(new Supervisor(
      std::make_shared<const Core>(std::move(policy), std::move(options), std::move(audit))));
}

Reply Supervisor::Core::dispatch(const seccomp_notif& n, const kernel::NotifyFd& listener,
                           CallHandler& calls, Counters& counters) const {
  const kernel::SyscallDesc* d = lookup.find(n.data.arch, static_cast<int>(n.data.nr));
  if (d == nullptr) {
    // Not something our filter notifies: answer what the kernel answers when
    // no supervisor is there.
    log::supervisor().warn("Unexpected notification: arch {:#x} nr {} from pid {}, answering ENOSYS",
                           n.data.arch, n.data.nr, n.pid);
    ++counters.rejected;
    return {Reply::Kind::Send, ENOSYS, "rejected"};
  }
  const bool probe = n.data.args[d->sizeArg] & uapi::kCheckFields;
  const policy::EffectiveSyscall& decided = policy.of(d->id);
  Reply r;
  if (probe && decided.probe == policy::ProbeMode::Emulate)
    r = probes.handle(n, *d, listener, counters);
  else if (!probe && decided.call == policy::CallMode::Restrict)
    r = calls.handle(n, *d, listener, counters);
  else
    r = {Reply::Kind::Send, ENOSYS, "rejected"};
  if (audit.enabled())
    audit.write({&n, d->name.data(), probe ? "probe" : "call",
                  n.data.args[d->sizeArg] & ~uapi::kCheckFields, r.decision,
                  r.kind == Reply::Kind::Send ? r.err : 0});
  return r;
}

Reply Supervisor::decide(const seccomp_notif& n, const kernel::NotifyFd& listener) {
  if (!decideCalls_)
    decideCalls_ = std::make_unique<CallHandler>(core_->policy, core_->options.pageSize);
  return core_->dispatch(n, listener, *decideCalls_, counters_);
}

Status Supervisor::serve(UniqueFd listenerFd) {
  auto made = kernel::NotifyFd::create(std::move(listenerFd));
  if (!made)
    return std::move(made).error();

  const SyncWakeUp sync = core_->options.syncWakeUp;
  if (sync != SyncWakeUp::Off) {
    // Wake the target on the CPU that answers it (6.6+). Optional: older
    // kernels simply lack it.
    if (int err = made->enableSyncWakeUp(); err != 0) {
      if (sync == SyncWakeUp::On)
        log::supervisor().warn("SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP unavailable: {}, ignoring",
                               errnoDescribe(err));
      else
        log::supervisor().debug("SYNC_WAKE_UP unavailable: {}", errnoName(err));
    }
  }
  InterruptingSignal stopSignal(kStopSignal);
  if (auto st = stopSignal.install(); !st)
    return std::move(st).error();
  // Blocked in this thread except inside ppoll(), which unblocks it
  // atomically; the workers unblock it for themselves.
  const sigset_t stopOnly = stopSignal.only();
  sigset_t inPoll;
  pthread_sigmask(SIG_BLOCK, &stopOnly, &inPoll);
  sigdelset(&inPoll, kStopSignal);

  auto pool = std::make_shared<Pool>(core_, std::move(*made), pthread_self());
  {
    std::lock_guard lock(pool->mu);
    if (!pool->start())
      return Error(EAGAIN, "cannot start the supervisor's worker thread");
  }
  // This thread only waits for the hang-up. poll() with no event asked for
  // sleeps through the listener's EPOLLIN/EPOLLOUT wake-ups (they carry a
  // key this waiter does not match), so it costs the probes nothing.
  while (!pool->stop.load(std::memory_order_acquire)) {
    pollfd pfd{pool->listener.fd(), 0, 0};
    const int n = ppoll(&pfd, 1, nullptr, &inPoll);
    if (n < 0 && errno != EINTR) {
      pool->requestStop(Error::fromErrno(errno, "ppoll(listener)"));
      break;
    }
    if (n > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
      pool->requestStop(std::nullopt);
  }
  workersLeftBehind_ = pool->stopWorkers();
  if (workersLeftBehind_ != 0) {
    stopSignal.keepHandler();
    log::supervisor().info("{} worker(s) left behind, blocked in a system call on a gone task",
                           workersLeftBehind_);
  }

  std::lock_guard lock(pool->mu);
  counters_ = {};
  for (const auto& w : pool->workers)
    if (!w->thread.joinable() && w->done.load(std::memory_order_acquire))
      counters_ += w->counters;
  workersStarted_ = static_cast<unsigned>(pool->workers.size());
  if (pool->failure)
    return std::move(*pool->failure);
  log::supervisor().debug("listener has no tasks left: {} worker(s); answered {}, rejected {}, "
                          "faulted {}, gone {}, unwritable {}, calls allowed {}, denied {}",
                          workersStarted_, counters_.answered, counters_.rejected,
                          counters_.faulted, counters_.gone, counters_.unwritable,
                          counters_.allowed, counters_.denied);
  return okStatus();
}

}  // namespace extsys::supervisor
