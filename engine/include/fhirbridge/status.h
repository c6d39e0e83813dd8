#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace fhirbridge {

/// Outcome of an operation that can fail because of its environment or its input.
/// The code tells the caller what to do next (retry, fix the input, fix the configuration);
/// the message says what and where, and never carries PHI.
class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     ///< The input is malformed: do not retry, report it.
    kNotFound,            ///< A named thing does not exist.
    kAlreadyExists,       ///< A create found the thing already there.
    kFailedPrecondition,  ///< The system is not in a state to do this: fix, then retry.
    kResourceExhausted,   ///< A limit was exceeded (size, count, disk).
    kUnavailable,         ///< Transient: retry with backoff.
    kDeadlineExceeded,    ///< Timed out: the outcome may be unknown; retry if idempotent.
    kPermissionDenied,    ///< Not allowed.
    kUnauthenticated,     ///< Credentials missing or expired.
    kDataLoss,            ///< Stored data is corrupt.
    kInternal,            ///< A bug: an invariant of ours does not hold.
  };

  Status() = default;  ///< OK.

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) {
    return {Code::kFailedPrecondition, std::move(msg)};
  }
  static Status ResourceExhausted(std::string msg) {
    return {Code::kResourceExhausted, std::move(msg)};
  }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) {
    return {Code::kDeadlineExceeded, std::move(msg)};
  }
  static Status PermissionDenied(std::string msg) {
    return {Code::kPermissionDenied, std::move(msg)};
  }
  static Status Unauthenticated(std::string msg) {
    return {Code::kUnauthenticated, std::move(msg)};
  }
  static Status DataLoss(std::string msg) { return {Code::kDataLoss, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsResourceExhausted() const { return code_ == Code::kResourceExhausted; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }

  /// True when trying the same operation again later may succeed without anyone fixing anything.
  bool IsRetryable() const {
    return code_ == Code::kUnavailable || code_ == Code::kDeadlineExceeded ||
           code_ == Code::kResourceExhausted;
  }

  /// "INVALID_ARGUMENT: what went wrong", or "OK".
  std::string ToString() const;

  /// Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

}  // namespace fhirbridge

/// Returns from the calling function when `expr` yields a non-OK Status.
#define FHIRBRIDGE_RETURN_IF_ERROR(expr)      \
  do {                                        \
    ::fhirbridge::Status fb_status_ = (expr); \
    if (!fb_status_.ok()) return fb_status_;  \
  } while (false)
