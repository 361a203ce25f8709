// SPDX-License-Identifier: MIT
// app/matrix_command.cpp - `extsys matrix [OPTIONS] -- COMMAND [ARGS...]`:
// one `extsys run --audit` per persona, in parallel, each in its own
// process group with its output in files.
#include "app/matrix_command.h"

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "app/usage.h"
#include "policy/personas.h"

namespace extsys::app {
namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t gInterrupted = 0;
void onInterrupt(int sig) { gInterrupted = sig; }

int matrixFatal(int status, const std::string& message) {
  std::fprintf(stderr, "extsys: matrix: %s\n", message.c_str());
  return status;
}

double epochNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The personas to run: --kernels, else every one of the version table.
Result<std::vector<kernel::KernelVersion>> chosenKernels(const MatrixOptions& o) {
  if (o.kernels.empty())
    return policy::listedPersonas();
  std::vector<kernel::KernelVersion> out;
  std::stringstream in(o.kernels);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto v = policy::parsePersonaName("kernel-" + item);
    if (!v)
      return Error(EINVAL, "--kernels: '" + item + "' is not a kernel release extsys has a "
                           "persona for (X.Y in " + policy::knownPersonaReleases() + ")");
    if (std::find(out.begin(), out.end(), *v) == out.end())
      out.push_back(*v);
  }
  if (out.empty())
    return Error(EINVAL, "--kernels: no kernel given");
  return out;
}

std::vector<MatrixRun> planRuns(const std::vector<kernel::KernelVersion>& kernels,
                                const std::string& dir) {
  std::vector<MatrixRun> runs;
  auto add = [&](std::string label, std::string name, std::string policyArg) {
    MatrixRun r;
    r.label = std::move(label);
    r.name = std::move(name);
    r.policy = std::move(policyArg);
    r.outPath = dir + "/" + r.name + ".stdout";
    r.errPath = dir + "/" + r.name + ".stderr";
    r.auditPath = dir + "/" + r.name + ".audit.jsonl";
    runs.push_back(std::move(r));
  };
  add("this kernel", "this-kernel", "default");
  add("no CHECK_FIELDS", "no-check-fields", "no-check-fields");
  for (const auto& v : kernels)
    add(policy::personaLabel(v), policy::personaName(v), policy::personaName(v));
  return runs;
}

struct Running {
  size_t index = 0;
  pid_t pid = -1;
  Clock::time_point start;
  bool killed = false;
};

