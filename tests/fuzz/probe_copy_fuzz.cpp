// SPDX-License-Identifier: MIT
// probe_copy_fuzz - libFuzzer harness for the probe checks and the answer copy.
//
// The input chooses a syscall, its six arguments (CHECK_FIELDS bit, random
// high bits, a size near the interesting boundaries or any 64-bit value, the
// mount_setattr flags argument), a page size (4 KiB, 16 KiB, 64 KiB), a kernel
// version for the answer image and a memory layout (1-4 pages, each writable
// or not, a base address, an offset). Checked, aborting on any mismatch:
//   (a) kernel::checkProbe equals an independent re-implementation of the
//       kernel's order of checks (src/kernel/abi/CHECK_FIELDS.md, 'Order of checks');
//   (b) when the verdict is "copy", remote::copyStructToUser over a fake
//       writer gives the same errno and the same memory bytes as a
//       byte-by-byte model of copy_struct_to_user() (clear the tail first,
//       then copy; -EFAULT at the first fault, what was written stays);
//       with the real page size, also the real process_vm_writev writer on
//       real mappings (read-only and PROT_NONE pages, guard pages around).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "../copy_struct_model.h"
#include "kernel/abi/answers.h"
#include "kernel/features/feature_set.h"
#include "kernel/abi/syscalls.h"
#include "remote/copy_struct.h"
#include "remote/remote_memory.h"

