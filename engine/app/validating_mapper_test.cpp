#include "engine/app/validating_mapper.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::app {
namespace {

// A mapper that answers with a fixed Bundle: the test's input, so that the validation step can
// be fed a resource that breaks a known rule.
class FixedMapper : public Mapper {
 public:
  explicit FixedMapper(std::string bundle) : bundle_(std::move(bundle)) {}
  MapOutput Map(std::string_view) const override {
    MapOutput out;
    out.result = MapOutput::Result::kMapped;
    out.bundle = bundle_;
    out.issues.push_back(DataIssue::Warning("informational", "OBX[1]-5", "kept as sent"));
    return out;
  }

 private:
  std::string bundle_;
};

std::string BundleWith(const std::string& observation) {
  return R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:0b1c2d3e-0000-4000-8000-000000000001","resource":)" +
         observation + R"(,"request":{"method":"POST","url":"Observation"}}]})";
}

const std::shared_ptr<const validator::Validator>& SharedValidator() {
  static const std::shared_ptr<const validator::Validator> v = [] {
    auto defs = validator::Definitions::Embedded();
    BOOST_REQUIRE(defs.ok());
    auto created = validator::Validator::Create(std::move(defs).value());
    BOOST_REQUIRE(created.ok());
    return std::shared_ptr<const validator::Validator>(std::move(created).value());
  }();
  return v;
}

// status is 1..1 in R4 Observation: leaving it out is an error.
const std::string kInvalid = BundleWith(
    R"({"resourceType":"Observation","code":{"text":"heart rate"},"valueQuantity":{"value":72}})");
const std::string kValid = BundleWith(
    R"({"resourceType":"Observation","status":"final","code":{"text":"device reading"},"valueString":"ok"})");

BOOST_AUTO_TEST_CASE(enforce_turns_an_invalid_bundle_into_a_failure_with_the_issues) {
  ValidatingMapper mapper(std::make_shared<FixedMapper>(kInvalid), SharedValidator(),
                          ValidationPolicy::kEnforce);
  const MapOutput out = mapper.Map("raw");
  BOOST_CHECK(out.result == MapOutput::Result::kFailed);
  BOOST_CHECK(out.bundle.empty());
  bool status_error = false;
  for (const DataIssue& issue : out.issues) {
    if (issue.severity == DataIssue::Severity::kError &&
        (issue.location + issue.text).find("status") != std::string::npos) {
      status_error = true;
    }
  }
  BOOST_CHECK(status_error);
  BOOST_CHECK_EQUAL(out.issues.front().location, "OBX[1]-5");  // the mapper's issue is kept
}

BOOST_AUTO_TEST_CASE(warn_delivers_an_invalid_bundle_and_keeps_the_issues) {
  ValidatingMapper mapper(std::make_shared<FixedMapper>(kInvalid), SharedValidator(),
                          ValidationPolicy::kWarn);
  const MapOutput out = mapper.Map("raw");
  BOOST_CHECK(out.result == MapOutput::Result::kMapped);
  BOOST_CHECK_EQUAL(out.bundle, kInvalid);
  BOOST_CHECK_GT(out.issues.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_valid_bundle_passes_unchanged) {
  ValidatingMapper mapper(std::make_shared<FixedMapper>(kValid), SharedValidator(),
                          ValidationPolicy::kEnforce);
  const MapOutput out = mapper.Map("raw");
  BOOST_CHECK(out.result == MapOutput::Result::kMapped);
  BOOST_CHECK_EQUAL(out.bundle, kValid);
  for (const DataIssue& issue : out.issues) {
    BOOST_CHECK_MESSAGE(issue.severity != DataIssue::Severity::kError, issue.text);
  }
}

}  // namespace
}  // namespace fhirbridge::app
