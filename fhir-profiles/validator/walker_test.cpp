// EvaluatedInvariants: the walk's record of the invariants it has evaluated on each node.

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "fhir-profiles/validator/walker.h"

namespace fhirbridge::validator {
namespace {

BOOST_AUTO_TEST_SUITE(evaluated_invariants)

BOOST_AUTO_TEST_CASE(a_triple_is_new_once) {
  rapidjson::Value a, b;
  EvaluatedInvariants set;
  BOOST_TEST(set.Insert(&a, "obs-6", "dataAbsentReason.empty() or value.empty()"));
  BOOST_TEST(!set.Insert(&a, "obs-6", "dataAbsentReason.empty() or value.empty()"));
  // Another node, another key, or the same key with another expression is another triple.
  BOOST_TEST(set.Insert(&b, "obs-6", "dataAbsentReason.empty() or value.empty()"));
  BOOST_TEST(set.Insert(&a, "obs-7", "dataAbsentReason.empty() or value.empty()"));
  BOOST_TEST(set.Insert(&a, "obs-6", "value.empty()"));
  BOOST_TEST(set.size() == 4u);
}

BOOST_AUTO_TEST_CASE(every_entry_is_found_after_the_table_grows) {
  // 2,000 nodes with three keys each: the table doubles several times on the way.
  std::vector<rapidjson::Value> nodes(2000);
  const std::vector<std::string> keys = {"dom-6", "ele-1", "vs-2"};
  EvaluatedInvariants set;
  for (const std::string& key : keys)
    for (const rapidjson::Value& node : nodes) BOOST_REQUIRE(set.Insert(&node, key, "x"));
  for (const std::string& key : keys)
    for (const rapidjson::Value& node : nodes) BOOST_REQUIRE(!set.Insert(&node, key, "x"));
  BOOST_TEST(set.size() == 6000u);
}

BOOST_AUTO_TEST_CASE(truncate_forgets_only_the_newer_entries) {
  std::vector<rapidjson::Value> nodes(300);
  EvaluatedInvariants set;
  for (std::size_t i = 0; i < 50; ++i) BOOST_REQUIRE(set.Insert(&nodes[i], "k", "x"));
  const std::size_t mark = set.size();
  // A trial that adds entries for old and new nodes, and grows the table past 64 buckets.
  for (std::size_t i = 0; i < 50; ++i) BOOST_REQUIRE(set.Insert(&nodes[i], "trial", "x"));
  for (std::size_t i = 50; i < 300; ++i) BOOST_REQUIRE(set.Insert(&nodes[i], "k", "x"));
  set.Truncate(mark);
  BOOST_TEST(set.size() == mark);
  for (std::size_t i = 0; i < 50; ++i) {
    BOOST_TEST(!set.Insert(&nodes[i], "k", "x"));     // kept
    BOOST_TEST(set.Insert(&nodes[i], "trial", "x"));  // forgotten, so new again
  }
  for (std::size_t i = 50; i < 300; ++i) BOOST_TEST(set.Insert(&nodes[i], "k", "x"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::validator
