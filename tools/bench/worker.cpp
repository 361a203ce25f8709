// SPDX-License-Identifier: MIT
// tools/bench/worker.cpp - `extsys-bench worker`: measures in-process and
// prints its samples on stdout, one line per measurement:
//   S NAME v1 v2 ...   samples (ns per call)
//   V NAME value       one number (probes/s, KiB)
//   I NAME text        information
// Started natively (--mode native), under the bare ping-pong (--mode bare,
// which installs its own filter first) or under `extsys run` (--mode extsys).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench.h"

namespace bench {
namespace {

enum class Mode { Native, Bare, Extsys };

struct WorkerOptions {
  Mode mode = Mode::Native;
  bool sync = true;
  unsigned bareExtras = 0;
  std::set<std::string> tasks;
  int n = 2000;                      // samples per latency measurement
  std::vector<int> threads{2, 8, 32};
  int tputMs = 500;                  // duration of one throughput measurement
  int oldReps = 100;                 // cheap old-way discoveries
  int forkReps = 10;                 // fork-based clone3 discoveries
};

long gExpected = -E2BIG;  // what a probe returns in this mode

void emitSamples(const std::string& name, const std::vector<double>& v) {
  std::printf("S %s", name.c_str());
  for (double x : v)
    std::printf(" %.1f", x);
  std::printf("\n");
}
void emitValue(const std::string& name, double v) { std::printf("V %s %.3f\n", name.c_str(), v); }
void emitInfo(const std::string& name, const std::string& text) {
  std::printf("I %s %s\n", name.c_str(), text.c_str());
}

// One CHECK_FIELDS probe each, the struct on the caller's stack as in a real program.
long probeOpenat2() {
  OpenHow how{};
  return rawOpenat2(AT_FDCWD, nullptr, &how, kCheckFields | sizeof how);
}
long probeClone3() {
  CloneArgs a{};
  return rawClone3(&a, kCheckFields | sizeof a);
}
long probeMountSetattr() {
  MountAttr a{};
  return rawMountSetattr(-1, "", 0, &a, kCheckFields | sizeof a);
}

struct ProbeKind {
  const char* name;
  long (*fn)();
};
constexpr ProbeKind kProbes[] = {
    {"openat2", probeOpenat2}, {"clone3", probeClone3}, {"mount_setattr", probeMountSetattr}};

// Make sure the mode is what it claims: natively E2BIG and nothing written;
// bare: 134 and nothing written; extsys: 134 and the answer written.
void verifyMode(Mode mode, bool written) {
  alignas(8) unsigned char buf[88];
  const unsigned char sentinel = 0x5a;
  for (int i = 0; i < 3; ++i) {
    std::memset(buf, sentinel, sizeof buf);
    long r;
    uint64_t size;
    if (i == 0) {
      size = 24;
      r = rawOpenat2(AT_FDCWD, nullptr, reinterpret_cast<OpenHow*>(buf), kCheckFields | size);
    } else if (i == 1) {
      size = 88;
      r = rawClone3(reinterpret_cast<CloneArgs*>(buf), kCheckFields | size);
    } else {
      size = 32;
      r = rawMountSetattr(-1, "", 0, reinterpret_cast<MountAttr*>(buf), kCheckFields | size);
    }
    bool untouched = true;
    for (uint64_t k = 0; k < size; ++k)
      untouched = untouched && buf[k] == sentinel;
    const bool ok = mode == Mode::Native ? (r == -E2BIG && untouched)
                                         : (r == -kProbeErrno && untouched != written);
    if (!ok)
      die("worker: %s probe returned %ld (%s), struct %s: not the expected mode", kProbes[i].name,
          r, r < 0 ? strerror(static_cast<int>(-r)) : "success",
          untouched ? "untouched" : "written");
  }
}

// The three syscalls interleaved call by call, so that a noisy phase of the
// machine hits them alike.
void taskProbe(const WorkerOptions& o) {
  constexpr size_t kKinds = std::size(kProbes);
  std::vector<double> v[kKinds];
  for (auto& vi : v)
    vi.resize(static_cast<size_t>(o.n));
  for (int i = 0; i < std::max(200, o.n / 10); ++i)
    for (const ProbeKind& p : kProbes)
      (void)p.fn();
  long bad = 0;
  for (size_t i = 0; i < static_cast<size_t>(o.n); ++i)
    for (size_t k = 0; k < kKinds; ++k) {
      const uint64_t t0 = nowNs();
      const long r = kProbes[k].fn();
      const uint64_t t1 = nowNs();
      bad += r != gExpected;
      v[k][i] = static_cast<double>(t1 - t0);
    }
  if (bad != 0)
    die("worker: %ld probes gave an unexpected result", bad);
  for (size_t k = 0; k < kKinds; ++k)
    emitSamples(std::string("probe.") + kProbes[k].name, v[k]);
}

// N threads probing openat2 for ~tputMs: total probes / wall time.
double probeThroughput(int nthreads, int ms) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  std::atomic<long> bad{0};
  std::vector<uint64_t> counts(static_cast<size_t>(nthreads), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < nthreads; ++t)
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire))
        std::this_thread::yield();
      uint64_t c = 0;
      long b = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        b += probeOpenat2() != gExpected;
        ++c;
      }
      counts[static_cast<size_t>(t)] = c;
      bad.fetch_add(b);
    });
  while (ready.load() != nthreads)
    std::this_thread::yield();
  const uint64_t t0 = nowNs();
  go.store(true, std::memory_order_release);
  usleep(static_cast<useconds_t>(ms) * 1000);
  stop.store(true);
  for (auto& th : threads)
    th.join();
  const uint64_t t1 = nowNs();
  if (bad.load() != 0)
    die("worker: %ld throughput probes gave an unexpected result", bad.load());
  uint64_t total = 0;
  for (uint64_t c : counts)
    total += c;
  return static_cast<double>(total) * 1e9 / static_cast<double>(t1 - t0);
}

