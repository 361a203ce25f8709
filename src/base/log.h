// SPDX-License-Identifier: MIT
// base/log.h - spdlog setup: one named logger per module, one shared sink.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace extsys::log {

// Loggers for the modules that log (base, kernel, filter and remote do not).
spdlog::logger& supervisor();
spdlog::logger& launcher();
spdlog::logger& app();

// Parses "trace|debug|info|warn|error|critical|off".
[[nodiscard]] Result<spdlog::level::level_enum> parseLevel(const std::string& name);

// Sets the level of every module logger.
void setLevel(spdlog::level::level_enum level);

// Sends every logger to stderr (the default) or to FILE (appending; opened
// with openAppendFile, base/files.h: no symbolic link, our own regular file,
// created mode 0600). The line prefix names the process role ("run",
// "supervisor") and pid.
[[nodiscard]] Status toStderr(const std::string& role);
[[nodiscard]] Status toFile(const std::string& path, const std::string& role);
// Drops all output (the supervisor after start-up when no log file is set).
void toNowhere();

}  // namespace extsys::log
