// SPDX-License-Identifier: MIT
// base/result.h - Result<T>: a value or an Error (errno + context), no exceptions.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace extsys {

// An error carries an errno-style code (0 when not a system error) and a
// human-readable message; wrap() prefixes context so messages read outer -> inner.
class Error {
public:
  Error(int err, std::string message) : err_(err), message_(std::move(message)) {}

  [[nodiscard]] int err() const { return err_; }
  [[nodiscard]] const std::string& message() const { return message_; }

  [[nodiscard]] Error wrap(const std::string& context) && {
    message_ = context + ": " + message_;
    return std::move(*this);
  }

  // "context: EFOO (text)" for a failed system call.
  static Error fromErrno(int err, const std::string& what);

private:
  int err_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }

  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status okStatus() { return Unit{}; }

}  // namespace extsys
