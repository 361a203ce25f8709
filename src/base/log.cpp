// SPDX-License-Identifier: MIT
// base/log.cpp - spdlog setup.
#include "base/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <array>
#include <mutex>

#include "base/files.h"

namespace extsys::log {
namespace {

// A log file opened by openAppendFile: one write(2) per line, so lines of
// several processes appending to one file never interleave.
class FdSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit FdSink(UniqueFd fd) : fd_(std::move(fd)) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (::write(fd_.get(), line.data(), line.size()) < 0) {
      // A full disk must not stop the supervisor: the line is lost.
    }
  }
  void flush_() override {}

private:
  UniqueFd fd_;
};

// Synchronous loggers with locking sinks (the supervisor's worker threads
// share them); no background thread, so fork() stays safe. Sinks are only
// swapped (useSink) before any worker thread starts.
struct Registry {
  std::shared_ptr<spdlog::logger> supervisor = make("supervisor");
  std::shared_ptr<spdlog::logger> launcher = make("run");
  std::shared_ptr<spdlog::logger> app = make("extsys");
  spdlog::level::level_enum level = spdlog::level::warn;

  static std::shared_ptr<spdlog::logger> make(const char* name) {
    auto l = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_level(spdlog::level::warn);
    l->set_pattern("extsys: %v");
    return l;
  }
  std::array<spdlog::logger*, 3> all() { return {supervisor.get(), launcher.get(), app.get()}; }

  void useSink(const spdlog::sink_ptr& sink, const std::string& pattern) {
    for (auto* l : all()) {
      l->sinks().clear();
      l->sinks().push_back(sink);
      l->set_pattern(pattern);
      l->set_level(level);
      l->flush_on(spdlog::level::trace);
    }
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

spdlog::logger& supervisor() { return *registry().supervisor; }
spdlog::logger& launcher() { return *registry().launcher; }
spdlog::logger& app() { return *registry().app; }

Result<spdlog::level::level_enum> parseLevel(const std::string& name) {
  static constexpr std::array<std::pair<const char*, spdlog::level::level_enum>, 8> kLevels{{
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info}, {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn}, {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off},
  }};
  for (const auto& [n, l] : kLevels)
    if (name == n)
      return l;
  return Error(EINVAL, "unknown log level '" + name +
                           "' (expected trace, debug, info, warn, error, critical or off)");
}

void setLevel(spdlog::level::level_enum level) {
  registry().level = level;
  for (auto* l : registry().all())
    l->set_level(level);
}

Status toStderr(const std::string& role) {
  registry().useSink(std::make_shared<spdlog::sinks::stderr_sink_mt>(),
                     "extsys " + role + "[" + std::to_string(getpid()) + "]: %l: %v");
  return okStatus();
}

Status toFile(const std::string& path, const std::string& role) {
  auto fd = openAppendFile(path);
  if (!fd)
    return std::move(fd).error();
  registry().useSink(std::make_shared<FdSink>(std::move(*fd)),
                     "%Y-%m-%dT%H:%M:%S.%f extsys " + role + "[" + std::to_string(getpid()) +
                         "] %l: %v");
  return okStatus();
}

void toNowhere() {
  registry().useSink(std::make_shared<spdlog::sinks::null_sink_mt>(), "%v");
  for (auto* l : registry().all())
    l->set_level(spdlog::level::off);
}

}  // namespace extsys::log
