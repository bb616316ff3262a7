// Status and Result<T>: the one error type used across Nereid's C++ code.
//
// A Status is either OK (free: no allocation) or an error code plus a message written for a person
// ("path 'a//b' has an empty segment"). Result<T> holds either a value or a non-OK Status.
// Errors are translated at two edges only: Status -> HTTP response (server/http_errors.cc) and
// Status -> Python exception (the Python binding).
//
// Thread-safety: Status and Result are values; distinct objects may be used from distinct threads.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace nereid {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,      // the caller sent something malformed; retrying will not help
  kNotFound,             // the named run, project, field or file does not exist
  kAlreadyExists,        // creating something whose name is taken
  kTypeConflict,         // writing a value whose type differs from the field's existing type
  kUnauthenticated,      // no token, or a token that is not valid
  kPermissionDenied,     // a valid token without the right to do this
  kPayloadTooLarge,      // a body or value above a configured limit
  kRateLimited,          // too many requests; retry after a delay
  kQuotaExceeded,        // a storage quota would be exceeded
  kInsufficientStorage,  // the disk is full
  kUnavailable,          // transient: connection refused, server shutting down; retry
  kCancelled,            // the operation was stopped before it finished
  kDataLoss,             // stored data failed a checksum or could not be decoded
  kInternal,             // a bug or an unexpected failure of a dependency
  kFailedPrecondition,   // the target's state forbids this (e.g. logging into a trashed run)
};

// Stable snake_case name of a code, used as the `code` of JSON errors ("invalid_argument").
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : rep_(code == StatusCode::kOk ? nullptr
                                     : std::make_shared<Rep>(Rep{code, std::move(message)})) {}

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const;
  // "invalid_argument: path 'a//b' has an empty segment", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` ("batch 3: " + message).
  Status WithContext(std::string_view context) const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null when OK, so the OK path costs nothing
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status TypeConflict(std::string m) {
  return {StatusCode::kTypeConflict, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status PayloadTooLarge(std::string m) {
  return {StatusCode::kPayloadTooLarge, std::move(m)};
}
inline Status InsufficientStorage(std::string m) {
  return {StatusCode::kInsufficientStorage, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status DataLoss(std::string m) {
  return {StatusCode::kDataLoss, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// Result<T>: a T or an error Status. Access the value only after checking ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace nereid

// Propagate a non-OK Status to the caller.
#define NEREID_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::nereid::Status nereid_status_ = (expr);        \
    if (!nereid_status_.ok()) return nereid_status_; \
  } while (0)

#define NEREID_CONCAT_INNER_(a, b) a##b
#define NEREID_CONCAT_(a, b) NEREID_CONCAT_INNER_(a, b)
// NEREID_ASSIGN_OR_RETURN(auto x, MakeX()); declares x from the Result's value or returns its
// error.
#define NEREID_ASSIGN_OR_RETURN(lhs, rexpr) \
  NEREID_ASSIGN_OR_RETURN_IMPL_(NEREID_CONCAT_(nereid_result_, __LINE__), lhs, rexpr)
#define NEREID_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
