// SPDX-License-Identifier: MIT
// app/matrix_command.h - `extsys matrix`: run a command once per persona
// (and on this kernel, and without CHECK_FIELDS), in parallel, and report
// one table (README.md, "Test your fallbacks on every kernel").
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "app/cli_fwd.h"

namespace extsys::app {

struct MatrixOptions {
  std::string kernels;  // "5.4,5.10": only these personas
  bool all = false;     // every persona the version table has (the default)
  unsigned jobs = 0;    // 0: the number of CPUs
  double timeout = 300;  // seconds per run
  std::string junit;
  bool json = false;
  std::string outputDir;  // "": a temporary directory, removed at the end
  std::vector<std::string> command;
};

CLI::App* addMatrixCommand(CLI::App& app, MatrixOptions& options);
int matrixCommand(MatrixOptions options);

// --- the report (matrix_report.cpp) ---------------------------------------

// What one run's audit log says, counted: (syscall, what) -> count, where
// `what` is "answered" or the errno name a probe got, and for calls the
// errno name of a refusal.
struct AuditSummary {
  std::map<std::pair<std::string, std::string>, int> probes;
  std::map<std::pair<std::string, std::string>, int> refused;
  int checkedAllowed = 0;  // restricted calls checked and let through
  int unreadable = 0;      // lines that are no audit record
};
AuditSummary summarizeAudit(const std::string& jsonLines);

struct MatrixRun {
  std::string label;   // "this kernel", "no CHECK_FIELDS", "5.10"
  std::string name;    // "this-kernel", "no-check-fields", "kernel-5.10": files, JUnit
  std::string policy;  // what --policy gets
  std::string outPath, errPath, auditPath;
  // Filled in when it ends.
  bool started = false;
  bool timedOut = false;
  int exitCode = -1;  // -1: killed by `signal`
  int signal = 0;
  double seconds = 0;
  double startEpoch = 0, endEpoch = 0;  // CLOCK_REALTIME, for overlap
  AuditSummary audit;
  bool ok() const { return !timedOut && exitCode == 0; }
  std::string result(double timeout) const;  // "ok", "exit 3", "signal KILL", "timeout 5s"
};

// The table (stdout), failures' output, JUnit XML, JSON.
std::string matrixTable(const std::vector<MatrixRun>& runs, double timeout);
std::string matrixJunit(const std::vector<MatrixRun>& runs, double timeout, double wallSeconds);
std::string matrixJson(const std::vector<MatrixRun>& runs, const MatrixOptions& o,
                       double wallSeconds);
// The last `lines` lines of a captured file.
std::string tailOf(const std::string& path, size_t lines);

}  // namespace extsys::app
