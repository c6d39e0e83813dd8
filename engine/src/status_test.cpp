#include "fhirbridge/status.h"

#include <boost/test/unit_test.hpp>

#include "fhirbridge/result.h"

namespace fhirbridge {
namespace {

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(ok_by_default) {
  Status s;
  BOOST_TEST(s.ok());
  BOOST_TEST(s.ToString() == "OK");
  BOOST_TEST(!s.IsRetryable());
}

BOOST_AUTO_TEST_CASE(codes_say_whether_to_retry) {
  BOOST_TEST(Status::Unavailable("server down").IsRetryable());
  BOOST_TEST(Status::DeadlineExceeded("timeout").IsRetryable());
  BOOST_TEST(!Status::InvalidArgument("bad MSH-2").IsRetryable());
  BOOST_TEST(!Status::FailedPrecondition("no route").IsRetryable());
  BOOST_TEST(!Status::Internal("bug").IsRetryable());
}

BOOST_AUTO_TEST_CASE(message_and_context) {
  Status s = Status::InvalidArgument("MSH-2: too short").WithContext("message 3");
  BOOST_TEST(s.IsInvalidArgument());
  BOOST_TEST(s.message() == "message 3: MSH-2: too short");
  BOOST_TEST(s.ToString() == "INVALID_ARGUMENT: message 3: MSH-2: too short");
}

Status FailIfNegative(int v) {
  if (v < 0) return Status::InvalidArgument("negative");
  return Status::Ok();
}

Status Chain(int v) {
  FHIRBRIDGE_RETURN_IF_ERROR(FailIfNegative(v));
  return Status::NotFound("reached the end");
}

BOOST_AUTO_TEST_CASE(return_if_error_stops_early) {
  BOOST_TEST(Chain(-1).IsInvalidArgument());
  BOOST_TEST(Chain(1).IsNotFound());
}

BOOST_AUTO_TEST_CASE(result_holds_value_or_status) {
  Result<int> good = 42;
  BOOST_TEST(good.ok());
  BOOST_TEST(*good == 42);
  BOOST_TEST(good.status().ok());
  Result<int> bad = Status::NotFound("no such zone");
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.status().IsNotFound());
  BOOST_TEST(bad.status().message() == "no such zone");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