void taskTput(const WorkerOptions& o) {
  for (int t : o.threads)
    emitValue("tput." + std::to_string(t), probeThroughput(t, o.tputMs));
}

void taskOrdinary(const WorkerOptions& o) {
  // getppid: too short to time one by one; batches of 100, reported per call.
  constexpr int kBatch = 100;
  std::vector<double> v(static_cast<size_t>(o.n));
  for (int i = 0; i < 20 * kBatch; ++i)
    (void)syscall(SYS_getppid);
  for (auto& x : v) {
    const uint64_t t0 = nowNs();
    for (int i = 0; i < kBatch; ++i)
      (void)syscall(SYS_getppid);
    x = static_cast<double>(nowNs() - t0) / kBatch;
  }
  emitSamples("ord.getppid", v);

  OpenHow how{static_cast<uint64_t>(O_RDONLY | O_CLOEXEC), 0, 0};
  for (int i = 0; i < 200; ++i)
    close(static_cast<int>(rawOpenat2(AT_FDCWD, "/dev/null", &how, sizeof how)));
  for (auto& x : v) {
    const uint64_t t0 = nowNs();
    const long fd = rawOpenat2(AT_FDCWD, "/dev/null", &how, sizeof how);
    close(static_cast<int>(fd));
    x = static_cast<double>(nowNs() - t0);
    if (fd < 0)
      die("worker: openat2(/dev/null): %s", strerror(static_cast<int>(-fd)));
  }
  emitSamples("ord.openat2_close", v);

  std::vector<double> c(static_cast<size_t>(std::max(50, o.n / 8)));
  auto cloneWait = [] {
    CloneArgs a{};
    a.exit_signal = SIGCHLD;
    const uint64_t t0 = nowNs();
    const long pid = clone3ExitChild(&a, 64);
    if (pid < 0)
      die("worker: clone3: %s", strerror(static_cast<int>(-pid)));
    int st;
    while (waitpid(static_cast<pid_t>(pid), &st, 0) < 0 && errno == EINTR) {
    }
    return static_cast<double>(nowNs() - t0);
  };
  for (int i = 0; i < 20; ++i)
    (void)cloneWait();
  for (auto& x : c)
    x = cloneWait();
  emitSamples("ord.clone3_wait", c);
}

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
  return b;
}

void taskOldway(const WorkerOptions& o) {
  struct Kind {
    const char* name;
    OldWayResult (*fn)();
    int reps;
  };
  const Kind kinds[] = {{"openat2_scan", oldOpenat2Scan, o.oldReps},
                        {"clone3_nproc", oldClone3Nproc, o.oldReps},
                        {"mount_scan", oldMountSetattrScan, o.oldReps},
                        {"clone3_fork", oldClone3Fork, o.forkReps}};
  for (const Kind& k : kinds) {
    std::vector<double> v;
    OldWayResult last;
    (void)k.fn();  // warm-up
    for (int i = 0; i < k.reps; ++i) {
      last = k.fn();
      v.push_back(static_cast<double>(last.ns));
    }
    emitSamples(std::string("old.") + k.name, v);
    emitInfo(std::string("old.") + k.name,
             "mask=" + hex(last.mask) + " mask2=" + hex(last.mask2) + (last.ok ? "" : " NOT-OK") +
                 (last.note.empty() ? "" : " note=" + last.note));
  }
}

// /proc/PID/stat: comm, ppid and start time.
bool readStat(pid_t pid, std::string& comm, pid_t& ppid, unsigned long long& start) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(f, s))
    return false;
  const size_t l = s.find('('), r = s.rfind(')');
  if (l == std::string::npos || r == std::string::npos)
    return false;
  comm = s.substr(l + 1, r - l - 1);
  std::istringstream rest(s.substr(r + 2));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field)
    fields.push_back(field);
  if (fields.size() < 20)
    return false;
  ppid = static_cast<pid_t>(std::atoi(fields[1].c_str()));
  start = std::strtoull(fields[19].c_str(), nullptr, 10);
  return true;
}

