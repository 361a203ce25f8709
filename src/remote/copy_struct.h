// SPDX-License-Identifier: MIT
// remote/copy_struct.h - the kernel's copy_struct_to_user() (include/linux/
// uaccess.h, 6.13+) over any writer of target memory.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>

namespace extsys::remote {

// A Writer has `long write(uint64_t addr, const void* src, size_t len)`,
// returning the bytes written (fewer on a fault part-way) or -1 with errno.
//
// Semantics, as the kernel:
//   usize > ksize: FIRST zero [dst+ksize, dst+usize), THEN copy ksize bytes;
//   usize <= ksize: copy the first usize bytes of src;
//   any short write -> EFAULT at once (what was written stays written).
// `zeros` must hold at least usize - ksize zero bytes.
// Returns 0, EFAULT, or another errno from the writer (ESRCH: target gone,
// EPERM: not allowed to write).
template <typename Writer>
int copyStructToUser(Writer& w, uint64_t dst, uint64_t usize, std::span<const uint8_t> src,
                     std::span<const uint8_t> zeros) {
  const uint64_t ksize = src.size();
  auto writeAll = [&](uint64_t addr, const void* from, uint64_t len) -> int {
    long n = w.write(addr, from, static_cast<size_t>(len));
    if (n < 0)
      return errno == 0 ? EFAULT : errno;
    return static_cast<uint64_t>(n) == len ? 0 : EFAULT;
  };
  if (usize > ksize) {
    const uint64_t tail = usize - ksize;
    if (tail > zeros.size())
      return EFAULT;  // caller bug: sizes are checked against the page size first
    if (int err = writeAll(dst + ksize, zeros.data(), tail))
      return err;
  }
  const uint64_t head = usize < ksize ? usize : ksize;
  if (head == 0)
    return 0;
  return writeAll(dst, src.data(), head);
}

}  // namespace extsys::remote
