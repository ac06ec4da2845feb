// The store root marker of a LogStore (see detail/log_root.hpp).
#include "detail/log_root.hpp"

#include "detail/log_file.hpp"
#include "detail/log_format.hpp"

#include <sessionring/session_id.hpp>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace sessionring::detail {
namespace {

namespace fs = std::filesystem;

std::string marker_text() {
  return std::string(kRootMarkerTitle) + "\nformat " + std::to_string(kStoreFormatVersion) + "\n";
}

/// True when `dir` directly holds a segment file or a LOCK file: a session directory.
bool holds_session_files(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (log_format::parse_segment_name(name) || name == "LOCK") return true;
  }
  return false;
}

/// What a directory without a marker holds.
struct Contents {
  std::size_t entries = 0;
  std::vector<std::string> sample;       // up to 3 entry names
  bool session_files = false;            // segment or LOCK files directly in it
  std::size_t session_dirs = 0;          // subdirectories with a valid id holding segment files
  std::string nested_store;              // a subdirectory that holds a marker
};

Result<Contents> survey(const std::string& root) {
  Contents c;
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec) return io_error("cannot list store root", root, ec.value());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return io_error("cannot list store root", root, ec.value());
    const std::string name = it->path().filename().string();
    if (name == std::string(kRootMarkerName) + ".tmp") continue;  // a marker write a crash interrupted
    ++c.entries;
    if (c.sample.size() < 3) c.sample.push_back(name);
    if (log_format::parse_segment_name(name) || name == "LOCK") c.session_files = true;
    std::error_code dir_ec;
    if (!it->is_directory(dir_ec)) continue;
    if (c.nested_store.empty() && fs::exists(it->path() / std::string(kRootMarkerName), dir_ec))
      c.nested_store = it->path().string();
    if (validate_session_id(name) && holds_session_files(it->path())) ++c.session_dirs;
  }
  return c;
}

Error not_a_store(const std::string& root, const Contents& c) {
  const std::string marker = (fs::path(root) / std::string(kRootMarkerName)).string();
  if (c.session_files) {
    const fs::path p = fs::absolute(fs::path(root)).lexically_normal();
    const fs::path dir = p.has_filename() ? p : p.parent_path();
    return Error(Errc::not_found, "'" + root + "' is a session directory, not a store root (it holds segment files): "
                                      "open the store '" + dir.parent_path().string() + "' and the session '" +
                                      dir.filename().string() + "'");
  }
  std::string what;
  if (c.entries == 0) {
    what = "the directory is empty";
  } else {
    what = "it holds " + std::to_string(c.entries) + " entr" + (c.entries == 1 ? "y" : "ies") + " (";
    for (std::size_t i = 0; i < c.sample.size(); ++i) what += (i ? ", '" : "'") + c.sample[i] + "'";
    what += c.entries > c.sample.size() ? ", ...)" : ")";
    what += ", none a session directory holding segment files";
  }
  std::string msg = "'" + root + "' is not a sessionring store: no marker file '" + marker + "' and " + what +
                    "; a store root is the directory given as LogStoreOptions::root when the store was created";
  if (!c.nested_store.empty()) msg += "; '" + c.nested_store + "' is a store";
  return Error(Errc::not_found, std::move(msg));
}

/// Parses the marker text; the format version, or an error.
Result<std::uint32_t> parse_marker(const std::string& path, const std::string& text) {
  const std::string head = std::string(kRootMarkerTitle) + "\nformat ";
  std::uint32_t version = 0;
  bool ok = text.rfind(head, 0) == 0;
  std::size_t p = head.size();
  if (ok) {
    const std::size_t start = p;
    while (p < text.size() && text[p] >= '0' && text[p] <= '9' && p - start < 9)
      version = version * 10 + static_cast<std::uint32_t>(text[p++] - '0');
    ok = p > start && version > 0 && p < text.size() && text[p] == '\n';
  }
  if (!ok)
    return Error(Errc::storage_error, "store marker '" + path + "' is not a sessionring marker (expected the lines '" +
                                          std::string(kRootMarkerTitle) + "' and 'format N')");
  return version;
}

Status write_marker(const std::string& root, bool durable) {
  const std::string path = root + "/" + std::string(kRootMarkerName);
  const std::string tmp = path + ".tmp";
  {
    auto f = File::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!f) return f.error();
    const std::string text = marker_text();
    if (Status st = f->write_at(text.data(), text.size(), 0); !st) return st;
    if (durable)
      if (Status st = f->datasync(); !st) return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot create store marker", path, errno);
  return durable ? sync_directory(root) : Status{};
}

}  // namespace

Status check_store_root(const std::string& root, bool read_only, bool durable) {
  const std::string path = root + "/" + std::string(kRootMarkerName);
  auto f = File::open(path, O_RDONLY);
  if (f) {
    char buf[256];
    auto got = f->read_at(buf, sizeof buf, 0);
    if (!got) return got.error();
    auto version = parse_marker(path, std::string(buf, *got));
    if (!version) return version.error();
    if (*version > kStoreFormatVersion)
      return Status(Errc::unsupported_format, "store '" + root + "' was written by a newer sessionring: format version " +
                                                  std::to_string(*version) + ", this build reads " +
                                                  std::to_string(kStoreFormatVersion));
    return {};
  }
  if (f.code() != Errc::not_found) return f.error();
  auto c = survey(root);
  if (!c) return c.error();
  if (c->session_files || (c->entries > 0 && c->session_dirs == 0)) return not_a_store(root, *c);
  if (read_only) {
    if (c->entries == 0) return not_a_store(root, *c);
    return {};  // a store written before the marker existed: read it as it is
  }
  return write_marker(root, durable);  // a new store, or a pre-marker store adopted
}

}  // namespace sessionring::detail
