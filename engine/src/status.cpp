#include "fhirbridge/status.h"

namespace fhirbridge {

std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Status::Code::kNotFound:
      return "NOT_FOUND";
    case Status::Code::kAlreadyExists:
      return "ALREADY_EXISTS";
    case Status::Code::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case Status::Code::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case Status::Code::kUnavailable:
      return "UNAVAILABLE";
    case Status::Code::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case Status::Code::kPermissionDenied:
      return "PERMISSION_DENIED";
    case Status::Code::kUnauthenticated:
      return "UNAUTHENTICATED";
    case Status::Code::kDataLoss:
      return "DATA_LOSS";
    case Status::Code::kInternal:
      return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, std::move(msg));
}

}  // namespace fhirbridge

#include "fhirbridge/issue.h"

namespace fhirbridge {

const char* SeverityCode(DataIssue::Severity severity) {
  switch (severity) {
    case DataIssue::Severity::kFatal:
      return "fatal";
    case DataIssue::Severity::kError:
      return "error";
    case DataIssue::Severity::kWarning:
      return "warning";
    case DataIssue::Severity::kInformation:
      return "information";
  }
  return "error";
}

}  // namespace fhirbridge
