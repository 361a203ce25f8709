// SPDX-License-Identifier: MIT
// bpf_interpreter.h - a small seccomp cBPF interpreter for unit tests: runs
// a program over a seccomp_data as the kernel does and returns its verdict
// (SECCOMP_RET_*). Unsupported instructions fail the calling test.
#pragma once

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace extsys::test_support {

// Executes a classic BPF program over a seccomp_data, as the kernel does.
inline uint32_t runBpf(const std::vector<sock_filter>& prog, const seccomp_data& data) {
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const uint8_t*>(&data);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& i = prog[pc];
    const uint32_t src = BPF_SRC(i.code) == BPF_X ? x : i.k;
    switch (BPF_CLASS(i.code)) {
      case BPF_LD:
        if (BPF_MODE(i.code) == BPF_ABS) {
          EXPECT_LE(i.k + 4, sizeof data);
          std::memcpy(&a, bytes + i.k, 4);
        } else if (BPF_MODE(i.code) == BPF_IMM) {
          a = i.k;
        } else if (BPF_MODE(i.code) == BPF_MEM) {
          a = mem[i.k];
        } else {
          ADD_FAILURE() << "unsupported LD mode at " << pc;
          return 0;
        }
        break;
      case BPF_LDX:
        x = BPF_MODE(i.code) == BPF_MEM ? mem[i.k] : i.k;
        break;
      case BPF_ST:
        mem[i.k] = a;
        break;
      case BPF_STX:
        mem[i.k] = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(i.code)) {
          case BPF_AND: a &= src; break;
          case BPF_OR: a |= src; break;
          case BPF_ADD: a += src; break;
          case BPF_SUB: a -= src; break;
          case BPF_LSH: a <<= src; break;
          case BPF_RSH: a >>= src; break;
          default: ADD_FAILURE() << "unsupported ALU op at " << pc; return 0;
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(i.code) == BPF_JA) {
          pc += i.k;
          break;
        }
        bool cond = false;
        switch (BPF_OP(i.code)) {
          case BPF_JEQ: cond = a == src; break;
          case BPF_JGT: cond = a > src; break;
          case BPF_JGE: cond = a >= src; break;
          case BPF_JSET: cond = (a & src) != 0; break;
          default: ADD_FAILURE() << "unsupported JMP op at " << pc; return 0;
        }
        pc += cond ? i.jt : i.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(i.code) == BPF_A ? a : i.k;
      case BPF_MISC:
        if (BPF_MISCOP(i.code) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
      default:
        ADD_FAILURE() << "unsupported class at " << pc;
        return 0;
    }
  }
  ADD_FAILURE() << "program fell off its end";
  return 0;
}

}  // namespace extsys::test_support
