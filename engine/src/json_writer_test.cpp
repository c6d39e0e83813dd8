#include "fhirbridge/json_writer.h"

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>

namespace fhirbridge {
namespace {

BOOST_AUTO_TEST_SUITE(json_writer)

BOOST_AUTO_TEST_CASE(escapes_what_json_requires) {
  std::string out;
  AppendJsonString(out, std::string_view("a\"b\\c\nd\x01\xc3\xa9", 10));
  BOOST_TEST(out == "\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\"");
}

BOOST_AUTO_TEST_CASE(commas_follow_structure) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.KeyString("resourceType", "Observation");
  w.Key("component");
  w.BeginArray();
  w.BeginObject();
  w.Key("valueQuantity");
  w.BeginObject();
  w.Key("value");
  w.NumberText("98.60");
  w.EndObject();
  w.EndObject();
  w.BeginObject();
  w.Key("n");
  w.Int(-42);
  w.EndObject();
  w.EndArray();
  w.RawMembers(R"("status":"final","flag":true)");
  w.Key("b");
  w.Bool(false);
  w.Key("raw");
  w.RawValue(R"({"x":[1,2]})");
  w.EndObject();
  BOOST_TEST(out ==
             R"({"resourceType":"Observation","component":[{"valueQuantity":{"value":98.60}},)"
             R"({"n":-42}],"status":"final","flag":true,"b":false,"raw":{"x":[1,2]}})");
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  BOOST_TEST(!doc.HasParseError());
}

BOOST_AUTO_TEST_CASE(empty_containers) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.String("");
  w.EndArray();
  BOOST_TEST(out == R"([{},[],""])");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
