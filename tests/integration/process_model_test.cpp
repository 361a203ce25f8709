// SPDX-License-Identifier: MIT
// process_model_test (integration, run_contract) - what differs between the
// process models and what must not: signals sent to extsys, terminal job
// control (^Z, ^C under a pty with a tiny job-control shell), SIGKILL to
// extsys, the supervisor's fds (close_range failing too), LISTEN_PID; the
// ancestor model's supervisor dying; and the automatic choice under Yama
// (those tests run where /proc/sys/kernel/yama/ptrace_scope says so).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "run_contract.h"

namespace extsys::test {

int yamaScope() {
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  int scope = -1;
  if (!(in >> scope))
    return -1;
  return scope;
}

static bool haveCapSysPtrace() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("CapEff:", 0) == 0)
      return (std::stoull(line.substr(7), nullptr, 16) >> 19) & 1;  // CAP_SYS_PTRACE
  return false;
}

bool outsiderCannotWrite() { return yamaScope() >= 1 && !haveCapSysPtrace(); }

ProcStat procStat(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  ProcStat s;
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos)
    return s;
  std::istringstream rest(text.substr(paren + 2));
  rest >> s.state >> s.ppid >> s.pgrp >> s.session;
  return s;
}

// Whether PID blocks SIG (SigBlk in /proc/PID/status).
static bool blocks(long pid, int sig) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("SigBlk:", 0) == 0)
      return (std::stoull(line.substr(7), nullptr, 16) >> (sig - 1)) & 1;
  return false;
}

std::string procComm(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long numberAfter(const std::string& text, const std::string& key) {
  const size_t at = text.find(key);
  return at == std::string::npos ? -1 : std::stol(text.substr(at + key.size()));
}

size_t countOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// Signals sent to extsys's pid reach PROGRAM once: in place it is PROGRAM;
// as an ancestor extsys forwards them (sigqueue's value and sender intact).
TEST_P(Contract, SignalsSentToExtsysReachProgramOnce) {
  Spawned p({extsys({binary("PROCESS_CASES"), "signals", "5"}), {}, 60, {}});
  ASSERT_NE(p.waitForOut("ready ", 30), std::string::npos) << p.err();
  const std::string sender = std::to_string(ancestor() ? p.pid() : getpid());
  size_t from = 0;
  for (auto [sig, name] : {std::pair{SIGTERM, "TERM"}, {SIGINT, "INT"}, {SIGHUP, "HUP"},
                           {SIGUSR1, "USR1"}}) {
    ASSERT_EQ(kill(p.pid(), sig), 0);
    const std::string line = std::string(name) + " from=" + sender + " code=user\n";
    const size_t at = p.waitForOut(line, 20, from);
    ASSERT_NE(at, std::string::npos) << "no " << line << p.out() << p.err();
    from = at + 1;
  }
  sigval value{};
  value.sival_int = 4242;
  ASSERT_EQ(sigqueue(p.pid(), SIGUSR2, value), 0);
  const std::string queued = "USR2 from=" + std::to_string(getpid()) + " code=queue:4242\n";
  EXPECT_NE(p.waitForOut(queued, 20, from), std::string::npos) << p.out() << p.err();
  RunResult r = p.finish();
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_EQ(countOf(r.out, " from="), 5u) << "a signal arrived twice or not at all\n" << r.out;
}

// SIGKILL cannot be forwarded: in place it kills PROGRAM itself; as an
// ancestor the supervisor sees extsys die first and kills PROGRAM.
TEST_P(Contract, SigkillToExtsysEndsProgram) {
  Spawned p({extsys({binary("PROCESS_CASES"), "pause"}), {}, 20, {}});
  ASSERT_NE(p.waitForOut("ready ", 30), std::string::npos) << p.err();
  const long program = numberAfter(p.out(), "ready ");
  EXPECT_EQ(program == p.pid(), !ancestor());
  ASSERT_EQ(kill(p.pid(), SIGKILL), 0);
  RunResult r = p.finish();  // EOF only once PROGRAM is gone
  EXPECT_FALSE(r.timedOut) << "PROGRAM outlived SIGKILL to extsys\n" << r.describe();
  EXPECT_EQ(r.signal(), SIGKILL) << r.describe();
}

// systemd socket activation: LISTEN_PID names extsys's pid; PROGRAM must see
// its own.
TEST_P(Contract, ListenPidNamesProgram) {
  RunResult r = run({extsys({"/bin/sh", "-c", "echo \"$LISTEN_PID $$\""}), {}, 30,
                     [] { setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1); }});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  std::istringstream in(r.out);
  long listenPid = 0, self = 1;
  in >> listenPid >> self;
  EXPECT_EQ(listenPid, self) << r.out;
  // Another process's LISTEN_PID is left alone.
  r = run({extsys({"/bin/sh", "-c", "echo \"$LISTEN_PID\""}), {"LISTEN_PID=1"}, 30, {}});
  EXPECT_EQ(r.out, "1\n");
}

