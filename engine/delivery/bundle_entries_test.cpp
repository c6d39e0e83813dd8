#include "engine/delivery/bundle_entries.h"

#include <boost/test/unit_test.hpp>

#include "engine/delivery/fhir_response.h"

namespace fhirbridge::delivery {
namespace {

// Patient ← Observation → Device, in the shape the PCD-01 mapper writes (one line).
constexpr std::string_view kBundle =
    R"({"resourceType":"Bundle","type":"transaction","entry":[)"
    R"({"fullUrl":"urn:uuid:obs","resource":{"resourceType":"Observation","subject":{"reference":"urn:uuid:pat"},)"
    R"("device":{"reference":"urn:uuid:dev"},"valueQuantity":{"value":98.60},"note":[{"text":"urn:uuid:pat"}]},)"
    R"("request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=s|o"}},)"
    R"({"fullUrl":"urn:uuid:pat","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=s|p"}},)"
    R"({"fullUrl":"urn:uuid:dev","resource":{"resourceType":"Device","patient":{"reference":"urn:uuid:pat"}},)"
    R"("request":{"method":"POST","url":"Device","ifMatch":"W/\"1\""}}]})";

BOOST_AUTO_TEST_SUITE(bundle_entries)

BOOST_AUTO_TEST_CASE(reads_entries_with_their_exact_resource_text) {
  Result<std::vector<BundleEntry>> entries = ParseBundleEntries(kBundle);
  BOOST_REQUIRE(entries.ok());
  BOOST_REQUIRE_EQUAL(entries->size(), 3u);
  const BundleEntry& obs = (*entries)[0];
  BOOST_TEST(obs.full_url == "urn:uuid:obs");
  BOOST_TEST(obs.method == "POST");
  BOOST_TEST(obs.url == "Observation");
  BOOST_TEST(obs.if_none_exist == "identifier=s|o");
  BOOST_TEST(obs.resource.find("98.60") != std::string::npos);
  BOOST_TEST(obs.resource.front() == '{');
  BOOST_TEST(obs.resource.back() == '}');
  // Only Reference.reference values count, not a text that happens to look like one.
  BOOST_TEST(obs.references == (std::vector<std::string>{"urn:uuid:pat", "urn:uuid:dev"}),
             boost::test_tools::per_element());
  BOOST_TEST((*entries)[2].if_match == "W/\"1\"");
}

BOOST_AUTO_TEST_CASE(orders_entries_by_dependency) {
  Result<std::vector<BundleEntry>> entries = ParseBundleEntries(kBundle);
  BOOST_REQUIRE(entries.ok());
  auto levels = DependencyLevels(*entries);
  BOOST_REQUIRE(levels.ok());
  BOOST_REQUIRE_EQUAL(levels->size(), 3u);  // Patient, then Device (refers to it), then Observation
  BOOST_TEST((*levels)[0] == std::vector<std::size_t>{1}, boost::test_tools::per_element());
  BOOST_TEST((*levels)[1] == std::vector<std::size_t>{2}, boost::test_tools::per_element());
  BOOST_TEST((*levels)[2] == std::vector<std::size_t>{0}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(refuses_a_reference_cycle) {
  const std::string cycle =
      R"({"resourceType":"Bundle","entry":[)"
      R"({"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient","link":[{"other":{"reference":"urn:uuid:b"}}]}},)"
      R"({"fullUrl":"urn:uuid:b","resource":{"resourceType":"Patient","link":[{"other":{"reference":"urn:uuid:a"}}]}}]})";
  auto entries = ParseBundleEntries(cycle);
  BOOST_REQUIRE(entries.ok());
  BOOST_TEST(DependencyLevels(*entries).status().IsInvalidArgument());
}

BOOST_AUTO_TEST_CASE(rewrites_references_and_keeps_decimals) {
  auto entries = ParseBundleEntries(kBundle);
  BOOST_REQUIRE(entries.ok());
  Result<std::string> out = RewriteReferences(
      (*entries)[0].resource, {{"urn:uuid:pat", "Patient/7"}, {"urn:uuid:dev", "Device/9"}});
  BOOST_REQUIRE(out.ok());
  BOOST_TEST(*out == R"({"resourceType":"Observation","subject":{"reference":"Patient/7"},)"
                     R"("device":{"reference":"Device/9"},"valueQuantity":{"value":98.60},)"
                     R"("note":[{"text":"urn:uuid:pat"}]})");
}

BOOST_AUTO_TEST_CASE(limits_entries_and_depth) {
  BundleLimits limits;
  limits.max_entries = 2;
  BOOST_TEST(ParseBundleEntries(kBundle, limits).status().message().find("more entries") !=
             std::string::npos);
  limits = {};
  limits.max_depth = 4;
  BOOST_TEST(ParseBundleEntries(kBundle, limits).status().message().find("nested deeper") !=
             std::string::npos);
  BOOST_TEST(!RewriteReferences(R"({"a":{"b":{"c":{"d":{}}}}})", {}, limits).ok());
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_a_bundle) {
  BOOST_TEST(ParseBundleEntries("{").status().IsInvalidArgument());
  BOOST_TEST(ParseBundleEntries(R"({"resourceType":"Patient"})").status().IsInvalidArgument());
  // An "entry" that is an object, not an array, yields no entries rather than a crash.
  auto odd = ParseBundleEntries(R"({"resourceType":"Bundle","entry":{"a":{"fullUrl":"x"}}})");
  BOOST_REQUIRE(odd.ok());
  BOOST_TEST(odd->empty());
}

BOOST_AUTO_TEST_CASE(reads_bundle_responses_and_locations) {
  const std::string body =
      R"({"resourceType":"Bundle","type":"batch-response","entry":[)"
      R"({"response":{"status":"201 Created","location":"http://h/fhir/Patient/1/_history/2",)"
      R"("outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"information"}]}}},)"
      R"({"response":{"status":"422","outcome":{"resourceType":"OperationOutcome","issue":[]}}}]})";
  // A view that does not end where the string does: the parser must stop at its end.
  const std::string padded = body + "garbage";
  auto entries =
      ParseBundleResponse(std::string_view(padded).substr(0, body.size()), "batch-response", 2);
  BOOST_REQUIRE(entries.ok());
  BOOST_TEST((*entries)[0].status == 201);
  BOOST_TEST(RelativeLocation((*entries)[0].location, "http://h/fhir") == "Patient/1/_history/2");
  BOOST_TEST(TypeAndId("Patient/1/_history/2") == "Patient/1");
  BOOST_TEST(TypeAndId("Patient") == "");
  BOOST_TEST((*entries)[0].outcome.empty());  // an entry that succeeded keeps no outcome
  BOOST_TEST((*entries)[1].status == 422);
  BOOST_TEST((*entries)[1].outcome.find("OperationOutcome") != std::string::npos);
  BOOST_TEST(!ParseBundleResponse(body, "batch-response", 3).ok());
  BOOST_TEST(!ParseBundleResponse(body, "transaction-response", 2).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::delivery
