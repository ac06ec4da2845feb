// TempRoot: one scratch directory per fuzzing process (each libFuzzer job/worker is its own
// process), on tmpfs (/dev/shm) when there is one so that fsync costs nothing, else under
// TMPDIR or /tmp. Targets clear it between inputs with clear(); it is removed at exit.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace sessionring::fuzz {

class TempRoot {
 public:
  explicit TempRoot(const char* prefix) {
    std::error_code ec;
    std::string base = "/dev/shm";
    if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0) {
      const char* t = std::getenv("TMPDIR");
      base = t && *t ? t : "/tmp";
    }
    std::string templ = base + "/" + prefix + "-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror("TempRoot: mkdtemp");
      std::abort();
    }
    path_ = templ;
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

  /// Removes everything inside the directory (keeps the directory).
  void clear() const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(path_, ec)) std::filesystem::remove_all(entry.path(), ec);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace sessionring::fuzz
