// SPDX-License-Identifier: MIT
// oci_files_test (integration) - `extsys oci-profile --into`, `--base` and
// `--check` on files, through the real CLI: the merge keeps everything but
// linux.seccomp byte for byte and 2^63 exact; the composition keeps a base
// profile's answers and re-adds the probe syscalls with disjoint bit-63
// conditions; the check catches what other tools break (jq's rounding, a
// wrong argument index, a missing listenerPath, a swallowing rule, a base
// rule dropped).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "oci_support.h"
#include "subprocess.h"

namespace extsys::test {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

class OciFiles : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("extsys-ocifiles-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RunResult profile(std::vector<std::string> extra) {
    std::vector<std::string> argv{binary("EXTSYS"), "oci-profile", "--socket", "/run/x/agent.sock"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run({argv, {}, 60, {}});
  }
  RunResult check(const std::string& file, const std::string& base = "") {
    std::vector<std::string> argv{binary("EXTSYS"), "oci-profile", "--check", file};
    if (!base.empty())
      argv.insert(argv.end(), {"--base", base});
    return run({argv, {}, 60, {}});
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

  std::string dir_;
};

// A config written by hand: odd spacing, keys in no order, numbers a double
// would round, no trailing newline.
const char* const kConfig =
    "{\"ociVersion\":\"1.0.2\",  \"process\" : {\"args\":[\"/x\"],\n"
    "  \"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551615,\"soft\":1024}],\n"
    "  \"capabilities\": {\"bounding\": [\"CAP_CHOWN\"]}},\n"
    "\t\"linux\": {\"namespaces\":[{\"type\":\"pid\"}],\n"
    "    \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\"},\n"
    "    \"maskedPaths\": [\"/proc/kcore\"]},\n"
    "  \"zzz\": 9223372036854775807}";

TEST_F(OciFiles, IntoReplacesOnlyTheSeccompSectionExactly) {
  const std::string cfg = write("config.json", kConfig);
  ASSERT_EQ(chmod(cfg.c_str(), 0640), 0);
  RunResult r = profile({"--into", cfg});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  const std::string after = readFile(cfg);
  const std::string before(kConfig);
  const size_t from = before.find("\"seccomp\": ") + 11;
  const size_t to = before.find("},\n    \"maskedPaths\"") + 1;
  EXPECT_EQ(after.substr(0, from), before.substr(0, from));
  const size_t tail = before.size() - to;
  EXPECT_EQ(after.substr(after.size() - tail), before.substr(to));
  // The section is what oci-profile prints, 2^63 as the exact integer.
  auto merged = ojson::parse(after);
  RunResult printed = profile({});
  EXPECT_EQ(merged["linux"]["seccomp"], ojson::parse(printed.out));
  EXPECT_NE(after.find("9223372036854775808"), std::string::npos);
  EXPECT_EQ(after.find("9223372036854776000"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(cfg.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(check(cfg).exitCode(), 0) << check(cfg).describe();
}

TEST_F(OciFiles, IntoAddsTheSectionWhereThereIsNone) {
  const std::string cfg = write("config.json", "{\n  \"ociVersion\": \"1.0.2\",\n  \"linux\": {\n"
                                               "    \"namespaces\": []\n  }\n}\n");
  ASSERT_EQ(profile({"--into", cfg}).exitCode(), 0);
  auto c = ojson::parse(readFile(cfg));
  EXPECT_EQ(c["linux"]["namespaces"], ojson::array());
  EXPECT_EQ(c["linux"]["seccomp"]["listenerPath"], "/run/x/agent.sock");
  const std::string bare = write("bare.json", "{\"ociVersion\":\"1.0.2\"}");
  ASSERT_EQ(profile({"--into", bare}).exitCode(), 0);
  EXPECT_EQ(ojson::parse(readFile(bare))["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
  // Not JSON: an error, the file unchanged.
  const std::string broken = write("broken.json", "{\"linux\": ");
  RunResult r = profile({"--into", broken});
  EXPECT_EQ(r.exitCode(), 1) << r.describe();
  EXPECT_EQ(readFile(broken), "{\"linux\": ");
}

TEST_F(OciFiles, CheckCatchesWhatOtherToolsBreak) {
  RunResult r = profile({});
  ASSERT_EQ(r.exitCode(), 0);
  const std::string good = write("good.json", r.out);
  EXPECT_EQ(check(good).exitCode(), 0) << check(good).describe();
  // jq 1.6: 2^63 through a double.
  std::string text = r.out;
  for (size_t at; (at = text.find("9223372036854775808")) != std::string::npos;)
    text.replace(at, 19, "9223372036854776000");
  RunResult c = check(write("jq.json", text));
  EXPECT_EQ(c.exitCode(), 1) << c.describe();
  EXPECT_NE(c.out.find("9223372036854776000"), std::string::npos) << c.out;
  // Wrong argument index, missing listenerPath, an unconditional rule next to the probe rule.
  auto p = ojson::parse(r.out);
  ojson wrong = p;
  for (auto& rule : wrong["syscalls"])
    if (rule.contains("args"))
      rule["args"][0]["index"] = 0;
  c = check(write("index.json", wrong.dump()));
  EXPECT_EQ(c.exitCode(), 1);
  EXPECT_NE(c.out.find("size argument is"), std::string::npos) << c.out;
  ojson nopath = p;
  nopath.erase("listenerPath");
  c = check(write("nopath.json", nopath.dump()));
  EXPECT_EQ(c.exitCode(), 1);
  EXPECT_NE(c.out.find("listenerPath: missing"), std::string::npos) << c.out;
  ojson swallowed = p;
  swallowed["syscalls"].push_back({{"names", {"openat2", "read"}}, {"action", "SCMP_ACT_ALLOW"}});
  c = check(write("swallow.json", swallowed.dump()));
  EXPECT_EQ(c.exitCode(), 1);
  EXPECT_NE(c.out.find("libseccomp keeps it alone for openat2"), std::string::npos) << c.out;
}

// A base like podman's: deny by default with ENOSYS, a plain allow list
// holding the probe syscalls, a capability-gated allow and its EPERM twin.
const char* const kBase = R"({
  "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
              {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
  "syscalls": [
    {"names": ["read", "openat2", "clone3", "mount_setattr", "exit_group"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
    {"names": ["bpf", "perf_event_open"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["bpf", "perf_event_open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
  ]})";

TEST_F(OciFiles, BaseIsKeptAndProbesAreSplitOffByBit63) {
  const std::string base = write("base.json", kBase);
  RunResult r = profile({"--base", base});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  auto p = ojson::parse(r.out);
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(p["defaultErrnoRet"], 38);
  EXPECT_EQ(p["archMap"], ojson::parse(kBase)["archMap"]);
  EXPECT_EQ(p["listenerPath"], "/run/x/agent.sock");
  // openat2 is out of the plain allow list and back as two disjoint rules.
  EXPECT_EQ(p["syscalls"][0]["names"], ojson({"read", "exit_group"}));
  int split = 0;
  for (const auto& rule : p["syscalls"]) {
    if (rule["names"] != ojson({"openat2"}))
      continue;
    ++split;
    ASSERT_EQ(rule["args"].size(), 1u) << rule.dump();
    EXPECT_EQ(rule["args"][0]["index"], 3);
    EXPECT_EQ(rule["args"][0]["value"].get<uint64_t>(), 1ULL << 63);
    EXPECT_EQ(rule["args"][0]["valueTwo"].get<uint64_t>(),
              rule["action"] == "SCMP_ACT_NOTIFY" ? 1ULL << 63 : 0);
  }
  EXPECT_EQ(split, 2) << r.out;
  const std::string out = write("composed.json", r.out);
  RunResult c = check(out, base);
  EXPECT_EQ(c.exitCode(), 0) << c.describe();
  // Dropping a base rule (the EPERM for bpf) is caught.
  auto dropped = p;
  dropped["syscalls"].erase(dropped["syscalls"].size() - 1);
  for (size_t i = 0; i < dropped["syscalls"].size(); ++i)
    if (dropped["syscalls"][i].value("errnoRet", 0) == 1)
      dropped["syscalls"].erase(i--);
  c = check(write("dropped.json", dropped.dump()), base);
  EXPECT_EQ(c.exitCode(), 1) << c.describe();
  EXPECT_NE(c.out.find("(bpf)"), std::string::npos) << c.out;

  // --into with that base resolves it for the config's capabilities.
  const std::string cfg = write("config.json", kConfig);
  ASSERT_EQ(profile({"--into", cfg, "--base", base}).exitCode(), 0);
  auto s = ojson::parse(readFile(cfg))["linux"]["seccomp"];
  EXPECT_FALSE(s.contains("archMap"));
#if defined(__x86_64__)
  EXPECT_EQ(s["architectures"][0], "SCMP_ARCH_X86_64");
#elif defined(__aarch64__)
  EXPECT_EQ(s["architectures"][0], "SCMP_ARCH_AARCH64");
#endif
  bool eperm = false;
  for (const auto& rule : s["syscalls"]) {
    EXPECT_FALSE(rule.contains("includes") || rule.contains("excludes")) << rule.dump();
    eperm = eperm || (rule["names"].dump().find("bpf") != std::string::npos &&
                      rule["action"] == "SCMP_ACT_ERRNO");
    EXPECT_FALSE(rule["names"].dump().find("bpf") != std::string::npos &&
                 rule["action"] == "SCMP_ACT_ALLOW")
        << "no CAP_SYS_ADMIN in the config: " << rule.dump();
  }
  EXPECT_TRUE(eperm) << s.dump();
  EXPECT_EQ(check(cfg).exitCode(), 0) << check(cfg).describe();
}

}  // namespace
}  // namespace extsys::test