namespace {

using extsys::kernel::SyscallId;

[[noreturn]] void mismatch(const char* what, SyscallId id, uint64_t usize, uint64_t dst,
                           long long got, long long want) {
  std::fprintf(stderr,
               "probe_copy_fuzz: %s: syscall %s usize %llu dst 0x%llx: got %lld, model %lld\n",
               what, std::string(extsys::kernel::describe(id).name).c_str(),
               static_cast<unsigned long long>(usize), static_cast<unsigned long long>(dst), got,
               want);
  std::abort();
}

// Reads the input front to back; past the end every value is 0.
class Input {
public:
  Input(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint64_t u64() {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= static_cast<uint64_t>(u8()) << (8 * b);
    return v;
  }

private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

// (a) The kernel's checks, written from the syscall code, not from the
// descriptor table: mount_setattr's unsigned int flags first, then the size
// with bit 63 cleared (any other high bit makes it larger than a page).
extsys::kernel::ProbeVerdict modelCheck(SyscallId id, const uint64_t (&args)[6], uint64_t page) {
  constexpr uint64_t kCheckFields = 1ULL << 63;
  switch (id) {
    case SyscallId::Openat2: {  // openat2(dfd, filename, how, usize)
      const uint64_t usize = args[3] & ~kCheckFields;
      if (usize < 24)  // OPEN_HOW_SIZE_VER0
        return {EINVAL, 0};
      if (usize > page)
        return {E2BIG, 0};
      return {0, usize};
    }
    case SyscallId::Clone3: {  // clone3(uargs, size)
      const uint64_t usize = args[1] & ~kCheckFields;
      if (usize > page)
        return {E2BIG, 0};
      if (usize < 64)  // CLONE_ARGS_SIZE_VER0
        return {EINVAL, 0};
      return {0, usize};
    }
    case SyscallId::MountSetattr: {  // mount_setattr(dfd, path, flags, uattr, usize)
      const uint32_t flags = static_cast<uint32_t>(args[2]);
      // AT_EMPTY_PATH | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT
      if (flags & ~uint32_t{0x1000 | 0x8000 | 0x100 | 0x800})
        return {EINVAL, 0};
      const uint64_t usize = args[4] & ~kCheckFields;
      if (usize > page)
        return {E2BIG, 0};
      if (usize < 32)  // MOUNT_ATTR_SIZE_VER0
        return {EINVAL, 0};
      return {0, usize};
    }
    case SyscallId::OpenTreeAttr: {  // open_tree_attr(dfd, filename, flags, uattr, usize)
      if (args[3] == 0 && args[4] != 0)
        return {EINVAL, 0};
      // vfs_open_tree on 6.18: OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
      // AT_NO_AUTOMOUNT | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW; AT_RECURSIVE only with CLONE.
      const uint32_t flags = static_cast<uint32_t>(args[2]);
      if (flags & ~uint32_t{0x1 | 0x80000 | 0x1000 | 0x800 | 0x8000 | 0x100})
        return {EINVAL, 0};
      if ((flags & 0x8000) && !(flags & 0x1))
        return {EINVAL, 0};
      const uint64_t usize = args[4] & ~kCheckFields;
      if (usize > page)
        return {E2BIG, 0};
      if (usize < 32)
        return {EINVAL, 0};
      return {0, usize};
    }
    case SyscallId::Setxattrat:  // *xattrat(dfd, path, at_flags, name, uargs, usize)
    case SyscallId::Getxattrat: {
      const uint64_t usize = args[5] & ~kCheckFields;
      if (usize < 16)  // XATTR_ARGS_SIZE_VER0; at_flags only after the copy
        return {EINVAL, 0};
      if (usize > page)
        return {E2BIG, 0};
      return {0, usize};
    }
    case SyscallId::FileGetattr:  // file_*attr(dfd, filename, ufattr, usize, at_flags)
    case SyscallId::FileSetattr: {
      // unsigned int at_flags: AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH
      if (static_cast<uint32_t>(args[4]) & ~uint32_t{0x100 | 0x1000})
        return {EINVAL, 0};
      const uint64_t usize = args[3] & ~kCheckFields;
      if (usize > page)
        return {E2BIG, 0};
      if (usize < 24)  // FILE_ATTR_SIZE_VER0
        return {EINVAL, 0};
      return {0, usize};
    }
    case SyscallId::LandlockCreateRuleset: {  // landlock_create_ruleset(attr, size, flags)
      // Landlock is on in the 6.18 features. Any flag is EINVAL with a size
      // (the version query needs size 0, which a probe never has: the
      // supervisor answers that query before checkProbe).
      if (static_cast<uint32_t>(args[2]) != 0)
        return {EINVAL, 0};
      if (args[0] == 0)  // copy_min_struct_from_user: NULL first
        return {EFAULT, 0};
      const uint64_t usize = args[1] & ~kCheckFields;
      if (usize < 8)
        return {EINVAL, 0};
      if (usize > page)
        return {E2BIG, 0};
      return {0, usize};
    }
  }
  std::abort();
}

using extsys::test::FakeMemory;
using extsys::test::referenceCopy;

// The real writer on a real mapping: guard page, `perms.size()` pages with
// the given protections, guard page; dst lies inside the middle pages and
// usize <= page, so nothing outside the mapping is ever written.
void checkRealWriter(SyscallId id, const std::vector<bool>& writable, uint8_t noneMask,
                     uint64_t offset, uint64_t usize, std::span<const uint8_t> image) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t total = page * (writable.size() + 2);
  void* map = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED)
    return;  // out of memory is not a finding
  auto* mem = static_cast<uint8_t*>(map);
  std::memset(mem, 0xA5, total);
  std::vector<bool> modelPerms{false};
  modelPerms.insert(modelPerms.end(), writable.begin(), writable.end());
  modelPerms.push_back(false);
  for (size_t p = 0; p < modelPerms.size(); ++p)
    if (!modelPerms[p]) {
      const bool none = p == 0 || p == modelPerms.size() - 1 || ((noneMask >> p) & 1);
      if (mprotect(mem + p * page, page, none ? PROT_NONE : PROT_READ) != 0)
        std::abort();
    }
  FakeMemory model(reinterpret_cast<uint64_t>(mem), page, modelPerms);
  const uint64_t dst = model.base + page + offset % (page * writable.size());
  const int want = referenceCopy(model, dst, usize, image.data(), image.size());
  extsys::remote::ProcessWriter writer(getpid());
  const int got = extsys::remote::copyStructToUser(writer, dst, usize, image,
                                                   extsys::remote::zeroPage());
  if (mprotect(mem, total, PROT_READ) != 0)
    std::abort();
  if (got != want)
    mismatch("real writer errno differs from the model", id, usize, dst, got, want);
  for (size_t i = 0; i < total; ++i)
    if (mem[i] != model.bytes[i])
      mismatch("real writer memory differs from the model at byte", id, usize, dst,
               static_cast<long long>(i), model.bytes[i]);
  munmap(map, total);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const auto id = static_cast<SyscallId>(in.u8() % extsys::kernel::kSyscallCount);
  const auto& desc = extsys::kernel::describe(id);
  static constexpr uint64_t kPages[] = {4096, 16384, 65536};
  const uint64_t page = kPages[in.u8() % 3];

