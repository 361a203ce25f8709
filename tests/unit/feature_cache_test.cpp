// SPDX-License-Identifier: MIT
// feature_cache_test - the per-boot cache: hit, miss, corrupt file, wrong
// owner, unsafe mode, other boot id / release / version, and a round trip
// that keeps every fact.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kernel/abi/answers.h"
#include "kernel/discovery/current_features.h"
#include "kernel/discovery/feature_cache.h"

namespace extsys::kernel {
namespace {

class FeatureCache : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/extsys-cache-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    dir_ = base_ + "/extsys";
    key_ = {"boot-1", "6.18.44-test", "0.1.0", true};
    features_ = featuresForVersion({6, 18, 44});
    features_.release = "6.18.44-test";
    features_.report(SyscallId::Openat2).source = FeatureSource::Probe;
    features_.report(SyscallId::Openat2).note = "a note";
    features_.report(SyscallId::Openat2).disagreements.push_back({"resolve", 0x1F, 0x3F});
    features_.report(SyscallId::Clone3).unknownAccepted = 1ULL << 50;
    features_.notify.tested = true;
  }
  void TearDown() override { std::filesystem::remove_all(base_); }
  std::string file() const { return dir_ + "/features.json"; }

  std::string base_, dir_;
  CacheKey key_;
  KernelFeatures features_;
};

