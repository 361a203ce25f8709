// SPDX-License-Identifier: MIT
// app/matrix_report.cpp - what `extsys matrix` prints and writes: the table,
// JUnit XML and JSON, from each run's status and audit log.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "app/matrix_command.h"
#include "base/files.h"

namespace extsys::app {
namespace {

// Captured output is cut to this much in JUnit and JSON.
constexpr size_t kMaxCaptured = 64 * 1024;

std::string readCapped(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.size() > kMaxCaptured)
    s = "[... " + std::to_string(s.size() - kMaxCaptured) + " bytes cut ...]\n" +
        s.substr(s.size() - kMaxCaptured);
  return s;
}

// "openat2 answered, clone3 ENOSYS x2", or "-".
std::string joinCounts(const std::map<std::pair<std::string, std::string>, int>& m) {
  std::string out;
  for (const auto& [key, n] : m) {
    out += (out.empty() ? "" : ", ") + key.first + " " + key.second;
    if (n > 1)
      out += " x" + std::to_string(n);
  }
  return out.empty() ? "-" : out;
}

// XML 1.0 text: escaped, and without the control characters it forbids.
std::string xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
          out += '?';
        else
          out += static_cast<char>(c);
    }
  }
  return out;
}

nlohmann::ordered_json countsJson(const std::map<std::pair<std::string, std::string>, int>& m,
                                  const char* what) {
  auto a = nlohmann::ordered_json::array();
  for (const auto& [key, n] : m)
    a.push_back({{"syscall", key.first}, {what, key.second}, {"count", n}});
  return a;
}

}  // namespace

AuditSummary summarizeAudit(const std::string& jsonLines) {
  AuditSummary s;
  std::istringstream in(jsonLines);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("syscall") || !j.contains("kind") ||
        !j.contains("decision") || !j["syscall"].is_string() || !j["kind"].is_string() ||
        !j["decision"].is_string()) {
      ++s.unreadable;
      continue;
    }
    const std::string sys = j["syscall"], kind = j["kind"], decision = j["decision"];
    const std::string err = j.contains("errno_name") && j["errno_name"].is_string()
                                ? j["errno_name"].get<std::string>()
                                : "";
    if (kind == "probe")
      ++s.probes[{sys, decision == "answered" ? "answered" : err.empty() ? decision : err}];
    else if (decision == "allowed")
      ++s.checkedAllowed;
    else if (!err.empty())
      ++s.refused[{sys, err}];
  }
  return s;
}

std::string MatrixRun::result(double timeout) const {
  if (!started)
    return "not run";
  if (timedOut)
    return fmt::format("timeout {:g}s", timeout);
  if (exitCode >= 0)
    return exitCode == 0 ? "ok" : "exit " + std::to_string(exitCode);
  const char* abbrev = sigabbrev_np(signal);
  return std::string("signal ") + (abbrev ? abbrev : std::to_string(signal).c_str());
}

std::string tailOf(const std::string& path, size_t lines) {
  const std::string s = readCapped(path);
  size_t pos = s.size();
  if (pos > 0 && s[pos - 1] == '\n')
    --pos;
  for (size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n)
    pos = s.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? s : s.substr(pos + 1);
}

