// SPDX-License-Identifier: MIT
// copy_struct_test - copyStructToUser against a byte-by-byte reference model
// of the kernel's copy_struct_to_user(), for every size 0 .. 2*page+1, every
// syscall's answer image and several fault layouts; then the real
// process_vm_writev writer against the same model on real mappings.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "../copy_struct_model.h"
#include "kernel/abi/answers.h"
#include "remote/copy_struct.h"
#include "remote/remote_memory.h"

namespace extsys {
namespace {

using test::FakeMemory;
using test::referenceCopy;

constexpr int kPages = 4;
constexpr uint64_t kBase = 0x10000;

struct Layout {
  const char* name;
  std::vector<bool> writable;  // one per page
};

std::vector<Layout> layouts() {
  return {
      {"all-writable", {true, true, true, true}},
      {"page1-readonly", {true, false, true, true}},
      {"page2-readonly", {true, true, false, true}},
      {"page0-readonly", {false, true, true, true}},
  };
}

class CopyStructModel : public ::testing::TestWithParam<kernel::SyscallId> {};

TEST_P(CopyStructModel, MatchesKernelForEverySizeAndLayout) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const auto answers = kernel::buildAnswers(kernel::featuresForVersion({6, 18, 0}));
  const auto& a = answers[static_cast<size_t>(GetParam())];
  ASSERT_TRUE(a.present);
  const std::span<const uint8_t> image(a.image.data(), a.ksize);
  // The struct placed at a page start, just before a page boundary, and
  // straddling it.
  const uint64_t offsets[] = {0, page - 1, page - a.ksize / 2, 3};
  size_t cases = 0;
  for (const auto& layout : layouts()) {
    for (uint64_t off : offsets) {
      for (uint64_t usize = 0; usize <= 2 * page + 1; ++usize) {
        FakeMemory model(kBase, page, layout.writable), real(kBase, page, layout.writable);
        const uint64_t dst = model.base + off;
        const int want = referenceCopy(model, dst, usize, image.data(), image.size());
        const int got = remote::copyStructToUser(real, dst, usize, image, remote::zeroPage());
        ASSERT_EQ(want, got) << layout.name << " offset " << off << " usize " << usize;
        ASSERT_EQ(model.bytes, real.bytes) << layout.name << " offset " << off << " usize " << usize;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, layouts().size() * 4 * (2 * page + 2));
}

INSTANTIATE_TEST_SUITE_P(AllSyscalls, CopyStructModel,
                         ::testing::Values(kernel::SyscallId::Openat2, kernel::SyscallId::Clone3,
                                           kernel::SyscallId::MountSetattr),
                         [](const auto& p) {
                           return std::string(kernel::describe(p.param).name);
                         });

// The real writer (process_vm_writev into this process) on real mappings
// with a read-only or unmapped page behaves as the model says.
TEST(ProcessWriter, MatchesModelOnRealMappings) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const auto answers = kernel::buildAnswers(kernel::featuresForVersion({6, 18, 0}));
  const auto& a = answers[static_cast<size_t>(kernel::SyscallId::Clone3)];
  const std::span<const uint8_t> image(a.image.data(), a.ksize);

  for (int protPage = -1; protPage < kPages; ++protPage) {
    for (int prot : {PROT_READ, PROT_NONE}) {
      void* map = mmap(nullptr, page * kPages, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      ASSERT_NE(map, MAP_FAILED);
      auto* mem = static_cast<uint8_t*>(map);
      std::vector<bool> writable(kPages, true);
      if (protPage >= 0)
        writable[static_cast<size_t>(protPage)] = false;
      for (uint64_t off : {uint64_t{0}, uint64_t{page - 40}, uint64_t{2 * page - 88}}) {
        for (uint64_t usize : {uint64_t{64}, uint64_t{87}, uint64_t{88}, uint64_t{200},
                               uint64_t{page}, uint64_t{page + 50}}) {
          std::memset(mem, 0xA5, page * kPages);
          if (protPage >= 0) {
            ASSERT_EQ(mprotect(mem + page * static_cast<size_t>(protPage), page, prot), 0);
          }
          FakeMemory model(reinterpret_cast<uint64_t>(mem), page, writable);
          const uint64_t dst = model.base + off;
          const int want = referenceCopy(model, dst, usize, image.data(), image.size());
          remote::ProcessWriter w(getpid());
          const int got = remote::copyStructToUser(w, dst, usize, image, remote::zeroPage());
          if (protPage >= 0) {
            ASSERT_EQ(mprotect(mem + page * static_cast<size_t>(protPage), page,
                               PROT_READ | PROT_WRITE), 0);
          }
          ASSERT_EQ(want, got) << "prot page " << protPage << " off " << off << " usize " << usize;
          ASSERT_EQ(0, std::memcmp(model.bytes.data(), mem, model.bytes.size()))
              << "prot page " << protPage << " off " << off << " usize " << usize;
        }
      }
      munmap(map, page * kPages);
    }
  }
}

TEST(ProcessWriter, GoneTargetIsEsrch) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0)
    _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  remote::ProcessWriter w(child);
  uint8_t b = 1;
  EXPECT_EQ(w.write(0x1000, &b, 1), -1);
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace extsys
