// CursorFile: `<session>/CURSORS` (engine/detail/cursor_file.hpp, docs/store.md "Durable named
// cursors").
#include "detail/cursor_file.hpp"

#include "detail/cursor_checks.hpp"
#include "detail/log_file.hpp"

#include <xxhash.h>

#include <cerrno>
#include <charconv>
#include <cstdio>

#include <fcntl.h>
#include <unistd.h>

namespace sessionring::detail {
namespace {

constexpr std::string_view kMagic = "sessionring-cursors ";

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return std::string(buf, 16);
}

Error damaged(const std::string& path, std::string_view why) {
  std::string text = "cursor file '";
  text.append(path).append("' is damaged: ").append(why);
  return Error(Errc::damaged_store, std::move(text));
}

}  // namespace

std::string CursorFile::encode(const CursorTable::Map& map) {
  std::string out(kMagic);
  out.append(std::to_string(kVersion)).append("\n");
  for (const auto& [name, pos] : map) out.append(std::to_string(pos)).append(" ").append(name).append("\n");
  const std::uint64_t sum = XXH3_64bits(out.data(), out.size());
  out.append("end ").append(std::to_string(map.size())).append(" ").append(hex64(sum)).append("\n");
  return out;
}

Result<CursorTable::Map> CursorFile::decode(std::string_view text, const std::string& path) {
  if (text.substr(0, kMagic.size()) != kMagic) return damaged(path, "no 'sessionring-cursors' header");
  std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return damaged(path, "truncated header");
  int version = 0;
  const char* vb = text.data() + kMagic.size();
  if (std::from_chars(vb, text.data() + nl, version).ec != std::errc{}) return damaged(path, "bad version");
  if (version > kVersion) {
    std::string m = "cursor file '";
    m.append(path).append("' has format ").append(std::to_string(version)).append(", this build reads up to ");
    m.append(std::to_string(kVersion)).append(": written by a newer sessionring");
    return Error(Errc::unsupported_format, std::move(m));
  }
  CursorTable::Map map;
  std::size_t at = nl + 1;
  while (at < text.size()) {
    nl = text.find('\n', at);
    if (nl == std::string_view::npos) return damaged(path, "truncated line");
    std::string_view line = text.substr(at, nl - at);
    if (line.substr(0, 4) == "end ") {
      const std::uint64_t sum = XXH3_64bits(text.data(), at);
      std::string expect = "end ";
      expect.append(std::to_string(map.size())).append(" ").append(hex64(sum));
      if (line != expect || nl + 1 != text.size()) return damaged(path, "checksum or count mismatch");
      return map;
    }
    const std::size_t sp = line.find(' ');
    Sequence pos = 0;
    if (sp == std::string_view::npos || std::from_chars(line.data(), line.data() + sp, pos).ec != std::errc{})
      return damaged(path, "bad cursor line");
    map.insert_or_assign(std::string(line.substr(sp + 1)), pos);
    at = nl + 1;
  }
  return damaged(path, "no 'end' line");
}

Result<CursorTable::Map> CursorFile::load() const {
  const std::string path = dir_ + "/" + std::string(kName);
  auto f = File::open(path, O_RDONLY);
  if (!f) {
    if (f.code() == Errc::not_found) return CursorTable::Map{};
    return f.error();
  }
  f->set_fault_injector(faults_);
  std::string text;
  char buf[4096];
  for (;;) {
    auto n = f->read_at(buf, sizeof buf, text.size());
    if (!n) return n.error();
    if (*n == 0) break;
    text.append(buf, *n);
  }
  return decode(text, path);
}

Status CursorFile::load_locked() {
  if (cache_) return {};
  auto m = load();
  if (!m) return m.error();
  cache_ = std::move(*m);
  publish_lowest_locked();
  return {};
}

void CursorFile::publish_lowest_locked() {
  const auto low = CursorTable::lowest_of(*cache_);
  lowest_.store(low ? *low : kNone, std::memory_order_relaxed);  // relaxed: see the declaration
}

Status CursorFile::replace_locked(const CursorTable::Map& map) {
  const std::string path = dir_ + "/" + std::string(kName);
  const std::string tmp = path + ".tmp";
  const std::string text = encode(map);
  {
    auto f = File::open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!f) return f.error();
    f->set_fault_injector(faults_);
    if (Status st = f->write_at(text.data(), text.size(), 0); !st) return st;
    if (durable_)
      if (Status st = f->datasync(); !st) return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename to", path, errno);
  return durable_ ? sync_directory(dir_) : Status{};
}

Status CursorFile::put(std::string_view name, Sequence position) {
  std::lock_guard lock(mutex_);
  if (Status st = load_locked(); !st) return st;
  CursorTable::Map next = *cache_;
  next.insert_or_assign(std::string(name), position);
  if (Status st = replace_locked(next); !st) return st;
  cache_ = std::move(next);
  publish_lowest_locked();
  return {};
}

Result<std::optional<Sequence>> CursorFile::lowest() {
  Sequence low = lowest_.load(std::memory_order_relaxed);  // relaxed: see the declaration
  if (low == kUnknown) {
    std::lock_guard lock(mutex_);
    if (Status st = load_locked(); !st) return st.error();
    low = lowest_.load(std::memory_order_relaxed);  // relaxed: set by load_locked under mutex_
  }
  if (low == kNone) return std::optional<Sequence>{};
  return std::optional<Sequence>(low);
}

Status CursorFile::erase(std::string_view session, std::string_view name) {
  std::lock_guard lock(mutex_);
  if (Status st = load_locked(); !st) return st;
  auto it = cache_->find(name);
  if (it == cache_->end()) return cursor_not_found(session, name);
  CursorTable::Map next = *cache_;
  next.erase(std::string(name));
  if (Status st = replace_locked(next); !st) return st;
  cache_ = std::move(next);
  publish_lowest_locked();
  return {};
}

}  // namespace sessionring::detail
