// What one OFD byte-range lock costs with N locks already held on the same file, and with the
// same N spread over 64 files (the LogStore's writer-lock layout, docs/store.md "Writer lock").
// A plain program (no Google Benchmark): prints one line per N.
//   lock_list_bench [DIR]     (default: the temporary directory)
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

int lock_byte(int fd, std::uint64_t offset) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  return ::fcntl(fd, F_OFD_SETLK, &fl);
}

/// Holds `held` random bytes over `files` files, then times 1,000 more locks: µs per lock.
double per_lock_us(const std::filesystem::path& dir, int held, int files) {
  std::vector<int> fds;
  for (int i = 0; i < files; ++i) {
    const auto path = dir / ("lock-bench-" + std::to_string(::getpid()) + "-" + std::to_string(i));
    fds.push_back(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    ::unlink(path.c_str());  // the descriptor keeps the inode
  }
  std::mt19937_64 rng(42);
  auto lock_random = [&] {
    const std::uint64_t h = rng();
    return lock_byte(fds[h % static_cast<std::uint64_t>(files)], h >> 2);
  };
  for (int i = 0; i < held; ++i) lock_random();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) lock_random();
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 1000;
  for (int fd : fds) ::close(fd);
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path();
  std::printf("OFD byte-range lock (F_OFD_SETLK) on random bytes, µs per lock after N held\n");
  for (int n : {100, 1000, 10000, 20000})
    std::printf("N = %5d   one file %8.1f us   64 files %6.1f us\n", n, per_lock_us(dir, n, 1), per_lock_us(dir, n, 64));
}