// The supervisor holds none of the caller's fds (a pipe passed as fd 9
// here), also where close_range(2) fails (5.8, or a seccomp profile).
TEST_P(Contract, SupervisorHoldsNoneOfTheCallersFds) {
  for (bool denyCloseRange : {false, true}) {
    TempDir d;
    const std::string log = d.path + "/log";
    int pipeFds[2];
    ASSERT_EQ(pipe(pipeFds), 0);
    std::vector<std::string> argv = extsys({binary("PROCESS_CASES"), "signals", "1"},
                                           {"--log-level", "info", "--log-file", log});
    if (denyCloseRange)
      argv.insert(argv.begin(), {binary("PROCESS_CASES"), "deny_close_range"});
    const int writeEnd = pipeFds[1];
    Spawned p({argv, {}, 60, [writeEnd] { dup2(writeEnd, 9); }});
    close(pipeFds[1]);
    ASSERT_NE(p.waitForOut("ready ", 30), std::string::npos) << p.err();
    long sup = -1;
    for (double end = now() + 10 * timeScale(); sup < 0 && now() < end;) {
      std::ifstream in(log);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      sup = numberAfter(text, "extsys supervisor[");
      if (sup < 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_GT(sup, 0) << "no supervisor line in the log";
    std::vector<std::string> held;
    std::error_code listed;
    std::filesystem::directory_iterator supFds("/proc/" + std::to_string(sup) + "/fd", listed);
    if (listed == std::errc::permission_denied) {
      kill(p.pid(), SIGTERM);
      (void)p.finish();
      close(pipeFds[0]);
      GTEST_SKIP() << "the supervisor is not dumpable: this uid cannot list its fds";
    }
    for (const auto& e : supFds) {
      std::error_code ec;
      held.push_back(e.path().filename().string() + " -> " +
                     std::filesystem::read_symlink(e.path(), ec).string());
    }
    for (const auto& h : held)
      EXPECT_EQ(h.find("pipe:"), std::string::npos)
          << (denyCloseRange ? "close_range failing: " : "") << "the supervisor holds " << h;
    if (ancestor()) {
      // extsys itself lets go of them once PROGRAM runs (EOF and EPIPE come
      // as in place).
      std::vector<std::string> front;
      for (double end = now() + 5 * timeScale(); now() < end;) {
        front.clear();
        for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(p.pid()) + "/fd")) {
          std::error_code ec;
          const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
          if (target.find("pipe:") != std::string::npos)
            front.push_back(e.path().filename().string() + " -> " + target);
        }
        if (front.empty())
          break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      EXPECT_TRUE(front.empty()) << "extsys still holds " << front.front();
    }
    ASSERT_EQ(kill(p.pid(), SIGTERM), 0);
    RunResult r = p.finish();
    close(pipeFds[0]);
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
  }
}

// A tiny job-control shell on a new pty: session leader with the pty as its
// terminal, PROGRAM's command as its foreground job; it reports the job's
// state changes ("job PID", "stopped SIG", "continued", "exited N",
// "signaled N") on a pipe.
class PtyShell {
public:
  explicit PtyShell(const std::vector<std::string>& argv) {
    master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0)
      throw std::runtime_error("no pty");
    const std::string slave = ptsname(master_);
    int ev[2];
    if (pipe2(ev, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe2");
    shell_ = fork();
    if (shell_ == 0)
      shell(slave, argv, ev[1]);
    close(ev[1]);
    events_ = ev[0];
  }
  ~PtyShell() {
    if (job_ > 0)
      kill(-job_, SIGKILL);
    kill(shell_, SIGKILL);
    waitpid(shell_, nullptr, 0);
    close(master_);
    close(events_);
  }
  void type(const char* bytes) { ASSERT_GT(write(master_, bytes, strlen(bytes)), 0); }
  pid_t job() const { return job_; }
  const std::string& screen() const { return screen_; }
  const std::string& events() const { return events_text_; }
  bool waitScreen(const std::string& text, double seconds) {
    return waitIn(master_, screen_, text, seconds);
  }
  bool waitEvent(const std::string& text, double seconds) {
    return waitIn(events_, events_text_, text, seconds);
  }

private:
  [[noreturn]] static void shell(const std::string& slave, const std::vector<std::string>& argv, int ev) {
    setsid();
    int tty = open(slave.c_str(), O_RDWR);  // becomes the controlling terminal
    if (tty < 0 || ioctl(tty, TIOCSCTTY, 0) != 0)
      _exit(90);
    const int jobSignals[] = {SIGTTOU, SIGTTIN, SIGTSTP, SIGINT, SIGQUIT};
    for (int s : jobSignals)
      signal(s, SIG_IGN);  // as an interactive shell does
    pid_t job = fork();
    if (job == 0) {
      setpgid(0, 0);
      tcsetpgrp(tty, getpid());
      for (int s : jobSignals)
        signal(s, SIG_DFL);
      dup2(tty, 0);
      dup2(tty, 1);
      dup2(tty, 2);
      std::vector<char*> args;
      for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(99);
    }
    setpgid(job, job);
    tcsetpgrp(tty, job);
    dprintf(ev, "job %d\n", job);
    for (;;) {
      int st = 0;
      if (waitpid(job, &st, WUNTRACED | WCONTINUED) < 0) {
        if (errno == EINTR)
          continue;
        _exit(91);
      }
      if (WIFSTOPPED(st)) {
        dprintf(ev, "stopped %d\n", WSTOPSIG(st));
      } else if (WIFCONTINUED(st)) {
        dprintf(ev, "continued\n");
      } else {
        dprintf(ev, WIFEXITED(st) ? "exited %d\n" : "signaled %d\n",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        _exit(0);
      }
    }
  }

  bool waitIn(int fd, std::string& buf, const std::string& text, double seconds) {
    const double end = now() + seconds * timeScale();
    while (buf.find(text) == std::string::npos) {
      const int left = static_cast<int>((end - now()) * 1000);
      pollfd p{fd, POLLIN, 0};
      if (left <= 0 || poll(&p, 1, left) <= 0)
        return false;
      char chunk[1024];
      const ssize_t n = read(fd, chunk, sizeof chunk);
      if (n <= 0)
        return buf.find(text) != std::string::npos;
      buf.append(chunk, static_cast<size_t>(n));
      if (job_ < 0 && &buf == &events_text_)
        job_ = static_cast<pid_t>(numberAfter(buf, "job "));
    }
    return true;
  }

  int master_ = -1, events_ = -1;
  pid_t shell_ = -1, job_ = -1;
  std::string screen_, events_text_;
};

// ^Z stops the job (extsys stops with PROGRAM, so the shell sees it), the
// shell's SIGCONT resumes both, SIGTSTP sent to extsys alone stops PROGRAM
// too, and ^C reaches PROGRAM exactly once.
TEST_P(Contract, JobControlUnderATerminal) {
  PtyShell sh(extsys({binary("PROCESS_CASES"), "signals", "1"}));
  ASSERT_TRUE(sh.waitScreen("ready ", 30)) << sh.screen();
  ASSERT_TRUE(sh.waitEvent("job ", 5)) << sh.events();
  const long program = numberAfter(sh.screen(), "ready ");
  sh.type("\x1a");  // ^Z
  ASSERT_TRUE(sh.waitEvent("stopped 20\n", 20)) << "the job did not stop: " << sh.events();
  EXPECT_EQ(procStat(program).state, 'T') << "PROGRAM is not stopped";
  ASSERT_EQ(kill(-sh.job(), SIGCONT), 0);  // fg
  ASSERT_TRUE(sh.waitEvent("continued\n", 20)) << sh.events();
  if (ancestor()) {
    // extsys stops itself with SIGTSTP unblocked: one sent in the instant
    // after it resumes, before it blocks the signal again, stops extsys
    // alone (the documented window; PROGRAM then runs on until fg).
    for (double end = now() + 10 * timeScale(); !blocks(sh.job(), SIGTSTP) && now() < end;)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(kill(sh.job(), SIGTSTP), 0);  // to extsys alone
  ASSERT_TRUE(sh.waitEvent("stopped 20\ncontinued\nstopped 20\n", 20)) << sh.events();
  EXPECT_EQ(procStat(program).state, 'T') << "PROGRAM is not stopped";
  ASSERT_EQ(kill(-sh.job(), SIGCONT), 0);
  ASSERT_TRUE(sh.waitEvent("stopped 20\ncontinued\nstopped 20\ncontinued\n", 20)) << sh.events();
  sh.type("\x03");  // ^C: PROGRAM reports it and exits 0
  ASSERT_TRUE(sh.waitEvent("exited 0\n", 20)) << sh.events() << "\n" << sh.screen();
  // All it wrote is in the pty by now (it exits 300 ms after the last signal).
  sh.waitScreen("a line that never comes", 0.3);
  EXPECT_EQ(countOf(sh.screen(), "INT from="), 1u) << sh.screen();
  EXPECT_NE(sh.screen().find("INT from=0 code=kernel"), std::string::npos) << sh.screen();
}

// ^C kills a PROGRAM that does not catch it, and the shell sees the job die
// of SIGINT (a shell script's loop stops on that).
TEST_P(Contract, TerminalInterruptKillsTheJob) {
  PtyShell sh(extsys({binary("PROCESS_CASES"), "pause"}));
  ASSERT_TRUE(sh.waitScreen("ready ", 30)) << sh.screen();
  sh.type("\x03");
  EXPECT_TRUE(sh.waitEvent("signaled 2\n", 20)) << sh.events() << "\n" << sh.screen();
}

}  // namespace

// The ancestor model's supervisor dies (SIGKILL, OOM): PROGRAM runs on (its
// probes get ENOSYS, as in place), becomes extsys's child (extsys is a child
// subreaper too), and its status still reaches the shell; extsys logs why.
TEST(AncestorModel, SupervisorDeathLeavesProgramRunningAndItsStatusArrives) {
  TempDir d;
  const std::string log = d.path + "/log";
  Spawned p({{binary("EXTSYS"), "run", "--process-model", "ancestor", "--log-file", log, "--",
              "/bin/sh", "-c",
              "echo parent $PPID; while kill -0 $PPID 2>/dev/null; do sleep 0.05; done; "
              "read -r _ _ _ pp _ < /proc/$$/stat; echo now $pp; exit 7"},
             {}, 60, {}});
  ASSERT_NE(p.waitForOut("parent ", 30), std::string::npos) << p.err();
  const long sup = numberAfter(p.out(), "parent ");
  ASSERT_EQ(procComm(sup), "extsys-super");
  ASSERT_EQ(kill(static_cast<pid_t>(sup), SIGKILL), 0);
  RunResult r = p.finish();
  EXPECT_EQ(r.exitCode(), 7) << r.describe();
  EXPECT_NE(r.out.find("now " + std::to_string(r.pid)), std::string::npos) << r.out;
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("the supervisor (pid " + std::to_string(sup) + ") was killed by signal 9"),
            std::string::npos)
      << text;
}

// (Contract is instantiated for both models in launcher_test.cpp.)

// ---- the automatic choice, where the kernel has Yama ----

TEST(Yama, WithoutYamaAutoIsInPlace) {
  if (yamaScope() >= 0)
    GTEST_SKIP() << "this kernel has Yama (ptrace_scope=" << yamaScope() << ")";
  RunResult r = run({{binary("EXTSYS"), "run", "--log-level", "info", "--", "/bin/true"}, {}, 30, {}});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.err.find("process model: in-place (no Yama"), std::string::npos) << r.err;
}

TEST(Yama, Scope1UnprivilegedAutoIsAncestorAndAnswers) {
  if (yamaScope() != 1 || !canBeNobody())
    GTEST_SKIP() << "needs Yama ptrace_scope=1 and root or uid 65534";
  RunResult r = run({{binary("EXTSYS"), "run", "--log-level", "info", "--", binary("PROBE_CASES"),
                      "run", "clone3_cf_v2", "openat2_cf_misalign_3", "desc_fork_grandchild"},
                     {"EXTSYS_EXPECT=emulated"}, 60, asNobody});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.err.find("process model: ancestor (Yama ptrace_scope=1 without CAP_SYS_PTRACE"),
            std::string::npos)
      << r.err;
}