std::string matrixTable(const std::vector<MatrixRun>& runs, double timeout) {
  size_t wKernel = 6, wResult = 6, wProbes = 6, wRefused = 13;
  std::vector<std::string> probes, refused, said;
  for (const auto& r : runs) {
    probes.push_back(joinCounts(r.audit.probes));
    refused.push_back(joinCounts(r.audit.refused));
    // What the run said last: which path a test program took, often.
    std::string last = tailOf(r.outPath, 1);
    while (!last.empty() && (last.back() == '\n' || last.back() == '\r'))
      last.pop_back();
    if (last.size() > 48)
      last = last.substr(0, 45) + "...";
    for (char& c : last)
      if (static_cast<unsigned char>(c) < 0x20)
        c = ' ';
    said.push_back(last.empty() ? "-" : last);
    wKernel = std::max(wKernel, r.label.size());
    wResult = std::max(wResult, r.result(timeout).size());
    wProbes = std::max(wProbes, probes.back().size());
    wRefused = std::max(wRefused, refused.back().size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:>7}  {:<{}}  {:<{}}  {}\n", "KERNEL", wKernel,
                                "RESULT", wResult, "TIME", "PROBES", wProbes, "REFUSED CALLS",
                                wRefused, "LAST OUTPUT");
  for (size_t i = 0; i < runs.size(); ++i) {
    const MatrixRun& r = runs[i];
    out += fmt::format("{:<{}}  {:<{}}  {:>6.2f}s  {:<{}}  {:<{}}  {}\n", r.label, wKernel,
                       r.result(timeout), wResult, r.seconds, probes[i], wProbes, refused[i],
                       wRefused, said[i]);
  }
  return out;
}

std::string matrixJunit(const std::vector<MatrixRun>& runs, double timeout, double wallSeconds) {
  const auto failures = std::count_if(runs.begin(), runs.end(), [](const auto& r) { return !r.ok(); });
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", runs.size(),
                     failures, wallSeconds);
  out += fmt::format("  <testsuite name=\"extsys matrix\" tests=\"{}\" failures=\"{}\" "
                     "errors=\"0\" skipped=\"0\" time=\"{:.3f}\">\n",
                     runs.size(), failures, wallSeconds);
  for (const auto& r : runs) {
    out += fmt::format("    <testcase classname=\"extsys.matrix\" name=\"{}\" time=\"{:.3f}\">\n",
                       xml(r.name), r.seconds);
    const std::string summary = "probes: " + joinCounts(r.audit.probes) +
                                "\nrefused calls: " + joinCounts(r.audit.refused) + "\n";
    if (!r.ok())
      out += fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                         r.timedOut ? "timeout" : r.exitCode >= 0 ? "exit" : "signal",
                         xml(r.label + ": " + r.result(timeout)), xml(tailOf(r.errPath, 40)));
    out += "      <system-out>" + xml(summary + readCapped(r.outPath)) + "</system-out>\n";
    out += "      <system-err>" + xml(readCapped(r.errPath)) + "</system-err>\n";
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

std::string matrixJson(const std::vector<MatrixRun>& runs, const MatrixOptions& o,
                       double wallSeconds) {
  nlohmann::ordered_json j;
  j["command"] = o.command;
  j["jobs"] = o.jobs;
  j["timeout"] = o.timeout;
  j["seconds"] = wallSeconds;
  j["ok"] = std::all_of(runs.begin(), runs.end(), [](const auto& r) { return r.ok(); });
  auto a = nlohmann::ordered_json::array();
  for (const auto& r : runs) {
    nlohmann::ordered_json x;
    x["kernel"] = r.label;
    x["name"] = r.name;
    x["policy"] = r.policy;
    x["ok"] = r.ok();
    x["result"] = r.result(o.timeout);
    x["exit_code"] = r.exitCode >= 0 ? nlohmann::ordered_json(r.exitCode) : nullptr;
    x["signal"] = r.exitCode < 0 && r.signal ? nlohmann::ordered_json(r.signal) : nullptr;
    x["timed_out"] = r.timedOut;
    x["seconds"] = r.seconds;
    x["start"] = r.startEpoch;
    x["end"] = r.endEpoch;
    x["probes"] = countsJson(r.audit.probes, "answer");
    x["refused"] = countsJson(r.audit.refused, "errno");
    x["checked_allowed"] = r.audit.checkedAllowed;
    x["stdout"] = readCapped(r.outPath);
    x["stderr"] = readCapped(r.errPath);
    a.push_back(std::move(x));
  }
  j["runs"] = std::move(a);
  return j.dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace extsys::app
