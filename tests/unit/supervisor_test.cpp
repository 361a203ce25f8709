// SPDX-License-Identifier: MIT
// supervisor_test - serve() in this process, on a real listener: a child
// installs a filter that notifies nothing, hands the listener over and
// exits a little over a second later, so the watchdog ticks while serve()
// runs. Afterwards the process must be as before: the SIGALRM and SIGUSR2
// handlers and this thread's signal mask restored, no timer left, and no
// watchdog tick arriving later.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/fd_passing.h"
#include "kernel/features/feature_set.h"
#include "supervisor/supervisor.h"

namespace extsys::supervisor {
namespace {

std::atomic<int> alarms{0};
void countAlarm(int) { alarms.fetch_add(1); }

// A listener whose filter's only user is a child that exits after `ms`.
UniqueFd listenerOfChildExitingAfter(int ms, pid_t& child) {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  child = fork();
  if (child == 0) {
    close(sv[0]);
    sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    sock_fprog prog{1, &allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      _exit(10);
    long fd =
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0 || !sendWithFd(sv[1], "L", static_cast<int>(fd)))
      _exit(11);
    close(static_cast<int>(fd));
    usleep(static_cast<useconds_t>(ms) * 1000);
    _exit(0);
  }
  close(sv[1]);
  auto got = recvWithFd(sv[0], 16);
  close(sv[0]);
  EXPECT_TRUE(got.ok());
  return got ? std::move(got->fd) : UniqueFd();
}

// The lines of /proc/self/timers: one block per POSIX timer of the process.
std::string posixTimers() {
  std::ifstream in("/proc/self/timers");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Supervisor, ServeLeavesNoTimerHandlerOrMaskBehind) {
  struct sigaction mine {};
  mine.sa_handler = countAlarm;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(sigaction(SIGALRM, &mine, nullptr), 0);
  struct sigaction usr2Before {};
  ASSERT_EQ(sigaction(SIGUSR2, nullptr, &usr2Before), 0);
  sigset_t block, maskBefore;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &maskBefore), 0);

  auto effective = policy::makeEffective(policy::defaultPolicy(),
                                         kernel::featuresForVersion({6, 18, 0}));
  ASSERT_TRUE(effective.ok());
  auto sup = Supervisor::create(std::move(*effective), {});
  ASSERT_TRUE(sup.ok()) << sup.error().message();
  pid_t child = -1;
  UniqueFd listener = listenerOfChildExitingAfter(1300, child);
  ASSERT_TRUE(listener.valid());
  // The child is reaped while serve() runs: on Debian's arm64 6.1 the
  // listener reported POLLHUP (serve()'s end) only once the exited task had
  // been reaped, so waiting for it after serve() hung there.
  int status = 0;
  pid_t reaped = -1;
  std::thread reaper([&] { reaped = waitpid(child, &status, 0); });
  auto served = (*sup)->serve(std::move(listener));
  reaper.join();
  EXPECT_TRUE(served.ok()) << served.error().message();
  ASSERT_EQ(reaped, child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  struct sigaction now {};
  ASSERT_EQ(sigaction(SIGALRM, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, countAlarm) << "SIGALRM's handler was not restored";
  ASSERT_EQ(sigaction(SIGUSR2, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, usr2Before.sa_handler) << "SIGUSR2's handler was not restored";
  sigset_t maskAfter;
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &maskAfter), 0);
  EXPECT_EQ(sigismember(&maskAfter, SIGUSR2), 1) << "the thread's mask was not restored";
  EXPECT_EQ(sigismember(&maskAfter, SIGALRM), sigismember(&maskBefore, SIGALRM));
  EXPECT_EQ(posixTimers(), "") << "a POSIX timer outlived serve()";
  itimerval real{};
  ASSERT_EQ(getitimer(ITIMER_REAL, &real), 0);
  EXPECT_EQ(real.it_interval.tv_sec, 0);
  EXPECT_EQ(real.it_value.tv_sec, 0);
  EXPECT_EQ(real.it_value.tv_usec, 0);

  alarms = 0;
  usleep(1'200'000);  // longer than the watchdog's period
  EXPECT_EQ(alarms.load(), 0) << "a watchdog tick arrived after serve() returned";

  pthread_sigmask(SIG_SETMASK, &maskBefore, nullptr);
  signal(SIGALRM, SIG_DFL);
}

}  // namespace
}  // namespace extsys::supervisor
