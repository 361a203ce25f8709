// SPDX-License-Identifier: MIT
// app/run_command.h - `extsys run`: options and the glue between policy,
// filter, launcher and supervisor.
#pragma once

#include <string>
#include <vector>

#include "app/cli_fwd.h"
#include "app/supervisor_flags.h"
#include "base/result.h"

namespace extsys::app {

struct RunOptions {
  int probeErrno = 0;  // 0: the policy's (default 134)
  std::string policy;
  std::string audit;
  std::string logLevel = "warn";
  std::string logFile;
  std::string nested = "fail";
  std::string processModel = "auto";
  std::string containment;  // "" = the policy's (strict only)
  SupervisorFlags supervisor;
  bool noCache = false;
  bool auditHidden = false;  // --audit-hidden (filter::buildRules)
  std::vector<std::string> command;
};

// Registers `run` on the app; the options are filled in by parsing.
CLI::App* addRunCommand(CLI::App& app, RunOptions& options);

// `extsys ... run [OPTIONS] -- PROGRAM ARGS` (or matrix): removes `-- PROGRAM ARGS` from
// argv (CLI11 2.1 mishandles `--` in prefix commands) and returns them.
std::vector<std::string> splitCommand(int& argc, char** argv);

// Runs it. In place: returns only on failure (exit status 2 for a usage
// error or a bad policy, else 125, 126 or 127). In the ancestor model:
// PROGRAM's status.
int runCommand(RunOptions options);

// Opens PATH as --log-file and --audit are opened (base/files.h:
// openAppendFile) and closes it again, so that a path that cannot be used
// fails before anything starts. "" and "-" (stderr) pass.
[[nodiscard]] Status checkOutputFile(const std::string& path);

// "dir/x" relative to the current directory, for paths the supervisor (which
// runs in "/") opens later.
std::string absolutePath(const std::string& path);

}  // namespace extsys::app
