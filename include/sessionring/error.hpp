// Error = typed code + human-readable message naming what was wrong.
#pragma once
#include <sessionring/errc.hpp>

#include <memory>
#include <ostream>
#include <string>
#include <utility>

namespace sessionring {

class Error {
 public:
  Error(Errc code, std::string message)
      : code_(code), message_(std::make_shared<const std::string>(std::move(message))) {}
  /// A message built once and shared (no allocation per error): the back-pressure refusals
  /// (queue_full) of a hot path use it, like Aeron's BACK_PRESSURED or the Disruptor's
  /// preallocated InsufficientCapacityException. Copies share it too.
  Error(Errc code, std::shared_ptr<const std::string> message) noexcept : code_(code), message_(std::move(message)) {}

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return *message_; }
  /// "queue_full: ingest queue of session 's1' is full (capacity 65536)"
  std::string describe() const { return std::string(to_string(code_)) + ": " + *message_; }

  friend bool operator==(const Error& e, Errc c) noexcept { return e.code_ == c; }
  friend std::ostream& operator<<(std::ostream& os, const Error& e) { return os << e.describe(); }

 private:
  Errc code_;
  std::shared_ptr<const std::string> message_;  // never null; immutable, so sharing it is safe
};

}  // namespace sessionring
