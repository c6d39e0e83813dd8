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

BOOST_AUTO_TEST_CASE(appender_writes_fragments_and_trims_on_close) {
  std::string out = "[1";
  {
    JsonAppender a(out);
    a.Append(',', std::string_view("{\"a\":"), '2');
    a.PutJsonString("q\"\n");
    a.Append('}');
    // Members written by a JsonWriter between appends get their commas.
    a.WithWriter(/*after_others=*/true, [](JsonWriter& w) { w.Int(3); });
    a.Append(",4");
  }
  out += ']';
  BOOST_TEST(out == R"([1,{"a":2"q\"\n"},3,4])");
}

BOOST_AUTO_TEST_CASE(appender_grows_past_one_step) {
  // Far more than one 2 KB step of the appender, in pieces of every length.
  std::string out;
  std::string expected;
  {
    JsonAppender a(out);
    for (std::size_t n = 0; n < 300; ++n) {
      const std::string piece(n % 97, static_cast<char>('a' + n % 26));
      a.Append(piece);
      expected += piece;
    }
  }
  BOOST_TEST(out.size() == expected.size());
  BOOST_TEST(out == expected);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