TEST_F(FeatureCache, MissThenHitKeepsEveryFact) {
  EXPECT_EQ(loadCache(dir_, key_).state, CacheState::Miss);
  ASSERT_TRUE(storeCache(dir_, key_, features_).ok());
  CacheLoad l = loadCache(dir_, key_);
  ASSERT_EQ(l.state, CacheState::Hit) << l.note;
  const KernelFeatures& f = *l.features;
  EXPECT_EQ(f.release, features_.release);
  EXPECT_EQ(f.version, features_.version);
  EXPECT_EQ(buildAnswers(f)[0].image, buildAnswers(features_)[0].image);
  EXPECT_EQ(buildAnswers(f)[1].image, buildAnswers(features_)[1].image);
  EXPECT_EQ(buildAnswers(f)[2].image, buildAnswers(features_)[2].image);
  for (const auto& d : syscallTable()) {
    EXPECT_EQ(buildAnswers(f)[static_cast<size_t>(d.id)].image,
              buildAnswers(features_)[static_cast<size_t>(d.id)].image)
        << d.name;
    EXPECT_EQ(f.of(d.id).fields, features_.of(d.id).fields) << d.name;
    EXPECT_EQ(f.of(d.id).args, features_.of(d.id).args) << d.name;
    EXPECT_EQ(f.of(d.id).structSize, features_.of(d.id).structSize) << d.name;
    EXPECT_EQ(f.of(d.id).disabledErrno, features_.of(d.id).disabledErrno) << d.name;
  }
  EXPECT_EQ(f.landlockAbi, features_.landlockAbi);
  EXPECT_EQ(f.report(SyscallId::Openat2).source, FeatureSource::Probe);
  EXPECT_EQ(f.report(SyscallId::Openat2).note, "a note");
  ASSERT_EQ(f.report(SyscallId::Openat2).disagreements.size(), 1u);
  EXPECT_EQ(f.report(SyscallId::Openat2).disagreements[0].probe, 0x3Fu);
  EXPECT_EQ(f.report(SyscallId::Clone3).unknownAccepted, 1ULL << 50);
  EXPECT_TRUE(f.notify.tested);
  EXPECT_EQ(f.notify.syncWakeUp, features_.notify.syncWakeUp);
  struct stat st {};
  ASSERT_EQ(stat(file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(FeatureCache, OtherBootKernelOrVersionIsStale) {
  ASSERT_TRUE(storeCache(dir_, key_, features_).ok());
  for (CacheKey k : {CacheKey{"boot-2", key_.release, key_.extsysVersion, true},
                     CacheKey{key_.bootId, "6.19.0", key_.extsysVersion, true},
                     CacheKey{key_.bootId, key_.release, "0.2.0", true},
                     CacheKey{key_.bootId, key_.release, key_.extsysVersion, false}}) {
    CacheLoad l = loadCache(dir_, k);
    EXPECT_EQ(l.state, CacheState::Stale) << l.note;
    EXPECT_FALSE(l.features);
  }
  // And a stale file is simply rewritten.
  CacheKey next{"boot-2", key_.release, key_.extsysVersion, true};
  ASSERT_TRUE(storeCache(dir_, next, features_).ok());
  EXPECT_EQ(loadCache(dir_, next).state, CacheState::Hit);
}

TEST_F(FeatureCache, CorruptFilesAreIgnoredAndRewritten) {
  ASSERT_TRUE(storeCache(dir_, key_, features_).ok());
  const std::string good = [&] {
    std::ifstream in(file());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  for (const std::string& bad :
       {std::string(""), std::string("{"), std::string("[]"), std::string("null"),
        good.substr(0, good.size() / 2),
        std::string(R"({"cache_key":{"boot_id":"boot-1","release":"6.18.44-test","extsys_version":"0.1.0","privileged":true},"features":{"release":1}})")}) {
    std::ofstream(file(), std::ios::trunc) << bad;
    chmod(file().c_str(), 0644);
    CacheLoad l = loadCache(dir_, key_);
    EXPECT_EQ(l.state, CacheState::Corrupt) << "for: " << bad.substr(0, 60) << " note: " << l.note;
    EXPECT_FALSE(l.features);
  }
  ASSERT_TRUE(storeCache(dir_, key_, features_).ok());
  EXPECT_EQ(loadCache(dir_, key_).state, CacheState::Hit);
}

TEST_F(FeatureCache, UnsafeModeOrForeignOwnerIsNotTrusted) {
  ASSERT_TRUE(storeCache(dir_, key_, features_).ok());
  chmod(file().c_str(), 0666);
  EXPECT_EQ(loadCache(dir_, key_).state, CacheState::Foreign);
  chmod(file().c_str(), 0644);
  if (geteuid() == 0) {
    ASSERT_EQ(chown(file().c_str(), 65534, 65534), 0);
    CacheLoad l = loadCache(dir_, key_);
    EXPECT_EQ(l.state, CacheState::Foreign) << l.note;
    // Rewritten: rename replaces the foreign file.
    ASSERT_TRUE(storeCache(dir_, key_, features_).ok());
    EXPECT_EQ(loadCache(dir_, key_).state, CacheState::Hit);
  }
  chmod(dir_.c_str(), 0777);
  EXPECT_EQ(loadCache(dir_, key_).state, CacheState::Foreign);
  EXPECT_FALSE(storeCache(dir_, key_, features_).ok());
}

TEST_F(FeatureCache, NoDirectoryMeansUnavailable) {
  EXPECT_EQ(loadCache("", key_).state, CacheState::Unavailable);
  EXPECT_FALSE(storeCache("", key_, features_).ok());
}

TEST(CacheKey, UsesThisBoot) {
  auto k = currentCacheKey("0.1.0", false);
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->bootId.size(), 36u) << k->bootId;
  EXPECT_FALSE(k->release.empty());
}

TEST(SeccompStatus, CountsTheFiltersOfProcSelfStatus) {
  EXPECT_EQ(seccompFilterCount("Name:\tx\nSeccomp:\t0\nSeccomp_filters:\t0\n"), 0);
  EXPECT_EQ(seccompFilterCount("Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t3\n"), 3);
  EXPECT_EQ(seccompFilterCount("Seccomp:\t2\n"), 1) << "before 5.9 there is no count";
  EXPECT_EQ(seccompFilterCount("Seccomp:\t1\n"), 1) << "strict mode";
  EXPECT_EQ(seccompFilterCount("Name:\tx\n"), 0) << "no seccomp in this kernel";
  EXPECT_EQ(currentSeccompFilterCount(), 0) << "the test itself runs unfiltered";
}

// Under a seccomp filter the cache is neither read nor written: what
// discovery sees there may be the filter's answers.
TEST(SeccompStatus, DiscoveryUnderAFilterSkipsTheCache) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    sock_fprog prog{1, &allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      _exit(10);
    if (currentSeccompFilterCount() != 1)
      _exit(11);
    auto l = currentKernelFeatures(CacheMode::Use, "feature-cache-test");
    if (!l)
      _exit(12);
    if (l->cache != CacheState::Filtered || !l->cacheDir.empty())
      _exit(13);
    if (l->cacheNote.find("seccomp filter") == std::string::npos)
      _exit(14);
    _exit(0);
  }
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0) << "10 filter, 11 count, 12 lookup, 13 cache used, 14 note";
}

}  // namespace
}  // namespace extsys::kernel
