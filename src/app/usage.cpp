// SPDX-License-Identifier: MIT
// app/usage.cpp - usage errors and `extsys help`.
#include "app/usage.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>

namespace extsys::app {
namespace {

// The subcommand registered under `name`, or nullptr.
CLI::App* findCommand(CLI::App& parent, const std::string& name) {
  auto found = parent.get_subcommands([&](CLI::App* c) { return c->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

std::string commandNames(CLI::App& parent) {
  std::string out;
  for (CLI::App* c : parent.get_subcommands([](CLI::App*) { return true; }))
    out += (out.empty() ? "" : ", ") + c->get_name();
  return out;
}

// "run", "policy check": the subcommands parsed so far, outermost first.
std::string parsedChain(CLI::App& app, CLI::App** innermost) {
  std::string chain;
  CLI::App* cur = &app;
  for (;;) {
    auto parsed = cur->get_subcommands();
    if (parsed.empty())
      break;
    cur = parsed.front();
    chain += (chain.empty() ? "" : " ") + cur->get_name();
  }
  if (innermost != nullptr)
    *innermost = cur;
  return chain;
}

int usage(const std::string& chain, const std::string& what) {
  const std::string where = chain.empty() ? "" : chain + ": ";
  const std::string help = chain.empty() ? "extsys --help" : "extsys " + chain + " --help";
  std::fprintf(stderr, "extsys: %s%s (see %s)\n", where.c_str(), what.c_str(), help.c_str());
  return kExitUsage;
}

// CLI11's wording, turned into ours where it is vague.
std::string describe(const CLI::ParseError& e) {
  std::string what = e.what();
  for (const char* prefix : {"The following arguments were not expected: ",
                             "The following argument was not expected: "}) {
    if (what.rfind(prefix, 0) != 0)
      continue;
    const std::string args = what.substr(std::strlen(prefix));
    const std::string first = args.substr(0, args.find(' '));
    return (first.starts_with("-") ? "unknown option '" : "unexpected argument '") + first + "'";
  }
  if (auto at = what.find(": At Most 1 required but received "); at != std::string::npos)
    return what.substr(0, at) + ": given more than once";
  return what;
}

}  // namespace

int missingCommand(CLI::App& parent, const std::string& chain) {
  return usage(chain, "a command is required (commands: " + commandNames(parent) + ")");
}

int policyError(const std::string& message) {
  std::fprintf(stderr, "extsys: %s\n", message.c_str());
  return kExitUsage;
}

const CLI::Validator& nonEmpty() {
  static const CLI::Validator v(
      [](std::string& s) { return s.empty() ? std::string("must not be empty") : std::string(); },
      "", "NONEMPTY");
  return v;
}

int checkCommandWords(CLI::App& app, int argc, char** argv) {
  CLI::App* cur = &app;
  std::string chain;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.starts_with("-"))
      continue;  // an option of this level (CLI11 judges it)
    CLI::App* next = findCommand(*cur, word);
    if (next == nullptr)
      return usage(chain, "unknown command '" + word + "' (commands: " + commandNames(*cur) + ")");
    cur = next;
    chain += (chain.empty() ? "" : " ") + word;
    if (cur->get_subcommands([](CLI::App*) { return true; }).empty())
      return -1;  // a command that takes no further command word
  }
  // No command word where one is needed. With options (--help, --version,
  // or one CLI11 will name as unknown) CLI11 judges; without, it is missing.
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] == '-')
      return -1;
  return missingCommand(*cur, chain);
}

int reportParseError(CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0)
    return app.exit(e);  // --help, --version
  return usage(parsedChain(app, nullptr), describe(e));
}

void addHelpCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("help", "Print help for extsys or a COMMAND.");
  cmd->footer("Usage: extsys help [COMMAND [SUBCOMMAND]], e.g. `extsys help policy check`.");
  // Only for the listing; the words are read by helpCommand.
  cmd->allow_extras();
}

int helpCommand(CLI::App& app, const std::vector<std::string>& topic) {
  CLI::App* cur = &app;
  std::string chain = "extsys";
  for (const auto& given : topic) {
    // `help --help` is the help of help.
    const std::string word = given == "-h" || given == "--help" ? "help" : given;
    if (word.starts_with("-"))
      return usage("help", "unknown option '" + word + "'");
    CLI::App* next = findCommand(*cur, word);
    if (next == nullptr)
      return usage("help", "unknown command '" + word + "' (commands: " + commandNames(*cur) + ")");
    if (cur != &app)
      chain += " " + cur->get_name();
    cur = next;
  }
  std::fputs(cur == &app ? app.help().c_str() : cur->help(chain).c_str(), stdout);
  return 0;
}

}  // namespace extsys::app
