// SPDX-License-Identifier: MIT
// tools/bench/orchestrator.h - the orchestrator of extsys-bench: what it
// measures and how (measure.cpp), the table it makes of it (table.cpp), and
// its command line (main.cpp). Internal to the benchmark.
#pragma once

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench.h"
#include "report.h"

namespace bench {

struct Options {
  bool quick = false;
  std::string json, extsys, self, command;
  std::set<std::string> only;  // empty: everything
  int rounds = 0;              // override of the latency round count
};

// How much to measure; the full plan stays under ~2 minutes on 2 CPUs.
struct Plan {
  int latRounds, n, tputRounds, tputMs, oldRounds, oldReps, forkReps, rssMs, workRuns,
      startRounds;
  std::string threads = "2,8,32";
};
// const, not constexpr: clang 14 cannot evaluate libstdc++ 12's std::string
// constructor at compile time.
const Plan kFull{11, 1200, 7, 300, 3, 100, 10, 700, 10, 200};
const Plan kQuick{3, 200, 1, 150, 1, 15, 2, 200, 2, 15};

// How a worker is started.
struct Config {
  std::string name;   // key
  std::string mode;   // native | bare | extsys
  std::string sync;   // on | off | auto
  std::string extra;  // bare only: --bare-extra (decomposition of extsys's cost)
  std::string label;  // decomposition rows
  std::string threads = "";  // extsys only: --threads (empty: its default)
};
inline const Config kNative{"native", "native", "off", "", ""};
inline const Config kBareOn{"bare-on", "bare", "on", "", ""};
inline const Config kBareOff{"bare-off", "bare", "off", "", ""};
inline const Config kExtAuto{"ext-auto", "extsys", "auto", "", ""};
// The worker under a one-instruction allow-all filter (`seccomp-allow`): what
// any seccomp filter costs ordinary calls, the reference for what extsys adds.
inline const Config kAllow{"allow-all", "native", "off", "", ""};
inline const Config kExtOff{"ext-off", "extsys", "off", "", ""};
// The supervisor as it was before worker threads: one thread answers all.
inline const Config kExt1{"ext-1thread", "extsys", "auto", "", "", "1"};
// The bare ping-pong plus, one at a time, what extsys's loop does per probe.
inline const Config kDecomposition[] = {
    {"bare-idvalid", "bare", "on", "idvalid", "+ ID_VALID ioctl"},
    {"bare-write", "bare", "on", "write", "+ process_vm_writev of the answer"},
    {"bare-both", "bare", "on", "idvalid,write", "+ ID_VALID + process_vm_writev"},
    {"bare-nopoll", "bare", "on", "nopoll", "without poll() before RECV"},
    {"bare-nopoll-both", "bare", "on", "nopoll,idvalid,write",
     "without poll(), + ID_VALID + process_vm_writev"}};

// Everything measured, by config and metric.
struct Store {
  std::map<std::string, std::map<std::string, std::vector<std::vector<double>>>> samples;
  std::map<std::string, std::map<std::string, std::vector<double>>> values;
  std::map<std::string, std::map<std::string, std::string>> info;
  std::map<std::string, std::vector<double>> orphanMaxRss;  // KiB, from wait4

  Dist dist(const std::string& c, const std::string& m) const {
    auto ci = samples.find(c);
    if (ci == samples.end())
      return {};
    auto mi = ci->second.find(m);
    return mi == ci->second.end() ? Dist{} : distOf(mi->second);
  }
  // One value per round: median of the rounds, no p99.
  Dist value(const std::string& c, const std::string& m) const {
    auto ci = values.find(c);
    if (ci == values.end())
      return {};
    auto mi = ci->second.find(m);
    if (mi == ci->second.end() || mi->second.empty())
      return {};
    Dist d;
    d.median = median(mi->second);
    d.samples = d.rounds = mi->second.size();
    return d;
  }
  // Paired comparison, robust to a machine whose load drifts: per round (the
  // two configurations ran next to each other), median(a) / median(b) or
  // median(a) - median(b); then the median over rounds.
  std::vector<double> pairedAll(const std::string& ca, const std::string& ma,
                                const std::string& cb, const std::string& mb,
                                bool difference = false) const {
    auto rounds = [&](const std::string& c, const std::string& m) {
      std::vector<double> out;
      if (auto ci = samples.find(c); ci != samples.end())
        if (auto mi = ci->second.find(m); mi != ci->second.end())
          for (const auto& r : mi->second)
            out.push_back(r.empty() ? NAN : median(r));
      if (auto ci = values.find(c); out.empty() && ci != values.end())
        if (auto mi = ci->second.find(m); mi != ci->second.end())
          out = mi->second;
      return out;
    };
    const std::vector<double> a = rounds(ca, ma), b = rounds(cb, mb);
    std::vector<double> per;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
      per.push_back(difference ? a[i] - b[i] : a[i] / b[i]);
    return per;
  }
  double paired(const std::string& ca, const std::string& ma, const std::string& cb,
                const std::string& mb, bool difference = false) const {
    const std::vector<double> per = pairedAll(ca, ma, cb, mb, difference);
    return per.empty() ? NAN : median(per);
  }
  std::string infoOf(const std::string& c, const std::string& k) const {
    auto ci = info.find(c);
    if (ci == info.end())
      return "";
    auto ki = ci->second.find(k);
    return ki == ci->second.end() ? "" : ki->second;
  }
};

void progress(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

struct ChildResult {
  int status = 0;
  uint64_t ns = 0;  // spawn to exit
  std::string out;
};

// posix_spawn + wait; stdout captured or sent to /dev/null, stderr inherited.
ChildResult runChild(const std::vector<std::string>& args, bool capture);

class Bench {
 public:
  Bench(Options o, Plan p) : o_(std::move(o)), p_(p) {}
  std::vector<Row> run();

 private:
  bool want(const char* s) const { return o_.only.empty() || o_.only.count(s) != 0; }
  std::vector<std::string> prefix(const Config& c) const;
  void worker(const Config& c, const std::string& tasks, std::vector<std::string> extra);
  void latency();
  void throughput();
  void oldWay();
  void rss();
  void workloads();
  void startup();
  // The table (table.cpp), section by section.
  std::vector<Row> rows() const;
  void probeRows(std::vector<Row>& out) const;       // a, b, c
  void throughputRows(std::vector<Row>& out) const;  // b, c
  void oldWayRows(std::vector<Row>& out) const;      // d
  void ordinaryRows(std::vector<Row>& out) const;    // e
  void workloadRows(std::vector<Row>& out) const;    // f
  void startupRows(std::vector<Row>& out) const;     // g
  void rssRows(std::vector<Row>& out) const;         // h

  Options o_;
  Plan p_;
  Store s_;
  // f: a workload, and for the loops the same loop with no iterations, so
  // that the per-iteration cost can be told apart from start-up (g).
  struct Workload {
    std::string name;
    std::vector<std::string> cmd;
    std::vector<std::string> empty;  // the loop with 0 iterations; none: empty
    int iterations = 0;
  };
  std::vector<Workload> workloads_;
  struct Variant {
    std::string key, name;
    std::vector<std::string> args;
  };
  std::vector<Variant> startup_;
  std::string coldNote_;
  uint64_t start_ = nowNs();
};

}  // namespace bench
