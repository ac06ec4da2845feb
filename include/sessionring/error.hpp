// Error = typed code + human-readable message naming what was wrong.
#pragma once
#include <sessionring/errc.hpp>

#include <ostream>
#include <string>
#include <utility>

namespace sessionring {

class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  /// "queue_full: ingest queue of session 's1' is full (capacity 65536)"
  std::string describe() const { return std::string(to_string(code_)) + ": " + message_; }

  friend bool operator==(const Error& e, Errc c) noexcept { return e.code_ == c; }
  friend std::ostream& operator<<(std::ostream& os, const Error& e) { return os << e.describe(); }

 private:
  Errc code_;
  std::string message_;
};

}  // namespace sessionring
