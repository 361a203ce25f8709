// SPDX-License-Identifier: MIT
// process_model_test - the choice between exec in place and the ancestor
// model, for every Yama scope, privilege and request.
#include <gtest/gtest.h>

#include "launcher/process_model.h"

namespace extsys::launcher {
namespace {

PtraceAccess yama(std::optional<int> scope, bool cap) {
  PtraceAccess a;
  a.yamaScope = scope;
  a.capSysPtrace = cap;
  return a;
}

std::string chosen(const ModelChoice& c) { return c.model ? name(*c.model) : "refused"; }

TEST(ProcessModel, AutoFollowsYamaAndCapSysPtrace) {
  struct Case {
    std::optional<int> scope;
    bool cap;
    const char* model;
  };
  for (const Case& c : {Case{std::nullopt, false, "in-place"}, Case{std::nullopt, true, "in-place"},
                        Case{0, false, "in-place"}, Case{0, true, "in-place"},
                        Case{1, false, "ancestor"}, Case{1, true, "in-place"},
                        Case{2, false, "refused"}, Case{2, true, "in-place"},
                        Case{3, false, "refused"}, Case{3, true, "refused"}}) {
    const ModelChoice m = chooseProcessModel(ModelRequest::Auto, yama(c.scope, c.cap));
    EXPECT_EQ(chosen(m), c.model) << "scope " << c.scope.value_or(-1) << " cap " << c.cap;
    EXPECT_FALSE(m.reason.empty());
    EXPECT_TRUE(m.warning.empty()) << m.warning;
    EXPECT_EQ(m.reason.find('\n'), std::string::npos) << "one line: " << m.reason;
  }
}

TEST(ProcessModel, ReasonsSayWhy) {
  EXPECT_EQ(chooseProcessModel(ModelRequest::Auto, yama(std::nullopt, false)).reason,
            "no Yama (no /proc/sys/kernel/yama/ptrace_scope)");
  EXPECT_EQ(chooseProcessModel(ModelRequest::Auto, yama(1, false)).reason,
            "Yama ptrace_scope=1 without CAP_SYS_PTRACE: only an ancestor may write into a process");
  const std::string two = chooseProcessModel(ModelRequest::Auto, yama(2, false)).reason;
  EXPECT_NE(two.find("ptrace_scope=2"), std::string::npos) << two;
  EXPECT_NE(two.find("E2BIG"), std::string::npos) << two;
  EXPECT_NE(two.find("run as root"), std::string::npos) << two;
  EXPECT_NE(two.find("--process-model"), std::string::npos) << two;
  const std::string three = chooseProcessModel(ModelRequest::Auto, yama(3, true)).reason;
  EXPECT_NE(three.find("even for root"), std::string::npos) << three;
  EXPECT_EQ(three.find("run as root"), std::string::npos) << "root cannot help with 3: " << three;
}

TEST(ProcessModel, ForcedModelsRunAndWarnWhereTheyCannotWork) {
  auto forced = [](ModelRequest r, std::optional<int> scope, bool cap) {
    return chooseProcessModel(r, yama(scope, cap));
  };
  EXPECT_EQ(chosen(forced(ModelRequest::InPlace, 1, false)), "in-place");
  EXPECT_NE(forced(ModelRequest::InPlace, 1, false).warning.find("--process-model ancestor would work"),
            std::string::npos);
  EXPECT_TRUE(forced(ModelRequest::Ancestor, 1, false).warning.empty());
  EXPECT_TRUE(forced(ModelRequest::Ancestor, std::nullopt, false).warning.empty());
  EXPECT_TRUE(forced(ModelRequest::InPlace, 2, true).warning.empty());
  for (auto r : {ModelRequest::InPlace, ModelRequest::Ancestor}) {
    EXPECT_NE(forced(r, 2, false).warning.find("E2BIG"), std::string::npos);
    EXPECT_NE(forced(r, 3, true).warning.find("E2BIG"), std::string::npos);
    EXPECT_NE(forced(r, 3, true).reason.find("forced by --process-model"), std::string::npos);
  }
}

TEST(ProcessModel, UnreadableScopeAssumesOne) {
  PtraceAccess a;
  a.yamaUnreadable = true;
  EXPECT_EQ(chosen(chooseProcessModel(ModelRequest::Auto, a)), "ancestor");
}

TEST(ProcessModel, ParsesRequests) {
  EXPECT_EQ(*parseModelRequest("auto"), ModelRequest::Auto);
  EXPECT_EQ(*parseModelRequest("in-place"), ModelRequest::InPlace);
  EXPECT_EQ(*parseModelRequest("ancestor"), ModelRequest::Ancestor);
  EXPECT_FALSE(parseModelRequest("inplace").ok());
}

}  // namespace
}  // namespace extsys::launcher