// Our supervisor: named extsys-super (or bare-super), a child of the
// orchestrator (a subreaper, so our orphaned supervisor is re-parented to it);
// otherwise the first one started after us.
pid_t findSupervisor() {
  std::string comm;
  pid_t ppid = 0;
  unsigned long long myStart = 0;
  if (!readStat(getpid(), comm, ppid, myStart))
    return -1;
  const pid_t parent = getppid();
  pid_t best = -1, fallback = -1;
  unsigned long long bestStart = 0, fallbackStart = ~0ULL;
  DIR* d = opendir("/proc");
  if (d == nullptr)
    return -1;
  while (dirent* e = readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    unsigned long long start = 0;
    if (pid <= 0 || !readStat(pid, comm, ppid, start))
      continue;
    if (comm != "extsys-super" && comm != "bare-super")
      continue;
    if (ppid == parent && start >= bestStart) {
      best = pid;
      bestStart = start;
    }
    if (start >= myStart && start < fallbackStart) {
      fallback = pid;
      fallbackStart = start;
    }
  }
  closedir(d);
  return best > 0 ? best : fallback;
}

long statusKib(pid_t pid, const char* key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const size_t klen = std::strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, klen, key) == 0 && line.size() > klen && line[klen] == ':')
      return std::atol(line.c_str() + klen + 1);
  return -1;
}

// The supervisor's peak RSS while 32 threads probe it.
void taskRss(const WorkerOptions& o) {
  const pid_t sup = findSupervisor();
  if (sup <= 0)
    die("worker: cannot find the supervisor process in /proc");
  std::atomic<bool> done{false};
  long hwm = statusKib(sup, "VmHWM");
  std::thread sampler([&] {
    while (!done.load()) {
      hwm = std::max(hwm, statusKib(sup, "VmHWM"));
      usleep(10000);
    }
  });
  const double tput = probeThroughput(32, o.tputMs);
  done.store(true);
  sampler.join();
  hwm = std::max(hwm, statusKib(sup, "VmHWM"));
  emitInfo("super.pid", std::to_string(sup));
  emitValue("super.vmhwm_kib", static_cast<double>(hwm));
  emitValue("super.vmrss_kib", static_cast<double>(statusKib(sup, "VmRSS")));
  emitValue("super.load_tput", tput);
}

std::vector<int> parseInts(const std::string& s) {
  std::vector<int> out;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(std::atoi(item.c_str()));
  return out;
}

}  // namespace

int workerMain(int argc, char** argv) {
  WorkerOptions o;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        die("worker: %s needs a value", a.c_str());
      return argv[++i];
    };
    if (a == "--mode") {
      const std::string m = next();
      o.mode = m == "bare" ? Mode::Bare : m == "extsys" ? Mode::Extsys : Mode::Native;
    } else if (a == "--sync") {
      o.sync = next() == "on";
    } else if (a == "--bare-extra") {
      std::istringstream in(next());
      std::string t;
      while (std::getline(in, t, ','))
        o.bareExtras |= t == "idvalid" ? kBareIdValid
                        : t == "write" ? kBareWrite
                        : t == "nopoll" ? kBareNoPoll
                                        : 0U;
    } else if (a == "--tasks") {
      std::istringstream in(next());
      std::string t;
      while (std::getline(in, t, ','))
        o.tasks.insert(t);
    } else if (a == "--n") {
      o.n = std::max(10, std::atoi(next().c_str()));
    } else if (a == "--threads") {
      o.threads = parseInts(next());
    } else if (a == "--tput-ms") {
      o.tputMs = std::atoi(next().c_str());
    } else if (a == "--old-reps") {
      o.oldReps = std::atoi(next().c_str());
    } else if (a == "--fork-reps") {
      o.forkReps = std::atoi(next().c_str());
    } else {
      die("worker: unknown argument '%s'", a.c_str());
    }
  }
  static char outbuf[1 << 16];
  std::setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  if (o.mode == Mode::Bare)
    emitInfo("sync_enabled", startBareSupervisor(o.sync, o.bareExtras) ? "1" : "0");
  gExpected = o.mode == Mode::Native ? -E2BIG : -kProbeErrno;
  verifyMode(o.mode, o.mode == Mode::Extsys || (o.bareExtras & kBareWrite));
  if (o.tasks.count("probe"))
    taskProbe(o);
  if (o.tasks.count("ordinary"))
    taskOrdinary(o);
  if (o.tasks.count("oldway"))
    taskOldway(o);
  if (o.tasks.count("tput"))
    taskTput(o);
  if (o.tasks.count("rss"))
    taskRss(o);
  std::fflush(stdout);
  return 0;
}

}  // namespace bench