// What the ancestor model is for: in place, an unprivileged supervisor may
// not write into PROGRAM there, so probes get E2BIG (as from the kernel), and
// extsys says so.
TEST(Yama, Scope1InPlaceForcedAnswersE2bigAndWarns) {
  if (yamaScope() != 1 || !canBeNobody())
    GTEST_SKIP() << "needs Yama ptrace_scope=1 and root or uid 65534";
  RunResult r = run({{binary("EXTSYS"), "run", "--process-model", "in-place", "--",
                      binary("PROBE_CASES"), "run", "clone3_cf_v2", "openat2_cf_misalign_3"},
                     {"EXTSYS_EXPECT=native"}, 60, asNobody});
  EXPECT_EQ(r.exitCode(), 0) << "probes were not answered E2BIG\n" << r.describe();
  EXPECT_NE(r.err.find("every probe will be answered E2BIG"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--process-model ancestor would work"), std::string::npos) << r.err;
}

TEST(Yama, Scope2UnprivilegedRefusesWithOneLine) {
  if (yamaScope() != 2 || !canBeNobody())
    GTEST_SKIP() << "needs Yama ptrace_scope=2 and root or uid 65534";
  RunResult r = run({{binary("EXTSYS"), "run", "--", "/bin/true"}, {}, 30, asNobody});
  EXPECT_EQ(r.exitCode(), 125) << r.describe();
  EXPECT_EQ(countOf(r.err, "\n"), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("extsys: run: Yama ptrace_scope=2 lets only CAP_SYS_PTRACE holders", 0), 0u)
      << r.err;
  EXPECT_NE(r.err.find("--process-model"), std::string::npos) << r.err;
  // Forced, it runs (and says what probes will get).
  r = run({{binary("EXTSYS"), "run", "--process-model", "ancestor", "--", "/bin/true"}, {}, 30, asNobody});
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.err.find("E2BIG"), std::string::npos) << r.err;
  // With CAP_SYS_PTRACE (root) scope 2 is no obstacle: in place, answered.
  if (geteuid() == 0) {
    r = run({{binary("EXTSYS"), "run", "--log-level", "info", "--", binary("PROBE_CASES"), "run",
              "clone3_cf_v2"},
             {"EXTSYS_EXPECT=emulated"}, 60, {}});
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
    EXPECT_NE(r.err.find("process model: in-place"), std::string::npos) << r.err;
  }
}

}  // namespace extsys::test
