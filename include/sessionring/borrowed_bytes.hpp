// BorrowedBytes: the byte fields of EventInput. A view of the caller's bytes (zero copy: the
// append copies them into the ingest queue), which refuses to bind to a temporary std::string:
// `e.data = std::string(300, 'a');` does not compile, because the string would be destroyed at
// the end of the statement and the append would read freed memory (issue 17, defect 11;
// tests/compile_fail/event_input_temporary.cpp checks it). String literals, std::string_view
// and std::string lvalues bind as before; the caller keeps them alive until append returns.
// Pure value type: any thread.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace sessionring {

class BorrowedBytes {
 public:
  constexpr BorrowedBytes() noexcept = default;
  /// A view the caller keeps alive until the append returns.
  constexpr BorrowedBytes(std::string_view bytes) noexcept : view_(bytes) {}  // NOLINT(google-explicit-constructor)
  /// A string literal or a NUL-terminated string.
  constexpr BorrowedBytes(const char* text) noexcept : view_(text) {}  // NOLINT(google-explicit-constructor)
  /// An lvalue string: its bytes, not a copy (it must outlive the append).
  BorrowedBytes(const std::string& bytes) noexcept : view_(bytes) {}  // NOLINT(google-explicit-constructor)
  /// A temporary string would be gone before the append reads it: keep it in a variable, or
  /// use Event (owning fields) / Producer::append on a std::string that outlives the call.
  BorrowedBytes(std::string&&) = delete;
  BorrowedBytes(const std::string&&) = delete;

  constexpr operator std::string_view() const noexcept { return view_; }  // NOLINT(google-explicit-constructor)
  constexpr std::string_view view() const noexcept { return view_; }
  constexpr const char* data() const noexcept { return view_.data(); }
  constexpr std::size_t size() const noexcept { return view_.size(); }
  constexpr bool empty() const noexcept { return view_.empty(); }

  friend constexpr bool operator==(BorrowedBytes a, BorrowedBytes b) noexcept { return a.view_ == b.view_; }
  friend constexpr bool operator==(BorrowedBytes a, std::string_view b) noexcept { return a.view_ == b; }
  friend constexpr bool operator==(BorrowedBytes a, const char* b) noexcept { return a.view_ == b; }

 private:
  std::string_view view_;
};

}  // namespace sessionring
