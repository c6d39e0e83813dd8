// The first checks of HTTP bodies: nesting limits of JSON and XML, DTDs, pointers.

#include "connectors/http/body_check.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::http {
namespace {

BOOST_AUTO_TEST_SUITE(body_check)

BOOST_AUTO_TEST_CASE(json_depth_limit_counts_brackets_outside_strings) {
  rapidjson::Document doc;
  BodyProblem p;
  BOOST_TEST(ParseJsonBody(R"({"a":[{"b":"[[[[[[[[\"[["}]})", 3, doc, p));
  BOOST_TEST(!ParseJsonBody(R"({"a":[{"b":[1]}]})", 3, doc, p));
  BOOST_TEST(p.location == "byte 11");
  BOOST_TEST(p.text == "JSON nests deeper than 3 levels");
  // A million brackets cost no stack: refused before parsing.
  BOOST_TEST(!ParseJsonBody(std::string(1000000, '['), 64, doc, p));
  BOOST_TEST(p.location == "byte 64");
}

BOOST_AUTO_TEST_CASE(json_syntax_errors_have_an_offset) {
  rapidjson::Document doc;
  BodyProblem p;
  BOOST_TEST(!ParseJsonBody("", 8, doc, p));
  BOOST_TEST(p.text.rfind("not valid JSON", 0) == 0u);
  BOOST_TEST(!ParseJsonBody(R"({"a": 1} x)", 8, doc, p));
  BOOST_TEST(p.location == "byte 9");
}

BOOST_AUTO_TEST_CASE(xml_depth_limit_and_dtd) {
  BodyProblem p;
  BOOST_TEST(CheckXmlBody("<a><b><c/></b></a>", 3, p));
  BOOST_TEST(!CheckXmlBody("<a><b><c><d/></c></b></a>", 3, p));
  BOOST_TEST(p.text == "XML nests deeper than 3 elements");
  BOOST_TEST(!CheckXmlBody(R"(<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>)", 8, p));
  BOOST_TEST(p.text.find("DOCTYPE") != std::string::npos);
  BOOST_TEST(!CheckXmlBody("<a>", 8, p));
  BOOST_TEST(p.text.rfind("not well-formed XML", 0) == 0u);
  BOOST_TEST(!CheckXmlBody("just text", 8, p));
}

BOOST_AUTO_TEST_CASE(pointer_text_takes_strings_and_integers_only) {
  rapidjson::Document doc;
  BodyProblem p;
  BOOST_REQUIRE(ParseJsonBody(
      R"({"id":"tx-1","n":42,"f":1.5,"a/b":{"c":"x"},"long":")" + std::string(200, 'x') + "\"}", 8,
      doc, p));
  BOOST_TEST(PointerText(doc, "/id") == "tx-1");
  BOOST_TEST(PointerText(doc, "/n") == "42");
  BOOST_TEST(PointerText(doc, "/f") == "");
  BOOST_TEST(PointerText(doc, "/a~1b/c") == "x");
  BOOST_TEST(PointerText(doc, "/long") == "");  // over 128 characters
  BOOST_TEST(PointerText(doc, "/missing") == "");
  BOOST_TEST(PointerText(doc, "no-slash") == "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::http
