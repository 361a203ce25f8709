// SPDX-License-Identifier: MIT
// integration/escape_rows.h - the rows of the escape suite (escape_test.cpp):
// one attack each, with the errno policies/README.md documents for it and
// what makes the claim hold.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace extsys::test {

enum class As : uint8_t { Nobody, Root };

// What holds a row's claim, and so where it holds (policies/README.md,
// "Threat model").
enum class Claim : uint8_t {
  Rule,    // a seccomp rule in BPF: every kernel, any containment, root too
  Ptrace,  // Landlock's ptrace scoping: every Landlock ABI (Linux 5.13+)
  Scoped,  // Landlock's signal and abstract-socket scoping: ABI 6 (6.12+).
           // Under ptrace-only containment the attack works, as documented.
  NotForRoot,  // documented as not covered for root programs: the attack works
};

struct Row {
  Row(std::string n, std::vector<std::string> a, std::string e, As who = As::Nobody,
      Claim c = Claim::Rule, std::string p = "sandbox-strict", std::string m = "")
      : name(std::move(n)), args(std::move(a)), expect(std::move(e)), as(who), claim(c),
        policy(std::move(p)), model(std::move(m)) {}

  std::string name;
  std::vector<std::string> args;  // escape_cases arguments, with {PLACEHOLDERS}
  std::string expect;             // the documented errno where the claim holds ("A|B")
  As as;
  Claim claim;
  // "sandbox-strict" (no supervisor) or "strict-supervised" (tests/data/
  // policies: a strict policy that keeps a supervisor, to attack it).
  std::string policy;
  std::string model;  // --process-model, "" for auto
};

// gtest prints a parameter on failure: its name, not its bytes.
inline void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

// Placeholders resolve to: {SUPER} this run's supervisor, {FRONT} the
// ancestor model's front, {SLEEP} a same-uid process outside, {USERNS_PID}
// one in a user namespace of its own, {USERNS_FD} an fd of that namespace the
// program inherits, {DIR} a world-writable directory, {MNT} a ro,nosuid,
// nodev,noexec tmpfs in a private mount namespace, {ABSTRACT} and
// {ABSTRACT_DGRAM} abstract unix sockets listening outside.
std::vector<Row> nobodyRows();
std::vector<Row> rootRows();

}  // namespace extsys::test
