#include "fhirbridge/insitu_json.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>

namespace fhirbridge {
namespace {

std::string_view Str(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& v = object[name];
  return {v.GetString(), v.GetStringLength()};
}

BOOST_AUTO_TEST_SUITE(insitu_json)

BOOST_AUTO_TEST_CASE(parses_a_copy_and_only_the_view_it_is_given) {
  const std::string text = R"({"a":"first","b":[1,2]})";
  const std::string padded = text + R"(,"c":"past the end"})";
  InsituJson parsed(std::string_view(padded).substr(0, text.size()));
  BOOST_REQUIRE(!parsed.doc().HasParseError());
  BOOST_TEST(Str(parsed.doc(), "a") == "first");
  BOOST_TEST(!parsed.doc().HasMember("c"));
  BOOST_TEST(padded.substr(0, text.size()) == text);  // the input is not touched
}

BOOST_AUTO_TEST_CASE(a_nested_use_gets_its_own_space_and_both_stay_whole) {
  InsituJson outer(R"({"who":"outer"})");
  {
    InsituJson inner(R"({"who":"inner","filler":")" + std::string(200000, 'x') + R"("})");
    BOOST_TEST(Str(inner.doc(), "who") == "inner");
    BOOST_TEST(Str(outer.doc(), "who") == "outer");
  }
  BOOST_TEST(Str(outer.doc(), "who") == "outer");
  // The next use after both reuses the thread's space, past a document larger than the pool.
  std::string big = "[";
  for (int i = 0; i < 20000; ++i) big += (i ? ",{\"n\":" : "{\"n\":") + std::to_string(i) + "}";
  big += "]";
  for (int round = 0; round < 3; ++round) {
    InsituJson again(big);
    BOOST_REQUIRE(again.doc().IsArray());
    BOOST_TEST(again.doc().Size() == 20000u);
    BOOST_TEST(again.doc()[19999]["n"].GetInt() == 19999);
  }
}

BOOST_AUTO_TEST_CASE(a_parse_error_is_reported_with_its_offset) {
  InsituJson parsed(R"({"a": tru})");
  BOOST_TEST(parsed.doc().HasParseError());
  BOOST_TEST(parsed.doc().GetErrorOffset() == 9u);  // where "true" stops matching
  // The space is usable again after an error.
  InsituJson next(R"({"a": true})");
  BOOST_TEST(next.doc()["a"].GetBool());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
