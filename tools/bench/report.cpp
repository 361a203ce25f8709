// SPDX-License-Identifier: MIT
// tools/bench/report.cpp - statistics, the results table and its JSON form.
#include "report.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "bench.h"

namespace bench {

void die(const char* fmt, ...) {
  std::fflush(stdout);
  std::va_list ap;
  va_start(ap, fmt);
  std::fputs("extsys-bench: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::exit(1);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return NAN;
  std::sort(v.begin(), v.end());
  // Nearest rank.
  const double rank = p / 100.0 * static_cast<double>(v.size());
  size_t idx = static_cast<size_t>(std::ceil(rank));
  idx = idx == 0 ? 0 : idx - 1;
  return v[std::min(idx, v.size() - 1)];
}

Dist distOf(const std::vector<std::vector<double>>& rounds) {
  Dist d;
  std::vector<double> medians, all;
  for (const auto& r : rounds) {
    if (r.empty())
      continue;
    medians.push_back(median(r));
    all.insert(all.end(), r.begin(), r.end());
  }
  if (all.empty())
    return d;
  d.median = median(medians);
  d.p10 = percentile(all, 10);
  d.p90 = percentile(all, 90);
  d.p99 = percentile(all, 99);
  d.samples = all.size();
  d.rounds = medians.size();
  return d;
}

std::string formatValue(Unit u, double v) {
  if (std::isnan(v))
    return "-";
  char b[64];
  switch (u) {
    case Unit::Ns:
      if (v >= 1e6)
        std::snprintf(b, sizeof b, "%.2f ms", v / 1e6);
      else if (v >= 1e4)
        std::snprintf(b, sizeof b, "%.1f us", v / 1e3);
      else
        std::snprintf(b, sizeof b, "%.3f us", v / 1e3);
      break;
    case Unit::PerSec:
      std::snprintf(b, sizeof b, "%.1f k/s", v / 1e3);
      break;
    case Unit::KiB:
      std::snprintf(b, sizeof b, "%.2f MiB", v / 1024.0);
      break;
  }
  return b;
}

namespace {

const char* sectionTitle(const std::string& s) {
  if (s == "a") return "a. native failing probe (E2BIG): the kernel's own cost";
  if (s == "b") return "b. bare notify ping-pong (poll+RECV+SEND -134): the mechanism's floor";
  if (s == "c") return "c. extsys probe round trip, and probes/s with N threads";
  if (s == "d") return "d. old-fashioned discovery without CHECK_FIELDS (one full discovery)";
  if (s == "e") return "e. ordinary calls without / with extsys run";
  if (s == "f") return "f. real workloads, whole-process wall time";
  if (s == "g") return "g. start-up (fork+exec+wait from the benchmark)";
  if (s == "h") return "h. supervisor peak RSS (VmHWM under a 32-thread probe load)";
  return "";
}

std::string jsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o;
}

std::string jsonNum(double v) {
  if (std::isnan(v) || std::isinf(v))
    return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

const char* unitName(Unit u) {
  return u == Unit::Ns ? "ns" : u == Unit::PerSec ? "per_second" : "KiB";
}

}  // namespace

void printTable(const Machine& m, const std::vector<Row>& rows, std::FILE* out) {
  std::fprintf(out, "extsys-bench results\n");
  std::fprintf(out, "  machine : Linux %s, %s, %ld CPUs online\n", m.kernel.c_str(),
               m.cpu.c_str(), m.cpus);
  std::fprintf(out, "  extsys  : %s (%s)\n", m.extsysPath.c_str(), m.extsysVersion.c_str());
  std::fprintf(out, "  command : %s\n", m.command.c_str());
  std::fprintf(out, "  date    : %s (%s)\n", m.date.c_str(), m.load.c_str());
  std::fprintf(out, "  median = median of per-round medians (rounds alternate baseline and "
                    "candidate); p10/p90/p99 = all samples pooled;\n"
                    "  ratio = candidate / baseline from this same run, paired: the median over "
                    "rounds of the per-round ratio.\n");
  auto line = [out](const char* a, const std::string& p10, const std::string& b,
                    const std::string& p90, const std::string& c, const char* d, const char* e,
                    const char* f) {
    std::fprintf(out, "  %-56s %10s %10s %10s %10s  %-24s %-14s %s\n", a, p10.c_str(), b.c_str(),
                 p90.c_str(), c.c_str(), d, e, f);
  };
  std::string section;
  for (const Row& r : rows) {
    if (r.section != section) {
      section = r.section;
      std::fprintf(out, "\n%s\n", sectionTitle(section));
      line("measurement", "p10", "median", "p90", "p99", "ratio", "target", "verdict");
    }
    line(r.name.c_str(), formatValue(r.unit, r.dist.p10), formatValue(r.unit, r.dist.median),
         formatValue(r.unit, r.dist.p90), formatValue(r.unit, r.dist.p99),
         r.ratio.c_str(), r.target.c_str(), r.verdict.c_str());
  }
  int met = 0, missed = 0, inconclusive = 0;
  std::string notes;
  for (const Row& r : rows) {
    met += r.verdict == "met";
    missed += r.verdict == "MISSED";
    inconclusive += r.verdict == "inconclusive";
    if (!r.note.empty())
      notes += "  - " + r.name + ": " + r.note + "\n";
  }
  if (!notes.empty())
    std::fprintf(out, "\nNotes\n%s", notes.c_str());
  std::fprintf(out,
               "\nTargets: %d met, %d missed, %d inconclusive (the target lies within the "
               "interquartile range of the per-round values)\n",
               met, missed, inconclusive);
  for (const Row& r : rows)
    if (r.verdict == "MISSED" || r.verdict == "inconclusive")
      std::fprintf(out, "  %s: %s (%s, target %s)\n", r.verdict.c_str(), r.name.c_str(),
                   r.ratio.c_str(), r.target.c_str());
}

bool writeJson(const std::string& path, const Machine& m, const std::vector<Row>& rows) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr)
    return false;
  std::fprintf(f, "{\n  \"machine\": {\"kernel\": \"%s\", \"cpu\": \"%s\", \"cpus\": %ld},\n",
               jsonEscape(m.kernel).c_str(), jsonEscape(m.cpu).c_str(), m.cpus);
  std::fprintf(f, "  \"command\": \"%s\",\n  \"extsys\": \"%s\",\n  \"extsys_version\": \"%s\",\n",
               jsonEscape(m.command).c_str(), jsonEscape(m.extsysPath).c_str(),
               jsonEscape(m.extsysVersion).c_str());
  std::fprintf(f, "  \"date\": \"%s\",\n  \"load\": \"%s\",\n  \"results\": [\n",
               jsonEscape(m.date).c_str(), jsonEscape(m.load).c_str());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::fprintf(f,
                 "    {\"section\": \"%s\", \"measurement\": \"%s\", \"unit\": \"%s\", "
                 "\"p10\": %s, \"median\": %s, \"p90\": %s, \"p99\": %s, \"samples\": %zu, "
                 "\"rounds\": %zu, "
                 "\"ratio\": %s, \"ratio_text\": \"%s\", \"target\": \"%s\", "
                 "\"verdict\": \"%s\", \"note\": \"%s\"}%s\n",
                 r.section.c_str(), jsonEscape(r.name).c_str(), unitName(r.unit),
                 jsonNum(r.dist.p10).c_str(), jsonNum(r.dist.median).c_str(),
                 jsonNum(r.dist.p90).c_str(), jsonNum(r.dist.p99).c_str(), r.dist.samples,
                 r.dist.rounds, jsonNum(r.ratioValue).c_str(), jsonEscape(r.ratio).c_str(),
                 jsonEscape(r.target).c_str(), jsonEscape(r.verdict).c_str(),
                 jsonEscape(r.note).c_str(), i + 1 < rows.size() ? "," : "");
  }
  std::fprintf(f, "  ]\n}\n");
  return std::fclose(f) == 0;
}

}  // namespace bench
