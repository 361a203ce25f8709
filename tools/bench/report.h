// SPDX-License-Identifier: MIT
// tools/bench/report.h - statistics, the results table and its JSON form.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

// A distribution measured in rounds: median = median of the per-round
// medians (robust to one noisy round), p99 = 99th percentile of all samples
// pooled.
struct Dist {
  double median = NAN, p10 = NAN, p90 = NAN, p99 = NAN;  // p10/p90/p99: samples pooled
  size_t samples = 0, rounds = 0;
};
Dist distOf(const std::vector<std::vector<double>>& rounds);

enum class Unit { Ns, PerSec, KiB };

struct Row {
  std::string section;  // "a".."h"
  std::string name;     // measurement
  Unit unit = Unit::Ns;
  Dist dist;
  std::string ratio;    // e.g. "1.08x bare", "52x faster", "+0.03 us"
  double ratioValue = NAN;
  std::string target;   // e.g. "<= 1.15x", "" when informational
  std::string verdict;  // "met", "MISSED", "info", "n/a"
  std::string note;     // shown under the table
};

struct Machine {
  std::string kernel, cpu, command, extsysPath, extsysVersion, date, load;
  long cpus = 0;
};

std::string formatValue(Unit u, double v);
void printTable(const Machine& m, const std::vector<Row>& rows, std::FILE* out);
bool writeJson(const std::string& path, const Machine& m, const std::vector<Row>& rows);

}  // namespace bench
