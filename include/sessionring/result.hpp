// Result<T>: a value or an Error (std::expected is C++23). Result<void> is a status.
#pragma once
#include <sessionring/error.hpp>

#include <cassert>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace sessionring {

/// Thrown only by Result::value() on an error result (programming error on the caller's side).
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Error& e) : std::logic_error("bad Result access: " + e.describe()) {}
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  Result(Errc code, std::string message) : v_(std::in_place_index<1>, code, std::move(message)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Errc code() const noexcept { return ok() ? Errc::ok : std::get<1>(v_).code(); }

 private:
  void check() const {
    if (!ok()) throw BadResultAccess(std::get<1>(v_));
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT: implicit by design
  Result(Errc code, std::string message) : e_(std::in_place, code, std::move(message)) {}

  bool ok() const noexcept { return !e_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const { assert(!ok()); return *e_; }
  Errc code() const noexcept { return ok() ? Errc::ok : e_->code(); }
  /// Throws BadResultAccess on error (for symmetry with Result<T>::value()).
  void value() const {
    if (e_) throw BadResultAccess(*e_);
  }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;

}  // namespace sessionring
