// SPDX-License-Identifier: MIT
// tests/copy_struct_model.h - the reference the copy_struct_to_user tests
// (tests/unit/copy_struct_test.cpp) and the probe_copy fuzz harness check
// extsys against: simulated target memory and the kernel's algorithm
// written out literally.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace extsys::test {

// Simulated target memory: one page per entry of `writable` from `base`,
// each writable or not, filled with 0xA5.
struct FakeMemory {
  uint64_t base;
  uint64_t page;
  std::vector<uint8_t> bytes;
  std::vector<bool> writablePage;
  int failErrno = 0;  // the writer fails every write with this (ESRCH: target gone)

  FakeMemory(uint64_t b, uint64_t pg, const std::vector<bool>& w)
      : base(b), page(pg), bytes(pg * w.size(), 0xA5), writablePage(w) {}

  bool writable(uint64_t addr) const {
    const uint64_t rel = addr - base;  // wraps for addr < base: then far outside
    return rel < bytes.size() && writablePage[rel / page];
  }
  // The Writer interface of remote::copyStructToUser: like
  // process_vm_writev, stops at the first byte it cannot write and reports
  // how many it wrote.
  long write(uint64_t addr, const void* src, size_t len) {
    if (failErrno != 0) {
      errno = failErrno;
      return -1;
    }
    const auto* s = static_cast<const uint8_t*>(src);
    size_t i = 0;
    for (; i < len && writable(addr + i); ++i)
      bytes[addr + i - base] = s[i];
    if (i == 0 && len > 0) {
      errno = EFAULT;
      return -1;
    }
    return static_cast<long>(i);
  }
};

// The kernel, literally: clear_user(dst + ksize, usize - ksize) first, then
// copy_to_user(dst, src, min(usize, ksize)); EFAULT at the first fault.
inline int referenceCopy(FakeMemory& m, uint64_t dst, uint64_t usize, const uint8_t* src,
                         uint64_t ksize) {
  if (usize > ksize)
    for (uint64_t i = ksize; i < usize; ++i) {
      if (!m.writable(dst + i))
        return EFAULT;
      m.bytes[dst + i - m.base] = 0;
    }
  for (uint64_t i = 0; i < std::min(usize, ksize); ++i) {
    if (!m.writable(dst + i))
      return EFAULT;
    m.bytes[dst + i - m.base] = src[i];
  }
  return 0;
}

}  // namespace extsys::test
