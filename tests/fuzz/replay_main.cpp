// SPDX-License-Identifier: MIT
// replay_main - runs files through a fuzz harness's LLVMFuzzerTestOneInput
// without libFuzzer, so any compiler can replay the seed corpus (and crash
// reproducers) as an ordinary test:
//
//   policy_loader_replay DIR_OR_FILE...
//
// Directories are read one level deep, in name order. Exit status 0 when every
// input ran (a harness aborts on a violated invariant), 1 when an input could
// not be read or there were none.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool runFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, so AddressSanitizer sees any read past it.
  std::vector<uint8_t> exact(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t ran = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& e : std::filesystem::directory_iterator(arg, ec))
        if (e.is_regular_file())
          files.push_back(e.path());
      if (ec) {
        std::fprintf(stderr, "replay: %s: %s\n", argv[i], ec.message().c_str());
        ok = false;
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(arg);
    }
    for (const auto& f : files) {
      ok = runFile(f) && ok;
      ++ran;
    }
  }
  std::printf("replay: %zu inputs run\n", ran);
  if (ran == 0)
    std::fprintf(stderr, "replay: no inputs (usage: %s DIR_OR_FILE...)\n", argv[0]);
  return ok && ran > 0 ? 0 : 1;
}
