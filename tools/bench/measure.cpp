// SPDX-License-Identifier: MIT
// tools/bench/measure.cpp - the measurements: starting workers (natively,
// under the bare ping-pong or under `extsys run`), in alternating rounds,
// and reading their samples into the Store.
#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <sstream>

#include "orchestrator.h"

extern char** environ;

namespace bench {
namespace {

// Reap what was re-parented to us (we are a subreaper): the detached
// supervisors. Returns their ru_maxrss (KiB).
std::vector<double> reapOrphans() {
  std::vector<double> rss;
  const uint64_t deadline = nowNs() + 3000000000ULL;
  for (;;) {
    int st;
    rusage ru{};
    const pid_t p = wait4(-1, &st, WNOHANG | __WALL, &ru);
    if (p > 0) {
      rss.push_back(static_cast<double>(ru.ru_maxrss));
      continue;
    }
    if (p < 0 && errno != EINTR)
      break;  // ECHILD: nothing left
    if (nowNs() > deadline) {
      progress("warning: a detached process did not exit within 3 s");
      break;
    }
    usleep(200);
  }
  return rss;
}

ChildResult helpOf(const std::vector<std::string>& args) { return runChild(args, true); }

}  // namespace

void progress(const char* fmt, ...) {
  static const uint64_t start = nowNs();
  std::va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "[extsys-bench %6.1f s] ", static_cast<double>(nowNs() - start) / 1e9);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
}

ChildResult runChild(const std::vector<std::string>& args, bool capture) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  int pipefd[2] = {-1, -1};
  if (capture) {
    if (pipe2(pipefd, O_CLOEXEC) != 0)
      die("pipe: %s", strerror(errno));
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  ChildResult r;
  pid_t pid;
  const uint64_t t0 = nowNs();
  const int err = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0)
    die("cannot run %s: %s", argv[0], strerror(err));
  if (capture) {
    close(pipefd[1]);
    char buf[65536];
    for (;;) {
      const ssize_t n = read(pipefd[0], buf, sizeof buf);
      if (n > 0)
        r.out.append(buf, static_cast<size_t>(n));
      else if (n == 0 || errno != EINTR)
        break;
    }
    close(pipefd[0]);
  }
  while (waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  r.ns = nowNs() - t0;
  return r;
}

std::vector<std::string> Bench::prefix(const Config& c) const {
  if (c.name == kAllow.name)
    return {o_.self, "seccomp-allow", "--"};
  if (c.mode != "extsys")
    return {};
  std::vector<std::string> p{o_.extsys, "run", "--sync-wakeup", c.sync};
  if (!c.threads.empty())
    p.insert(p.end(), {"--threads", c.threads});
  p.push_back("--");
  return p;
}

void Bench::worker(const Config& c, const std::string& tasks, std::vector<std::string> extra) {
  std::vector<std::string> args = prefix(c);
  args.insert(args.end(), {o_.self, "worker", "--mode", c.mode, "--sync",
                           c.sync == "off" ? "off" : "on", "--tasks", tasks});
  if (!c.extra.empty())
    args.insert(args.end(), {"--bare-extra", c.extra});
  args.insert(args.end(), extra.begin(), extra.end());
  const ChildResult r = runChild(args, true);
  const std::vector<double> orphans = reapOrphans();
  auto& rssv = s_.orphanMaxRss[c.name];
  rssv.insert(rssv.end(), orphans.begin(), orphans.end());
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
    std::string cmd;
    for (const auto& a : args)
      cmd += a + " ";
    die("worker failed (status %#x): %s", r.status, cmd.c_str());
  }
  std::istringstream in(r.out);
  std::string line;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind, name;
    ls >> kind >> name;
    if (kind == "S") {
      std::vector<double> v;
      double x;
      while (ls >> x)
        v.push_back(x);
      s_.samples[c.name][name].push_back(std::move(v));
    } else if (kind == "V") {
      double x = NAN;
      ls >> x;
      s_.values[c.name][name].push_back(x);
    } else if (kind == "I") {
      std::string rest;
      std::getline(ls, rest);
      s_.info[c.name][name] = rest.empty() ? rest : rest.substr(1);
    }
  }
}

