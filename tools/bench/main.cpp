// SPDX-License-Identifier: MIT
// tools/bench/main.cpp - extsys-bench: the benchmark of issue #5.
//
//   extsys-bench [--quick] [--json FILE] [--extsys PATH] [--only LIST]
//
// Runs every measurement in one go on this machine, alternating baseline and
// candidate runs, and prints a table of medians, p99 and ratios against the
// issue's targets. See tools/bench/README.md. This file is the command line;
// the measurements are in measure.cpp, the table in table.cpp.
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator.h"

namespace bench {
namespace {

std::string readCpuModel() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0 || line.rfind("CPU part", 0) == 0) {
      const size_t c = line.find(':');
      return c == std::string::npos ? line : line.substr(c + 2);
    }
  return "unknown CPU";
}

std::string exeDir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    die("readlink(/proc/self/exe): %s", strerror(errno));
  buf[n] = 0;
  std::string p(buf);
  return p.substr(0, p.rfind('/'));
}

std::string quoteArg(const std::string& a) {
  if (!a.empty() && a.find_first_of(" \t\"'$\\") == std::string::npos)
    return a;
  std::string q = "'";
  for (char c : a)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: extsys-bench [--quick] [--json FILE] [--extsys PATH] [--rounds N]\n"
               "                    [--only lat,tput,old,ord,rss,work,start]\n"
               "       extsys-bench worker ...            (internal: measures in-process)\n"
               "       extsys-bench spawn -- PROG ARGS... (a plain fork+exec+wait wrapper)\n"
               "       extsys-bench seccomp-allow -- PROG ARGS... (exec under an allow-all filter)\n"
               "Measures extsys against the native kernel and a bare seccomp-notify\n"
               "ping-pong and prints medians, p99 and ratios against the targets of issue 5.\n"
               "--quick: CI smoke run (< 20 s); default: full run (~2 min).\n");
  std::exit(rc);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  if (argc > 1 && std::strcmp(argv[1], "worker") == 0)
    return workerMain(argc - 2, argv + 2);
  if (argc > 1 && std::strcmp(argv[1], "spawn") == 0)
    return spawnMain(argc - 2, argv + 2);
  if (argc > 1 && std::strcmp(argv[1], "seccomp-allow") == 0)
    return seccompAllowMain(argc - 2, argv + 2);

  Options o;
  for (int i = 0; i < argc; ++i)
    o.command += (i ? " " : "") + quoteArg(argv[i]);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(2);
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--json") {
      o.json = next();
    } else if (a == "--extsys") {
      o.extsys = next();
    } else if (a == "--rounds") {
      o.rounds = std::atoi(next().c_str());
    } else if (a == "--only") {
      std::istringstream in(next());
      std::string s;
      while (std::getline(in, s, ','))
        o.only.insert(s);
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "extsys-bench: unknown argument '%s'\n", a.c_str());
      usage(2);
    }
  }
  const std::string dir = exeDir();
  o.self = dir + "/extsys-bench";
  if (o.extsys.empty())
    o.extsys = dir + "/../../src/app/extsys";
  char real[PATH_MAX];
  if (realpath(o.extsys.c_str(), real) == nullptr || access(real, X_OK) != 0)
    die("extsys binary not found at %s (build it with `ninja -C build`, or pass --extsys PATH)",
        o.extsys.c_str());
  o.extsys = real;

  Machine m;
  utsname u{};
  uname(&u);
  m.kernel = u.release;
  m.cpu = readCpuModel();
  m.cpus = sysconf(_SC_NPROCESSORS_ONLN);
  m.command = o.command;
  m.extsysPath = o.extsys;
  auto loadavg = [] {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
  };
  m.load = "load average at start " + loadavg();
  {
    std::string v = runChild({o.extsys, "--version"}, true).out;
    while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
      v.pop_back();
    // --version is several "key: value" lines: one line for the report.
    for (size_t nl; (nl = v.find('\n')) != std::string::npos;)
      v.replace(nl, 1, "; ");
    m.extsysVersion = v;
  }
  const std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  m.date = date;

  const uint64_t t0 = nowNs();
  Bench b(o, o.quick ? kQuick : kFull);
  const std::vector<Row> rows = b.run();
  progress("done in %.1f s", static_cast<double>(nowNs() - t0) / 1e9);
  m.load += ", at end " + loadavg();
  printTable(m, rows, stdout);
  if (!o.json.empty() && !writeJson(o.json, m, rows))
    die("cannot write %s: %s", o.json.c_str(), strerror(errno));
  return 0;
}