// Forks `extsys run --policy P --audit FILE --audit-hidden -- COMMAND` in a
// process group of its own, stdin /dev/null, stdout and stderr to files.
Result<pid_t> start(const std::string& self, const MatrixRun& r,
                    const std::vector<std::string>& command) {
  std::vector<std::string> args = {self,          "run", "--policy", r.policy, "--audit",
                                   r.auditPath,   "--audit-hidden", "--"};
  args.insert(args.end(), command.begin(), command.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  for (const std::string* p : {&r.outPath, &r.errPath, &r.auditPath})
    if (unlink(p->c_str()) != 0 && errno != ENOENT)
      return Error::fromErrno(errno, "unlink " + *p);
  const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out = open(r.outPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const int err = open(r.errPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  auto closeAll = [&] {
    for (int fd : {in, out, err})
      if (fd >= 0)
        close(fd);
  };
  if (in < 0 || out < 0 || err < 0) {
    Error e = Error::fromErrno(errno, "cannot create " + r.outPath + " or " + r.errPath);
    closeAll();
    return e;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    Error e = Error::fromErrno(errno, "fork");
    closeAll();
    return e;
  }
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
      _exit(125);
    execv(self.c_str(), argv.data());
    _exit(125);
  }
  setpgid(pid, pid);  // also here: no race with a kill before the child ran
  closeAll();
  return pid;
}

void progress(size_t done, size_t total, const std::vector<Running>& running,
              const std::vector<MatrixRun>& runs) {
  std::string names;
  for (const auto& r : running)
    names += (names.empty() ? "" : " ") + runs[r.index].label;
  std::string line = fmt::format("extsys matrix: {}/{} done, running: {}", done, total, names);
  if (line.size() > 100)
    line = line.substr(0, 97) + "...";
  std::fprintf(stderr, "\r%-100s", line.c_str());
  std::fflush(stderr);
}

}  // namespace

CLI::App* addMatrixCommand(CLI::App& app, MatrixOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "matrix",
      "Run COMMAND once per kernel persona, on this kernel and without CHECK_FIELDS, in\n"
      "parallel, and print one table.\n"
      "Usage: extsys matrix [OPTIONS] -- COMMAND [ARGS...]");
  cmd->footer(
      "Each run is `extsys run --policy P --audit FILE --audit-hidden -- COMMAND`: P is\n"
      "default (\"this kernel\"), no-check-fields (probes reach the kernel, which answers\n"
      "E2BIG) and kernel-X.Y for each persona (extsys policy list). The table gives each\n"
      "run's result (ok, exit N, signal NAME, timeout), its time, the probes it made and\n"
      "what they were answered (answered, or ENOSYS where the persona lacks the syscall),\n"
      "and the real calls refused and how (EINVAL for a flag the kernel lacks, ENOSYS for\n"
      "a syscall, E2BIG for a struct too large). Probes that reach the kernel\n"
      "(no-check-fields) are not seen by extsys and not listed.\n\n"
      "A run that outlives --timeout is killed with its process group and reported.\n"
      "stdout and stderr of each run go to files in --output-dir (NAME.stdout,\n"
      "NAME.stderr, NAME.audit.jsonl), by default a temporary directory that is removed;\n"
      "the end of a failed run's stderr is printed after the table. A progress line is\n"
      "shown while it runs when stderr is a terminal.\n\n"
      "Exit status: 0 if every run exited 0, 1 if any did not, 2 for a usage error.\n\n"
      "Examples:\n"
      "  extsys matrix -- ./my-tests\n"
      "  extsys matrix --kernels 5.4,5.10,6.1 --jobs 4 --junit matrix.xml -- make check");
  auto* kernels = cmd->add_option("--kernels", o.kernels,
                                  "comma-separated releases X.Y to run as personas (default: "
                                  "every release the version table describes, as --all)")
                      ->check(nonEmpty());
  cmd->add_flag("--all", o.all, "every persona of `extsys policy list` (the default)")
      ->excludes(kernels);
  cmd->add_option("--jobs,-j", o.jobs, "runs at once (default: the number of CPUs)")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--timeout", o.timeout,
                  "seconds a run may take before it is killed (default 300)")
      ->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--junit", o.junit, "write JUnit XML to FILE: one testcase per kernel")
      ->check(nonEmpty());
  cmd->add_flag("--json", o.json, "print JSON instead of the table");
  cmd->add_option("--output-dir", o.outputDir,
                  "keep each run's stdout, stderr and audit log in DIR (created if missing)")
      ->check(nonEmpty());
  cmd->prefix_command();
  return cmd;
}

