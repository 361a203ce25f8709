// SPDX-License-Identifier: MIT
// tools/bench/table.cpp - turning the measurements into the table: one row
// per measurement, grouped in the sections of issue 5 (a-h), with ratios,
// targets and verdicts.
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string_view>
#include <tuple>

#include "orchestrator.h"

namespace bench {
namespace {

std::string fmtRatio(double r, const char* what) {
  char b[64];
  std::snprintf(b, sizeof b, r >= 100 ? "%.0fx %s" : r >= 10 ? "%.1fx %s" : "%.3fx %s", r, what);
  return b;
}

std::string verdict(bool ok) { return ok ? "met" : "MISSED"; }

// For paired per-round values: "met"/"MISSED" by the median, but
// "inconclusive" when the target lies inside the interquartile range of the
// rounds: the noise is larger than the margin, either way.
std::string verdict(const std::vector<double>& perRound, double limit, bool atMost) {
  if (perRound.empty())
    return "n/a";
  const double q1 = percentile(perRound, 25), q3 = percentile(perRound, 75);
  if (q1 < limit && limit < q3)
    return "inconclusive";
  const double m = median(perRound);
  return (atMost ? m <= limit : m >= limit) ? "met" : "MISSED";
}

const char* const kSyscalls[] = {"openat2", "clone3", "mount_setattr"};

// The least a correct answer needs (issue 22's latency baseline): RECV
// without poll(), ID_VALID, process_vm_writev of the answer, SEND.
const Config& kLeast = kDecomposition[4];

// Per round, candidate's p99 / baseline's p99 (rounds paired as in
// Store::pairedAll).
std::vector<double> pairedP99(const Store& s, const std::string& ca, const std::string& cb,
                              const std::string& m) {
  std::vector<double> out;
  auto ai = s.samples.find(ca), bi = s.samples.find(cb);
  if (ai == s.samples.end() || bi == s.samples.end())
    return out;
  auto am = ai->second.find(m), bm = bi->second.find(m);
  if (am == ai->second.end() || bm == bi->second.end())
    return out;
  for (size_t i = 0; i < am->second.size() && i < bm->second.size(); ++i)
    if (!am->second[i].empty() && !bm->second[i].empty())
      out.push_back(percentile(am->second[i], 99) / percentile(bm->second[i], 99));
  return out;
}

}  // namespace

std::vector<Row> Bench::rows() const {
  std::vector<Row> out;
  probeRows(out);
  throughputRows(out);
  std::stable_sort(out.begin(), out.end(),
                   [](const Row& x, const Row& y) { return x.section < y.section; });
  oldWayRows(out);
  ordinaryRows(out);
  workloadRows(out);
  startupRows(out);
  rssRows(out);
  return out;
}

// a, b, c: one probe's latency, natively, under the bare ping-pong (and its
// decomposition) and under extsys.
void Bench::probeRows(std::vector<Row>& out) const {
  auto add = [&](Row r) { out.push_back(std::move(r)); };
  const bool syncOk = s_.infoOf(kBareOn.name, "sync_enabled") == "1";
  const std::string onLabel = syncOk ? "SYNC_WAKE_UP on" : "SYNC_WAKE_UP on (unavailable)";
  const std::string onBase = syncOk ? "bare(sync)" : "bare";
  for (const char* sc : kSyscalls) {
    const std::string m = std::string("probe.") + sc;
    Dist d = s_.dist(kNative.name, m);
    if (d.samples)
      add({"a", std::string(sc) + " probe, native (E2BIG)", Unit::Ns, d, "baseline", NAN, "",
           "info", ""});
  }
  for (const Config* c : {&kBareOn, &kBareOff})
    for (const char* sc : kSyscalls) {
      const std::string m = std::string("probe.") + sc;
      Dist d = s_.dist(c->name, m);
      if (!d.samples)
        continue;
      const double ratio = s_.paired(c->name, m, kNative.name, m);
      add({"b", std::string(sc) + " bare ping-pong, " + (c == &kBareOn ? onLabel : "sync off"),
           Unit::Ns, d, fmtRatio(ratio, "native"), ratio, "", "info", ""});
    }
  for (const Config& c : kDecomposition) {
    Dist d = s_.dist(c.name, "probe.openat2");
    if (!d.samples)
      continue;
    const double ratio = s_.paired(c.name, "probe.openat2", kBareOn.name, "probe.openat2");
    char delta[64];
    std::snprintf(delta, sizeof delta, "%+.2f us",
                  s_.paired(c.name, "probe.openat2", kBareOn.name, "probe.openat2", true) / 1e3);
    add({"b", "openat2 bare " + c.label, Unit::Ns, d,
         fmtRatio(ratio, onBase.c_str()) + " " + delta, ratio, "", "info", ""});
  }
  for (const auto& [ext, bare, label] :
       {std::tuple{&kExtAuto, &kBareOn, "extsys (--sync-wakeup auto)"},
        std::tuple{&kExtOff, &kBareOff, "extsys (--sync-wakeup off)"},
        std::tuple{&kExt1, &kBareOn, "extsys --threads 1 (auto)"}})
    for (const char* sc : kSyscalls) {
      const std::string m = std::string("probe.") + sc;
      Dist d = s_.dist(ext->name, m);
      if (!d.samples)
        continue;
      char delta[64];
      std::snprintf(delta, sizeof delta, "%+.2f us over the bare ping-pong",
                    s_.paired(ext->name, m, bare->name, m, true) / 1e3);
      // The default's target (issue 22): p50 <= 1.05x the least a correct
      // answer needs, measured in the same rounds.
      const bool target = ext == &kExtAuto && s_.dist(kLeast.name, m).samples;
      const Config& base = target ? kLeast : *bare;
      const double ratio = s_.paired(ext->name, m, base.name, m);
      add({"c", std::string(sc) + " probe, " + label, Unit::Ns, d,
           fmtRatio(ratio, target                ? "least"
                           : bare == &kBareOn ? onBase.c_str()
                                              : "bare(off)"),
           ratio, target ? "<= 1.05x least" : "",
           target ? verdict(s_.pairedAll(ext->name, m, base.name, m), 1.05, true) : "info",
           sc == std::string("openat2") ? delta : ""});
    }
  for (const char* sc : kSyscalls) {
    const std::string m = std::string("probe.") + sc;
    const std::vector<double> per = pairedP99(s_, kExtAuto.name, kExt1.name, m);
    if (per.empty())
      continue;
    Row r{"c", std::string(sc) + " probe p99, default / --threads 1", Unit::Ns,
          s_.dist(kExtAuto.name, m), fmtRatio(median(per), "--threads 1"), median(per),
          "<= 1.00x", verdict(per, 1.0, true), ""};
    add(r);
  }
}

// b, c: probes per second with several probing threads.
void Bench::throughputRows(std::vector<Row>& out) const {
  auto add = [&](Row r) { out.push_back(std::move(r)); };
  const bool syncOk = s_.infoOf(kBareOn.name, "sync_enabled") == "1";
  const std::string onLabel = syncOk ? "SYNC_WAKE_UP on" : "SYNC_WAKE_UP on (unavailable)";
  const std::string onBase = syncOk ? "bare(sync)" : "bare";
  std::istringstream tl(p_.threads);
  std::string t;
  while (std::getline(tl, t, ','))
    for (const auto& [ext, bare, label] :
         {std::tuple{&kExtAuto, &kBareOn, "auto"}, std::tuple{&kExtOff, &kBareOff, "off"},
          std::tuple{&kExt1, &kBareOn, "auto, --threads 1"}}) {
      if (ext == &kExtAuto)
        if (Dist least = s_.value(kLeast.name, "tput." + t); least.samples)
          add({"b", "bare " + kLeast.label + ", " + t + " threads", Unit::PerSec, least, "", NAN,
               "", "info", ""});
      Dist b = s_.value(bare->name, "tput." + t), d = s_.value(ext->name, "tput." + t);
      if (!d.samples)
        continue;
      const bool onPair = bare == &kBareOn;
      if (ext != &kExt1)
        add({"b", "bare ping-pong, " + t + " threads, " + (onPair ? onLabel : "sync off"),
             Unit::PerSec, b, "", NAN, "", "info", ""});
      // The default's targets (issue 22): >= 0.95x the single-threaded
      // bare supervisor that does what a correct answer needs, and never
      // below --threads 1.
      const std::string m = "tput." + t;
      const bool target = ext == &kExtAuto && s_.value(kLeast.name, m).samples;
      const Config& base = target ? kLeast : *bare;
      const double ratio = s_.paired(ext->name, m, base.name, m);
      add({"c", "extsys, " + t + " threads, openat2 probes/s (sync " + label + ")", Unit::PerSec,
           d, fmtRatio(ratio, target ? "least" : onPair ? onBase.c_str() : "bare(off)"), ratio,
           target ? ">= 0.95x least" : "",
           target ? verdict(s_.pairedAll(ext->name, m, base.name, m), 0.95, false) : "info", ""});
      if (target && s_.value(kExt1.name, m).samples) {
        const double r1 = s_.paired(ext->name, m, kExt1.name, m);
        add({"c", "extsys, " + t + " threads, default / --threads 1", Unit::PerSec, d,
             fmtRatio(r1, "--threads 1"), r1, ">= 1.00x",
             verdict(s_.pairedAll(ext->name, m, kExt1.name, m), 1.0, false), ""});
      }
    }
}

// d: the discovery a program does without CHECK_FIELDS.
void Bench::oldWayRows(std::vector<Row>& out) const {
  auto add = [&](Row r) { out.push_back(std::move(r)); };
  struct Old {
    const char* metric;
    const char* name;
    const char* probe;
    double target;
  };
  for (const Old& od : {Old{"old.openat2_scan", "openat2 flag-by-flag scan (194 calls)",
                            "probe.openat2", 3},
                        Old{"old.clone3_fork", "clone3 via a forked child, real clones",
                            "probe.clone3", 30},
                        Old{"old.clone3_nproc", "clone3 via the RLIMIT_NPROC trick",
                            "probe.clone3", 0},
                        Old{"old.mount_scan", "mount_setattr flag-by-flag scan (224 calls)",
                            "probe.mount_setattr", 0}}) {
    Dist d = s_.dist(kNative.name, od.metric), e = s_.dist(kExtAuto.name, od.probe);
    if (!d.samples)
      continue;
    const double ratio = d.median / e.median;
    char target[32] = "";
    if (od.target > 0)
      std::snprintf(target, sizeof target, ">= %gx faster", od.target);
    add({"d", od.name, Unit::Ns, d, fmtRatio(ratio, "extsys probe"), ratio, target,
         od.target > 0 ? verdict(ratio >= od.target) : "info",
         "found " + s_.infoOf(kNative.name, od.metric)});
  }
}

// e: what ordinary system calls pay under extsys.
void Bench::ordinaryRows(std::vector<Row>& out) const {
  auto add = [&](Row r) { out.push_back(std::move(r)); };
  for (const auto& [metric, name] :
       {std::pair{"ord.getppid", "getppid (batches of 100, per call)"},
        std::pair{"ord.openat2_close", "openat2(/dev/null) + close"},
        std::pair{"ord.clone3_wait", "clone3 + waitpid (child exits at once)"}}) {
    Dist n = s_.dist(kNative.name, metric), e = s_.dist(kExtAuto.name, metric);
    if (!n.samples || !e.samples)
      continue;
    const double added = s_.paired(kExtAuto.name, metric, kNative.name, metric, true) / 1e3;
    char ratio[64];
    std::snprintf(ratio, sizeof ratio, "%+.3f us (%.2fx)", added,
                  s_.paired(kExtAuto.name, metric, kNative.name, metric));
    // The per-round differences' spread, to judge what 0.2 us means here.
    const std::vector<double> diffs =
        s_.pairedAll(kExtAuto.name, metric, kNative.name, metric, true);
    char note[96];
    std::snprintf(note, sizeof note, "per-round differences: interquartile range %+.3f..%+.3f us",
                  percentile(diffs, 25) / 1e3, percentile(diffs, 75) / 1e3);
    add({"e", std::string(name) + ", native", Unit::Ns, n, "baseline", NAN, "", "info", ""});
    const Dist a = s_.dist(kAllow.name, metric);
    if (a.samples) {
      char allowRatio[64];
      std::snprintf(allowRatio, sizeof allowRatio, "%+.3f us (%.2fx)",
                    s_.paired(kAllow.name, metric, kNative.name, metric, true) / 1e3,
                    s_.paired(kAllow.name, metric, kNative.name, metric));
      add({"e", std::string(name) + ", allow-all filter", Unit::Ns, a, allowRatio, NAN, "",
           "info", ""});
    }
    add({"e", std::string(name) + ", under extsys", Unit::Ns, e, ratio, added, "<= +0.2 us",
         verdict(s_.pairedAll(kExtAuto.name, metric, kNative.name, metric, true), 200, true),
         note});
    // Issue 22: process creation against what any filter costs.
    if (a.samples && std::string_view(metric) == "ord.clone3_wait") {
      const double r = s_.paired(kExtAuto.name, metric, kAllow.name, metric);
      char vs[96];
      std::snprintf(vs, sizeof vs, "%+.3f us over the allow-all filter",
                    s_.paired(kExtAuto.name, metric, kAllow.name, metric, true) / 1e3);
      add({"e", std::string(name) + ", extsys / allow-all", Unit::Ns, e,
           fmtRatio(r, "allow-all"), r, "<= 1.01x allow",
           verdict(s_.pairedAll(kExtAuto.name, metric, kAllow.name, metric), 1.01, true), vs});
    }
  }
}

// f: whole workloads, then per iteration of the shell loops.
void Bench::workloadRows(std::vector<Row>& out) const {
  auto add = [&](Row r) { out.push_back(std::move(r)); };
  for (const Workload& w : workloads_) {
    const std::string& name = w.name;
    Dist n = s_.dist("work-native", name), e = s_.dist("work-ext", name),
         a = s_.dist("work-allow", name);
    const double ratio = s_.paired("work-ext", name, "work-native", name);
    const double allowRatio = s_.paired("work-allow", name, "work-native", name);
    add({"f", name + ", native", Unit::Ns, n, "baseline", NAN, "", "info", ""});
    add({"f", name + ", allow-all seccomp filter (reference)", Unit::Ns, a,
         fmtRatio(allowRatio, "native"), allowRatio, "", "info", ""});
    // Issue 5's target, on the whole process (start-up included); quick
    // mode's workloads are too short for it (start-up dominates).
    const bool whole = w.iterations == 0 && !o_.quick;
    add({"f", name + ", extsys run", Unit::Ns, e, fmtRatio(ratio, "native"), ratio,
         whole ? "<= 1.02x" : "",
         whole ? verdict(s_.pairedAll("work-ext", name, "work-native", name), 1.02, true)
               : o_.quick ? "info (quick)" : "info",
         fmtRatio(s_.paired("work-ext", name, "work-allow", name), "the allow-all filter")});
    if (w.iterations == 0)
      continue;
    // Issue 22's target: what one iteration costs inside the program, start-up
    // subtracted round by round, against the allow-all filter.
    const std::string per = name + ", per iteration";
    const double iterRatio = s_.paired("iter-work-ext", name, "iter-work-allow", name);
    add({"f", per + ", native", Unit::Ns, s_.dist("iter-work-native", name), "baseline", NAN,
         "", "info", ""});
    add({"f", per + ", allow-all filter", Unit::Ns, s_.dist("iter-work-allow", name),
         fmtRatio(s_.paired("iter-work-allow", name, "iter-work-native", name), "native"), NAN,
         "", "info", ""});
    char note[128];
    std::snprintf(note, sizeof note, "%+.1f us per iteration over the allow-all filter",
                  s_.paired("iter-work-ext", name, "iter-work-allow", name, true) / 1e3);
    add({"f", per + ", extsys run", Unit::Ns, s_.dist("iter-work-ext", name),
         fmtRatio(iterRatio, "allow-all"), iterRatio, o_.quick ? "" : "<= 1.01x allow",
         o_.quick ? "info (quick)"
                  : verdict(s_.pairedAll("iter-work-ext", name, "iter-work-allow", name), 1.01,
                            true),
         note});
  }
}

// g: start-up.
void Bench::startupRows(std::vector<Row>& out) const {
  if (startup_.empty())
    return;
  auto add = [&](Row r) { out.push_back(std::move(r)); };
  auto sd = [&](const std::string& key) { return s_.dist("startup", key); };
  auto ratioTo = [&](const std::string& a, const std::string& b) {
    return s_.paired("startup", a, "startup", b);
  };
  for (const Variant& v : startup_) {
    Row r{"g", v.name, Unit::Ns, sd(v.key), "", NAN, "", "info", ""};
    if (v.key == "run") {
      r.ratioValue = ratioTo("run", "spawn");
      r.ratio = fmtRatio(r.ratioValue, "spawn wrapper");
      r.target = "<= 1.1x";
      r.verdict = verdict(s_.pairedAll("startup", "run", "startup", "spawn"), 1.1, true);
      char note[160];
      std::snprintf(note, sizeof note,
                    "%.2fx the env wrapper, %.2fx /bin/true alone, %+.2f ms over `extsys "
                    "--version`",
                    ratioTo("run", "env"), ratioTo("run", "true"),
                    s_.paired("startup", "run", "startup", "version", true) / 1e6);
      r.note = note;
    } else if (v.key == "run-cold" || v.key == "feat-cold") {
      const std::string cached = v.key == "run-cold" ? "run" : "feat";
      r.ratioValue = ratioTo(v.key, cached);
      r.ratio = fmtRatio(r.ratioValue, "cached");
      char note[96];
      std::snprintf(note, sizeof note, "cold discovery costs %+.2f ms",
                    s_.paired("startup", v.key, "startup", cached, true) / 1e6);
      r.note = note;
      if (v.key == "run-cold") {  // issue 22: cold discovery <= 0.5 ms
        const double added = s_.paired("startup", v.key, "startup", cached, true);
        char ratio[48];
        std::snprintf(ratio, sizeof ratio, "%+.2f ms (%.2fx)", added / 1e6, r.ratioValue);
        r.ratio = ratio;
        r.target = "<= +0.5 ms";
        r.verdict = verdict(s_.pairedAll("startup", v.key, "startup", cached, true), 0.5e6, true);
      }
    } else if (v.key != "true") {
      r.ratioValue = ratioTo(v.key, "true");
      r.ratio = fmtRatio(r.ratioValue, "/bin/true");
    }
    add(r);
  }
  if (!coldNote_.empty())
    add({"g", "extsys run, cold vs cached discovery", Unit::Ns, {}, "", NAN, "", coldNote_,
         ""});
}

// h: the supervisor's peak memory.
void Bench::rssRows(std::vector<Row>& out) const {
  auto add = [&](Row r) { out.push_back(std::move(r)); };
  auto rssRow = [&](const Config& c, const std::string& name, bool target) {
    Dist hwm = s_.value(c.name, "super.vmhwm_kib");
    if (!hwm.samples)
      return;
    auto vi = s_.values.at(c.name).find("super.vmhwm_kib");
    hwm.median = *std::max_element(vi->second.begin(), vi->second.end());  // the peak
    std::string note;
    auto oi = s_.orphanMaxRss.find(c.name);
    if (oi != s_.orphanMaxRss.end() && !oi->second.empty()) {
      const double peak = *std::max_element(oi->second.begin(), oi->second.end());
      hwm.median = std::max(hwm.median, peak);
      char b[96];
      std::snprintf(b, sizeof b, "ru_maxrss at exit, max over %zu runs: %.2f MiB",
                    oi->second.size(), peak / 1024);
      note = b;
    }
    add({"h", name, Unit::KiB, hwm, "", NAN, target ? "<= 4.00 MiB" : "",
         target ? verdict(hwm.median <= 4096) : "info", note});
  };
  rssRow(kExtAuto, "extsys-super peak RSS (max of VmHWM and ru_maxrss)", true);
  rssRow(kBareOn, "bare-super peak RSS (reference)", false);
}

}  // namespace bench
