// Errors are values: every fallible operation at an edge returns Result<T>, and the message is formed where the
// error happens (operation, AWS code, file:line), so callers print it as is.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hasg {

struct Error {
  std::string code;     // machine-readable: an AWS error code ("Throttling"), or our own ("ConnectionError")
  std::string message;  // human-readable, complete: says what was being done and what went wrong
  bool retryable = false;

  std::string to_string() const { return code.empty() ? message : code + ": " + message; }
  bool operator==(const Error&) const = default;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that return nothing but may fail.
struct Ok {
  bool operator==(const Ok&) const = default;
};
using Status = Result<Ok>;

inline Error make_error(std::string code, std::string message, bool retryable = false) {
  return Error{std::move(code), std::move(message), retryable};
}

}  // namespace hasg