int matrixCommand(MatrixOptions o) {
  if (o.command.empty())
    return matrixFatal(kExitUsage, "no COMMAND given (usage: extsys matrix [OPTIONS] -- COMMAND...)");
  if (!o.command.front().empty() && o.command.front().front() == '-')
    return matrixFatal(kExitUsage, "unknown option '" + o.command.front() + "' (see extsys matrix --help)");
  auto kernels = chosenKernels(o);
  if (!kernels)
    return matrixFatal(kExitUsage, kernels.error().message());
  if (o.jobs == 0)
    o.jobs = std::max(1u, std::thread::hardware_concurrency());
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec)
    return matrixFatal(1, "cannot find extsys itself (/proc/self/exe): " + ec.message());

  bool temporary = o.outputDir.empty();
  std::string dir = o.outputDir;
  if (temporary) {
    char tmpl[] = "/tmp/extsys-matrix-XXXXXX";
    if (mkdtemp(tmpl) == nullptr)
      return matrixFatal(1, std::string("mkdtemp: ") + std::strerror(errno));
    dir = tmpl;
  } else {
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return matrixFatal(1, dir + ": " + ec.message());
    dir = std::filesystem::absolute(dir).string();
  }
  if (!o.junit.empty() && !std::ofstream(o.junit, std::ios::app))
    return matrixFatal(1, o.junit + ": " + std::strerror(errno));

  std::vector<MatrixRun> runs = planRuns(*kernels, dir);
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const bool tty = isatty(STDERR_FILENO) == 1;
  const auto began = Clock::now();
  std::vector<Running> running;
  size_t next = 0, done = 0;
  const auto limit = std::chrono::duration<double>(o.timeout);
  std::string failure;
  while ((next < runs.size() && !gInterrupted && failure.empty()) || !running.empty()) {
    while (running.size() < o.jobs && next < runs.size() && !gInterrupted && failure.empty()) {
      MatrixRun& r = runs[next];
      auto pid = start(self, r, o.command);
      if (!pid) {
        failure = pid.error().message();
        break;
      }
      r.started = true;
      r.startEpoch = epochNow();
      running.push_back({next++, *pid, Clock::now(), false});
    }
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = std::find_if(running.begin(), running.end(), [&](const auto& x) { return x.pid == pid; });
      if (it == running.end())
        continue;
      MatrixRun& r = runs[it->index];
      r.seconds = std::chrono::duration<double>(Clock::now() - it->start).count();
      r.endEpoch = epochNow();
      r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      r.timedOut = it->killed && !gInterrupted;
      killpg(it->pid, SIGKILL);  // what COMMAND left behind in its group
      running.erase(it);
      ++done;
    }
    for (auto& x : running)
      if (!x.killed && (gInterrupted || Clock::now() - x.start > limit)) {
        killpg(x.pid, SIGKILL);
        x.killed = true;
      }
    if (tty)
      progress(done, runs.size(), running, runs);
    if (!running.empty() || next < runs.size())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (tty)
    std::fprintf(stderr, "\r%-100s\r", "");
  const double wall = std::chrono::duration<double>(Clock::now() - began).count();
  for (auto& r : runs)
    if (r.started) {
      std::ifstream in(r.auditPath);
      std::stringstream text;
      text << in.rdbuf();
      r.audit = summarizeAudit(text.str());
    }

  const auto failed = static_cast<size_t>(
      std::count_if(runs.begin(), runs.end(), [](const auto& r) { return !r.ok(); }));
  if (o.json) {
    std::fputs(matrixJson(runs, o, wall).c_str(), stdout);
  } else {
    std::fputs(matrixTable(runs, o.timeout).c_str(), stdout);
    std::printf("%zu run(s), %zu failed, %.2fs%s%s\n", runs.size(), failed, wall,
                temporary ? "" : "; output in ", temporary ? "" : dir.c_str());
  }
  std::fflush(stdout);  // the table before the failures' stderr
  for (const auto& r : runs)
    if (!r.ok() && !o.json && r.started)
      std::fprintf(stderr, "\n--- %s (%s): %s; end of its stderr:\n%s", r.label.c_str(),
                   r.name.c_str(), r.result(o.timeout).c_str(), tailOf(r.errPath, 20).c_str());
  const bool allOk = failed == 0;
  if (!o.junit.empty()) {
    std::ofstream out(o.junit, std::ios::trunc);
    out << matrixJunit(runs, o.timeout, wall);
    if (!out)
      failure = o.junit + ": cannot write";
  }
  if (temporary)
    std::filesystem::remove_all(dir, ec);
  if (gInterrupted)
    return matrixFatal(128 + gInterrupted, "interrupted: the runs still going were killed");
  if (!failure.empty())
    return matrixFatal(1, failure);
  return allOk ? 0 : 1;
}

}  // namespace extsys::app