  // The six arguments: raw bytes, then the size and flags arguments shaped.
  uint64_t args[6];
  for (auto& a : args)
    a = in.u64();
  const uint8_t shape = in.u8();
  const size_t sizeArg = desc.sizeArg;
  if ((shape & 3) != 0) {  // a size near the boundaries: 0 .. 2*page+1
    const uint64_t small = in.u16() | static_cast<uint64_t>(in.u8()) << 16;
    args[sizeArg] = (shape & 3) == 1 ? small % 256 : small % (2 * page + 2);
    if (shape & 4)  // plus one random high bit (below 63)
      args[sizeArg] |= 1ULL << (32 + in.u8() % 31);
  }
  if (shape & 8)
    args[sizeArg] |= 1ULL << 63;  // CHECK_FIELDS (the filter only notifies these)
  else if (shape & 16)
    args[sizeArg] &= ~(1ULL << 63);
  if (id == SyscallId::MountSetattr && (shape & 32)) {  // mostly valid AT_* flags
    static constexpr uint64_t kAt[] = {0x1000, 0x8000, 0x100, 0x800};
    const uint8_t pick = in.u8();
    uint64_t flags = args[2] & 0xFFFFFFFF00000000ULL;  // high bits are ignored
    for (int b = 0; b < 4; ++b)
      if (pick & (1u << b))
        flags |= kAt[b];
    if (pick & 0x10)
      flags |= 1ULL << (pick >> 5 << 2);  // one more bit, maybe invalid
    args[2] = flags;
  }

  // (a) the checks.
  // The checked arguments' masks of a kernel that has every syscall.
  static const auto newest =
      extsys::kernel::buildAnswers(extsys::kernel::featuresForVersion({6, 18, 0}));
  const auto verdict =
      extsys::kernel::checkProbe(desc, newest[static_cast<size_t>(id)], args, page);
  const auto model = modelCheck(id, args, page);
  if (verdict.err != model.err)
    mismatch("checkProbe errno differs from the kernel order", id, args[sizeArg], 0, verdict.err,
             model.err);
  if (verdict.err != 0)
    return 0;
  if (verdict.usize != model.usize || verdict.usize > page)
    mismatch("checkProbe usize differs", id, args[sizeArg], 0,
             static_cast<long long>(verdict.usize), static_cast<long long>(model.usize));

  // (b) the copy, with the answer image of some kernel version.
  static constexpr extsys::kernel::KernelVersion kVersions[] = {
      {5, 3, 0}, {5, 4, 0}, {5, 10, 0}, {6, 1, 0}, {6, 18, 0}, {7, 2, 0}};
  const uint8_t versionPick = in.u8();
  static const auto answers = [] {
    std::vector<extsys::kernel::ProbeAnswers> all;
    for (const auto& v : kVersions)
      all.push_back(extsys::kernel::buildAnswers(extsys::kernel::featuresForVersion(v)));
    return all;
  }();
  const auto& a = answers[versionPick % std::size(kVersions)][static_cast<size_t>(id)];
  const std::span<const uint8_t> image(a.image.data(), a.ksize);

  const uint8_t layout = in.u8();
  const size_t npages = 1 + (layout & 3);
  std::vector<bool> writable(npages);
  for (size_t p = 0; p < npages; ++p)
    writable[p] = ((layout >> (2 + p)) & 1) == 0;
  const uint8_t mode = in.u8();
  const uint64_t base = (0x10 + in.u16()) * page;  // page aligned, far from 0 and from 2^64
  uint64_t offset = in.u64();
  if ((mode & 3) != 0)  // mostly inside the pages or just before them
    offset = offset % (npages * page + 2 * page) - page;
  const uint64_t dst = base + offset;  // any 64-bit address when mode & 3 == 0

  FakeMemory ref(base, page, writable), impl(base, page, writable);
  if (mode & 4)
    impl.failErrno = (mode & 8) ? ESRCH : EPERM;  // target gone / not allowed
  const int want = impl.failErrno != 0 ? (verdict.usize == 0 ? 0 : impl.failErrno)
                                       : referenceCopy(ref, dst, verdict.usize, image.data(),
                                                       image.size());
  const int got = extsys::remote::copyStructToUser(impl, dst, verdict.usize, image,
                                                   extsys::remote::zeroPage());
  if (got != want)
    mismatch("copyStructToUser errno differs from the model", id, verdict.usize, dst, got, want);
  if (impl.bytes != ref.bytes) {
    const auto at = std::mismatch(impl.bytes.begin(), impl.bytes.end(), ref.bytes.begin());
    mismatch("copyStructToUser memory differs from the model at byte", id, verdict.usize, dst,
             at.first - impl.bytes.begin(), *at.second);
  }

  // The real writer, where the page size is this machine's.
  if ((mode & 0x30) == 0x30 && page == static_cast<uint64_t>(sysconf(_SC_PAGESIZE)))
    checkRealWriter(id, writable, in.u8(), in.u64(), verdict.usize, image);
  return 0;
}
