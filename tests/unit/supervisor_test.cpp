// SPDX-License-Identifier: MIT
// supervisor_test - serve() in this process, on a real listener: a child
// installs a filter that notifies nothing, hands the listener over and
// exits a little over a second later. Afterwards the process must be as
// before: the SIGALRM and SIGUSR2 handlers and this thread's signal mask
// restored, no timer left, and no timer tick arriving later. And serve()
// returns once its program is gone even when a worker is stuck writing an
// answer into a page whose faults nobody services (userfaultfd here; a FUSE
// file nobody serves blocks the same way).
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/fd_passing.h"
#include "kernel/abi/uapi_compat.h"
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

// A child whose only notified call is openat2, probing with `how` on a page
// registered with a userfaultfd (missing-page mode) that the test holds and
// never services: the worker writing the answer blocks in process_vm_writev
// until the userfaultfd is closed. The child is then killed; serve() must
// return anyway (before issue 22 the worker was serve()'s own thread, and it
// returned only once the test closed the userfaultfd).
TEST(Supervisor, ServeReturnsWhenItsProgramIsGoneWhateverAWorkerIsBlockedIn) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(sv[0]);
    long uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
    if (uffd < 0) {
      (void)sendWithFd(sv[1], "no userfaultfd", -1);
      _exit(0);
    }
    uffdio_api api{};
    api.api = UFFD_API;
    void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uffdio_register reg{};
    reg.range = {reinterpret_cast<uint64_t>(page), 4096};
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    if (ioctl(static_cast<int>(uffd), UFFDIO_API, &api) != 0 || page == MAP_FAILED ||
        ioctl(static_cast<int>(uffd), UFFDIO_REGISTER, &reg) != 0)
      _exit(12);
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{4, code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      _exit(10);
    long fd =
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0 || !sendWithFd(sv[1], "L", static_cast<int>(fd)) ||
        !sendWithFd(sv[1], "U", static_cast<int>(uffd)))
      _exit(11);
    close(static_cast<int>(fd));
    close(static_cast<int>(uffd));
    syscall(SYS_openat2, AT_FDCWD, "/", page, 24 | uapi::kCheckFields);
    _exit(0);
  }
  close(sv[1]);
  auto listener = recvWithFd(sv[0], 32);
  ASSERT_TRUE(listener.ok());
  if (!listener->fd.valid()) {
    waitpid(child, nullptr, 0);
    GTEST_SKIP() << "userfaultfd is not available to this user";
  }
  auto uffd = recvWithFd(sv[0], 32);
  close(sv[0]);
  ASSERT_TRUE(uffd.ok() && uffd->fd.valid());

  auto effective = policy::makeEffective(policy::defaultPolicy(),
                                         kernel::featuresForVersion({6, 18, 0}));
  ASSERT_TRUE(effective.ok());
  auto sup = Supervisor::create(std::move(*effective), {});
  ASSERT_TRUE(sup.ok()) << sup.error().message();
  std::packaged_task<Status()> serving(
      [&] { return (*sup)->serve(std::move(listener->fd)); });
  std::future<Status> served = serving.get_future();
  std::thread server(std::move(serving));

  // The worker's write faults: the userfaultfd reports it (and we never
  // answer). Then the program goes away.
  pollfd pfd{uffd->fd.get(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10'000), 1) << "the answer was never written";
  uffd_msg msg{};
  ASSERT_EQ(read(uffd->fd.get(), &msg, sizeof msg), static_cast<ssize_t>(sizeof msg));
  EXPECT_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);

  const bool returned = served.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  uffd->fd.reset();  // the worker's write completes: everything can end now
  server.join();
  ASSERT_TRUE(returned) << "serve() did not return within 10 s of its program's end";
  EXPECT_TRUE(served.get().ok());
  EXPECT_EQ((*sup)->workersLeftBehind(), 1u);
  // The worker left behind ends by itself once its write returns.
  auto threads = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                         std::filesystem::directory_iterator{});
  };
  for (int i = 0; i < 500 && threads() > 1; ++i)
    usleep(10'000);
  EXPECT_EQ(threads(), 1) << "the worker left behind did not end";
}

}  // namespace
}  // namespace extsys::supervisor