// a, b, c (one thread) and e: alternate the configs, reversing the order
// every other round.
void Bench::latency() {
  std::vector<Config> order{kNative, kBareOn, kExtAuto, kBareOff, kExtOff, kExt1};
  if (!want("lat"))
    order = {kNative, kExtAuto};  // --only ord
  else if (!o_.quick)
    order.insert(order.end(), std::begin(kDecomposition), std::end(kDecomposition));
  if (want("ord"))
    order.push_back(kAllow);
  const int rounds = o_.rounds > 0 ? o_.rounds : p_.latRounds;
  for (int r = 0; r < rounds; ++r) {
    progress("latency round %d/%d", r + 1, rounds);
    std::vector<Config> cs = order;
    if (r % 2)
      std::reverse(cs.begin(), cs.end());
    for (const Config& c : cs) {
      const bool ordinary = c.name == kNative.name || c.name == kExtAuto.name;
      const std::string tasks = c.name == kAllow.name || !want("lat") ? "ordinary"
                                : ordinary && want("ord")              ? "probe,ordinary"
                                                                       : "probe";
      worker(c, tasks, {"--n", std::to_string(p_.n)});
    }
  }
}

void Bench::throughput() {
  std::vector<Config> order{kBareOn, kExtAuto, kBareOff, kExtOff, kExt1};
  if (!o_.quick)
    order.push_back(kDecomposition[4]);  // the least a correct answer needs
  for (int r = 0; r < p_.tputRounds; ++r) {
    progress("throughput round %d/%d (threads %s, %d ms each)", r + 1, p_.tputRounds,
             p_.threads.c_str(), p_.tputMs);
    std::vector<Config> cs = order;
    if (r % 2)
      std::reverse(cs.begin(), cs.end());
    for (const Config& c : cs)
      worker(c, "tput", {"--threads", p_.threads, "--tput-ms", std::to_string(p_.tputMs)});
  }
}

void Bench::oldWay() {
  for (int r = 0; r < p_.oldRounds; ++r) {
    progress("old-fashioned discovery round %d/%d", r + 1, p_.oldRounds);
    worker(kNative, "oldway",
           {"--old-reps", std::to_string(p_.oldReps), "--fork-reps", std::to_string(p_.forkReps)});
  }
}

void Bench::rss() {
  progress("supervisor peak RSS under 32 probing threads");
  for (const Config& c : {kExtAuto, kBareOn})
    worker(c, "rss", {"--tput-ms", std::to_string(p_.rssMs)});
}

// f: whole-process wall time, natively, under an allow-all filter and under
// `extsys run`, alternating. The two shell loops also run with no iteration
// right after, the same way: (T(N) - T(0)) / N is what one fork+exec (or
// fork+exit) costs inside a program, without the start-up that g measures.
void Bench::workloads() {
  // Full: a few hundred ms each. Quick (a smoke test): the same kinds, smaller.
  const std::string dir = o_.quick ? "/usr/include" : "/usr";
  const int loops = o_.quick ? 30 : 100;
  // The loop starts after 50 ms, in every way and in T(0) alike: by then a
  // wrapper's own start-up has settled (extsys's supervisor starts up next
  // to PROGRAM, not before it), so T(N) - T(0) is the loop alone.
  auto shLoop = [](const std::string& body, int n) {
    return std::vector<std::string>{"/bin/sh", "-c",
                                    "sleep 0.05; i=0; while [ $i -lt " + std::to_string(n) +
                                        " ]; do " + body + "; i=$((i+1)); done"};
  };
  const std::string n = std::to_string(loops);
  workloads_ = {{"find " + dir + " -xdev", {"/usr/bin/find", dir, "-xdev"}, {}, 0},
                {"sh: " + n + " x fork+exec /bin/true", shLoop("/bin/true", loops),
                 shLoop("/bin/true", 0), loops},
                {"sh: " + n + " x fork+exit (a subshell)", shLoop("(:)", loops), shLoop("(:)", 0),
                 loops}};
  for (const Workload& w : workloads_) {
    progress("workload '%s': %d runs each of 3 ways", w.name.c_str(), p_.workRuns);
    auto wrap = [&](const std::string& way, const std::vector<std::string>& cmd) {
      std::vector<std::string> args =
          prefix(way == "work-allow" ? kAllow : way == "work-ext" ? kExtAuto : kNative);
      args.insert(args.end(), cmd.begin(), cmd.end());
      return args;
    };
    auto timed = [&](const std::vector<std::string>& args) {
      const ChildResult res = runChild(args, false);
      reapOrphans();
      if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
        progress("warning: '%s' exited with status %#x", w.name.c_str(), res.status);
      return static_cast<double>(res.ns);
    };
    const char* const ways[] = {"work-native", "work-allow", "work-ext"};
    (void)runChild(w.cmd, false);  // warm the page cache
    reapOrphans();
    for (int r = 0; r < p_.workRuns; ++r)
      for (size_t k = 0; k < std::size(ways); ++k) {  // rotate the order every run
        const std::string way = ways[(k + static_cast<size_t>(r)) % std::size(ways)];
        const double whole = timed(wrap(way, w.cmd));
        s_.samples[way][w.name].push_back({whole});  // one run = one round
        if (w.iterations > 0) {
          const double none = timed(wrap(way, w.empty));
          s_.samples["iter-" + way][w.name].push_back({(whole - none) / w.iterations});
        }
      }
  }
}

