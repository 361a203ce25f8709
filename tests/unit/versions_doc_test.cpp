// SPDX-License-Identifier: MIT
// versions_doc_test - src/kernel/features/VERSIONS.md against the version
// table: every row of its answer tables ("| kernel | SYSCALL FIELD | ... |")
// must be what buildAnswers(featuresForVersion(v)) gives, cell by cell.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kernel/abi/answers.h"

namespace extsys::kernel {
namespace {

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      while (!cell.empty() && cell.back() == ' ')
        cell.pop_back();
      out.push_back(cell.substr(cell.find_first_not_of(' ') == std::string::npos
                                    ? cell.size()
                                    : cell.find_first_not_of(' ')));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

// "0x3_ffff_ffff", "07777", "88" -> the value.
std::optional<uint64_t> number(std::string s) {
  std::erase(s, '_');
  if (s.empty())
    return std::nullopt;
  size_t used = 0;
  try {
    const uint64_t v = std::stoull(s, &used, 0);
    if (used == s.size())
      return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// "5.12–5.13" -> 5.12, "7.2 and later" -> 7.2; "before 5.3" -> none.
std::optional<KernelVersion> firstVersion(const std::string& s) {
  if (s.starts_with("before"))
    return std::nullopt;
  return KernelVersion::parse(s.substr(0, s.find_first_not_of("0123456789.")));
}

struct Column {
  SyscallId id;
  std::string what;  // a field name, "size", or "arg NAME"; "ABI": the Landlock ABI column
};

TEST(VersionsDoc, AnswerTablesMatchTheVersionTable) {
  std::ifstream in(std::string(EXTSYS_SOURCE_ROOT) + "/src/kernel/features/VERSIONS.md");
  ASSERT_TRUE(in) << "VERSIONS.md not found";
  std::vector<Column> columns;
  int rows = 0, checked = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("|")) {
      columns.clear();
      continue;
    }
    const std::vector<std::string> c = cells(line);
    if (c.empty())
      continue;
    if (c[0] == "kernel") {  // a header: "SYSCALL WHAT" per column
      columns.clear();
      for (size_t i = 1; i < c.size(); ++i) {
        if (c[i] == "Landlock ABI") {
          columns.push_back({SyscallId::LandlockCreateRuleset, "ABI"});
          continue;
        }
        const size_t sp = c[i].find(' ');
        auto id = syscallByName(c[i].substr(0, sp));
        if (!id || sp == std::string::npos) {
          columns.clear();
          break;
        }
        columns.push_back({*id, c[i].substr(sp + 1)});
      }
      continue;
    }
    if (columns.empty() || c[0].starts_with("---"))
      continue;
    auto v = firstVersion(c[0]);
    if (!v)
      continue;
    ++rows;
    const KernelFeatures features = featuresForVersion(*v);
    const ProbeAnswers answers = buildAnswers(features);
    ASSERT_EQ(c.size(), columns.size() + 1) << line;
    for (size_t i = 0; i < columns.size(); ++i) {
      const ProbeAnswer& a = answers[static_cast<size_t>(columns[i].id)];
      const std::string where = line + "\n  column " + std::string(describe(a.id).name) + " " +
                                columns[i].what + ": " + c[i + 1];
      if (columns[i].what == "ABI") {
        EXPECT_EQ(std::to_string(features.landlockAbi), c[i + 1]) << where;
        ++checked;
        continue;
      }
      if (c[i + 1] == "–") {
        EXPECT_FALSE(a.present) << where;
        continue;
      }
      ASSERT_TRUE(a.present) << where;
      const auto want = number(c[i + 1]);
      ASSERT_TRUE(want) << where;
      const SyscallDesc& d = describe(a.id);
      if (columns[i].what == "size") {
        EXPECT_EQ(a.ksize, *want) << where;
      } else if (columns[i].what.starts_with("arg ")) {
        auto arg = d.argIndex(columns[i].what.substr(4));
        ASSERT_TRUE(arg) << where;
        EXPECT_EQ(d.args[*arg].fixedMask.value_or(a.argMasks[*arg]), *want) << where;
      } else {
        auto field = d.fieldIndex(columns[i].what);
        ASSERT_TRUE(field) << where;
        EXPECT_EQ(a.field(*field), *want) << where;
      }
      ++checked;
    }
  }
  EXPECT_GE(rows, 20) << "answer tables missing in VERSIONS.md";
  EXPECT_GE(checked, 100);
}

}  // namespace
}  // namespace extsys::kernel