// g: fork+exec+wait of /bin/true, directly, through two plain wrappers and
// through `extsys run`, rotating the order every round. Discovery (cold and
// cached) is measured where extsys offers a way to bypass its cache.
void Bench::startup() {
  startup_ = {
      {"true", "/bin/true", {"/bin/true"}},
      {"env", "env /bin/true (exec-in-place wrapper)", {"/usr/bin/env", "/bin/true"}},
      {"spawn", "extsys-bench spawn -- /bin/true (fork+exec+wait wrapper)",
       {o_.self, "spawn", "--", "/bin/true"}},
      {"run", "extsys run -- /bin/true", {o_.extsys, "run", "--", "/bin/true"}},
      {"version", "extsys --version (exec and start-up only)", {o_.extsys, "--version"}}};
  const ChildResult runHelp = helpOf({o_.extsys, "run", "--help"});
  const ChildResult featHelp = helpOf({o_.extsys, "features", "--help"});
  const bool hasFeatures = WIFEXITED(featHelp.status) && WEXITSTATUS(featHelp.status) == 0;
  if (runHelp.out.find("--no-cache") != std::string::npos) {
    startup_[3].name = "extsys run -- /bin/true (cached discovery)";  // [3]: "run"
    startup_.push_back({"run-cold", "extsys run --no-cache -- /bin/true (cold discovery)",
                        {o_.extsys, "run", "--no-cache", "--", "/bin/true"}});
  } else {
    coldNote_ = hasFeatures ? "n/a (`extsys run` has no --no-cache option)"
                            : "n/a (no discovery yet: extsys uses its version table)";
  }
  if (!o_.quick && hasFeatures && featHelp.out.find("--no-cache") != std::string::npos) {
    startup_.push_back({"feat", "extsys features (cached discovery)", {o_.extsys, "features"}});
    startup_.push_back({"feat-cold", "extsys features --no-cache (cold discovery)",
                        {o_.extsys, "features", "--no-cache"}});
  }
  progress("start-up: %d rounds of %zu variants", p_.startRounds, startup_.size());
  for (const Variant& v : startup_) {  // warm-up; fills the discovery cache
    (void)runChild(v.args, false);
    reapOrphans();
  }
  // At most ~30 s (full; less when the machine is so loaded that the run
  // nears 3 minutes), but at least 30 rounds.
  const double left = 175.0 - static_cast<double>(nowNs() - start_) / 1e9;
  const double budget = o_.quick ? 5.0 : std::min(30.0, std::max(10.0, left));
  const uint64_t deadline = nowNs() + static_cast<uint64_t>(budget * 1e9);
  for (int r = 0; r < p_.startRounds && (r < std::min(30, p_.startRounds) || nowNs() < deadline);
       ++r)
    for (size_t k = 0; k < startup_.size(); ++k) {
      const Variant& v = startup_[(k + static_cast<size_t>(r)) % startup_.size()];
      const ChildResult res = runChild(v.args, false);
      reapOrphans();
      if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
        die("'%s' failed with status %#x", v.name.c_str(), res.status);
      s_.samples["startup"][v.key].push_back({static_cast<double>(res.ns)});
    }
}

std::vector<Row> Bench::run() {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  if (want("lat") || want("ord"))
    latency();
  if (want("tput"))
    throughput();
  if (want("old"))
    oldWay();
  if (want("rss"))
    rss();
  if (want("work"))
    workloads();
  if (want("start"))
    startup();
  return rows();
}

}  // namespace bench
