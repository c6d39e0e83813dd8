#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <boost/test/unit_test.hpp>

#include "connectors/ieee11073/sdc/sdc_document.h"
#include "connectors/ieee11073/sdc/xml_input.h"

namespace fhirbridge::sdc {
namespace {

namespace fs = std::filesystem;

const fs::path kMdibs = fs::path(FHIRBRIDGE_SHARED_DIR) / "data" / "ieee11073" / "sdc_mdib";
const fs::path kOwn = fs::path(FHIRBRIDGE_SOURCE_DIR) / "mappers" / "testdata" / "sdc";

std::string Read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(f, "cannot read " << p);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

constexpr const char* kHead =
    R"(<msg:Mdib xmlns:msg="http://standards.ieee.org/downloads/11073/11073-10207-2017/message" )"
    R"(xmlns:pm="http://standards.ieee.org/downloads/11073/11073-10207-2017/participant" )"
    R"(xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">)";
constexpr const char* kTree =
    R"(<pm:MdDescription><pm:Mds Handle="mds0"><pm:Vmd Handle="vmd0"><pm:Channel Handle="ch0">)"
    R"(<pm:Metric xsi:type="pm:NumericMetricDescriptor" Handle="hr"><pm:Type Code="147842"/>)"
    R"(<pm:Unit Code="264864"/></pm:Metric></pm:Channel></pm:Vmd></pm:Mds></pm:MdDescription>)";

std::string MdibWithStates(const std::string& states) {
  return std::string(kHead) + kTree + "<pm:MdState>" + states + "</pm:MdState></msg:Mdib>";
}

std::string Failure(const std::string& xml, const SdcReaderLimits& limits = {}) {
  Result<SdcDocument> doc = ReadSdcDocument(xml, limits);
  BOOST_REQUIRE_MESSAGE(!doc.ok(), "expected a refusal");
  return doc.status().ToString();
}

BOOST_AUTO_TEST_SUITE(sdc_reader)

BOOST_AUTO_TEST_CASE(every_shared_mdib_reads) {
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(kMdibs)) {
    BOOST_TEST_CONTEXT(e.path().filename()) {
      Result<SdcDocument> doc = ReadSdcDocument(Read(e.path()));
      BOOST_REQUIRE_MESSAGE(doc.ok(), doc.status().ToString());
      BOOST_TEST((doc->kind == SdcDocument::Kind::kMdib));
      BOOST_TEST(!doc->components.empty());
      BOOST_TEST(!doc->metrics.empty());
      for (const DataIssue& i : doc->issues)
        BOOST_TEST((i.severity != DataIssue::Severity::kError), i.location << ": " << i.text);
      ++files;
    }
  }
  BOOST_TEST(files == 7u);
}

// tests/70041_MDIB_Final.xml: 44 numeric metric descriptors and 18 real-time sample arrays
// (../shared/data/ieee11073/README.md); MdState is empty.
BOOST_AUTO_TEST_CASE(counts_of_the_70041_mdib) {
  Result<SdcDocument> doc = ReadSdcDocument(Read(kMdibs / "sdc11073__tests__70041_MDIB_Final.xml"));
  BOOST_REQUIRE(doc.ok());
  std::size_t numeric = 0, rtsa = 0;
  for (const SdcMetric& m : doc->metrics) {
    numeric += m.kind == SdcMetricKind::kNumeric;
    rtsa += m.kind == SdcMetricKind::kRealTimeSampleArray;
  }
  BOOST_TEST(numeric == 44u);
  BOOST_TEST(rtsa == 18u);
  BOOST_TEST(doc->sequence_id == "urn:uuid:6f4ff7de-6809-4883-9938-54dd4f6f9173");
}

// mdib_two_mds.xml: default participant namespace, "ns3" for messages; two MDSs.
BOOST_AUTO_TEST_CASE(values_of_the_two_mds_mdib) {
  Result<SdcDocument> doc = ReadSdcDocument(Read(kMdibs / "sdc11073__tests__mdib_two_mds.xml"));
  BOOST_REQUIRE(doc.ok());
  std::size_t mds = 0;
  for (const SdcComponent& c : doc->components) mds += c.kind == SdcComponent::Kind::kMds;
  BOOST_TEST(mds == 2u);
  const SdcMetricState* numeric = nullptr;
  for (const SdcMetricState& s : doc->states)
    if (s.descriptor_handle == "numeric.ch1.vmd0") numeric = &s;
  BOOST_REQUIRE(numeric != nullptr);
  BOOST_TEST(numeric->value.value_or("") == "108");
  BOOST_TEST(numeric->determination_time_ms.value_or(0) == 1580311825199);
  BOOST_TEST(numeric->validity == "Vld");
  BOOST_TEST(numeric->mode == "Demo");
  const SdcMetric* metric = doc->FindMetric("numeric.ch1.vmd0");
  BOOST_REQUIRE(metric != nullptr);
  BOOST_TEST(metric->channel_handle == "ch1.vmd0");
  BOOST_TEST(metric->mds_handle == "mds0");
}

BOOST_AUTO_TEST_CASE(invisible_u202c_is_a_located_warning) {
  Result<SdcDocument> doc =
      ReadSdcDocument(Read(kMdibs / "sdc11073__tutorial__provider__mdib.xml"));
  BOOST_REQUIRE_MESSAGE(doc.ok(), doc.status().ToString());
  BOOST_REQUIRE_EQUAL(doc->issues.size(), 2u);  // lines 26 and 77 (grep -n $'\u202c')
  BOOST_TEST(doc->issues[0].text.find("invisible character U+202C at character 7") !=
             std::string::npos);
  BOOST_TEST(doc->issues[0].location ==
             "line 26:8 (GetMdibResponse/Mdib/MdDescription/Mds/AlertSystem/AlertCondition/"
             "Type/@Code)");
  BOOST_TEST(doc->issues[1].location.find("line 77:9 ") == 0u);
}

BOOST_AUTO_TEST_CASE(soap_and_bare_reports) {
  Result<SdcDocument> mdib = ReadSdcDocument(Read(kOwn / "01_vitals_mdib_soap.xml"));
  BOOST_REQUIRE(mdib.ok());
  BOOST_TEST(mdib->soap);
  BOOST_REQUIRE(mdib->patient.has_value());
  BOOST_TEST(mdib->patient->identifiers.at(0).extension == "MRN-77001");
  Result<SdcDocument> episodic =
      ReadSdcDocument(Read(kOwn / "02_episodic_report_soap.xml"), {}, &*mdib);
  BOOST_REQUIRE(episodic.ok());
  BOOST_TEST((episodic->kind == SdcDocument::Kind::kEpisodicMetricReport));
  BOOST_TEST(episodic->states.size() == 2u);
  BOOST_TEST(episodic->issues.empty());
  Result<SdcDocument> periodic =
      ReadSdcDocument(Read(kOwn / "03_periodic_report_bare.xml"), {}, &*mdib);
  BOOST_REQUIRE(periodic.ok());
  BOOST_TEST(!periodic->soap);
  BOOST_TEST((periodic->kind == SdcDocument::Kind::kPeriodicMetricReport));
  BOOST_TEST(periodic->states.size() == 3u);
  BOOST_TEST(periodic->states[0].value.value_or("") == "37.1");
}

BOOST_AUTO_TEST_CASE(report_handles_are_checked_against_the_mdib) {
  Result<SdcDocument> mdib = ReadSdcDocument(MdibWithStates(""));
  BOOST_REQUIRE(mdib.ok());
  const std::string report =
      R"(<msg:EpisodicMetricReport xmlns:msg="http://standards.ieee.org/downloads/11073/11073-10207-2017/message" )"
      R"(xmlns:pm="http://standards.ieee.org/downloads/11073/11073-10207-2017/participant" )"
      R"(xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><msg:ReportPart>)"
      R"(<msg:MetricState xsi:type="pm:NumericMetricState" DescriptorHandle="nope"/>)"
      R"(</msg:ReportPart></msg:EpisodicMetricReport>)";
  Result<SdcDocument> doc = ReadSdcDocument(report, {}, &*mdib);
  BOOST_REQUIRE(doc.ok());
  BOOST_REQUIRE_EQUAL(doc->issues.size(), 1u);
  BOOST_TEST(doc->issues[0].code == "not-found");
  BOOST_TEST(doc->issues[0].location.find("line 1:") == 0u);
}

BOOST_AUTO_TEST_CASE(item_errors_are_located) {
  Result<SdcDocument> doc = ReadSdcDocument(
      MdibWithStates(R"(<pm:State xsi:type="pm:NumericMetricState" DescriptorHandle="hr">)"
                     R"(<pm:MetricValue Value="1e3" DeterminationTime="-5"/></pm:State>)"
                     R"(<pm:State xsi:type="pm:NumericMetricState" DescriptorHandle="gone"/>)"));
  BOOST_REQUIRE(doc.ok());
  BOOST_REQUIRE_EQUAL(doc->issues.size(), 3u);
  BOOST_TEST(doc->issues[0].text == "the numeric value is not an xsd:decimal");
  BOOST_TEST(doc->issues[0].location.find("MdState/State[1]/MetricValue/@Value") !=
             std::string::npos);
  BOOST_TEST(doc->issues[1].location.find("@DeterminationTime") != std::string::npos);
  BOOST_TEST(doc->issues[2].text == "no metric descriptor has this handle");
}

BOOST_AUTO_TEST_CASE(doctype_and_entity_bombs_are_refused) {
  const std::string bomb =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>\n"
      "<lolz>&lol2;</lolz>";
  const std::string s = Failure(bomb);
  BOOST_TEST(s.find("line 2:1") != std::string::npos, s);
  BOOST_TEST(s.find("DOCTYPE is refused") != std::string::npos, s);
  // An external entity (XXE) is refused the same way, before anything could be read.
  BOOST_TEST(Failure("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>")
                 .find("DOCTYPE") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(limits_each_refuse) {
  SdcReaderLimits limits;
  limits.max_bytes = 100;
  BOOST_TEST(Failure(MdibWithStates(""), limits).find("more than the limit of 100") !=
             std::string::npos);
  limits = {};
  limits.max_depth = 5;
  std::string deep;
  for (int i = 0; i < 10; ++i) deep += "<a>";
  for (int i = 0; i < 10; ++i) deep += "</a>";
  const std::string too_deep = Failure(deep, limits);
  BOOST_TEST(too_deep.find("line 1:16 (a/a/a/a/a/a): elements nested deeper than the limit of 5") !=
                 std::string::npos,
             too_deep);
  limits = {};
  limits.max_elements = 5;
  BOOST_TEST(Failure(MdibWithStates(""), limits).find("more elements than the limit of 5") !=
             std::string::npos);
  limits.max_elements = 1;  // the '<' count refuses before pugixml builds the tree
  std::string wide = "<a>";
  for (int i = 0; i < 5000; ++i) wide += "<b/>";
  wide += "</a>";
  BOOST_TEST(Failure(wide, limits).find("tags, more than the limit") != std::string::npos);
  limits = {};
  limits.max_value_bytes = 5;  // the handles fit, the 6-digit codes do not
  Result<SdcDocument> doc = ReadSdcDocument(MdibWithStates(""), limits);
  BOOST_REQUIRE(doc.ok());
  BOOST_TEST(doc->issues.at(0).code == "too-long");
}

BOOST_AUTO_TEST_CASE(namespaces_are_matched_by_uri) {
  // The right local names in the wrong namespace, and an undeclared prefix.
  const std::string wrong = Failure(R"(<msg:Mdib xmlns:msg="urn:not-biceps"><x/></msg:Mdib>)");
  BOOST_TEST(wrong.find("is in the namespace \"urn:not-biceps\"") != std::string::npos, wrong);
  const std::string undeclared = Failure("<msg:GetMdibResponse/>");
  BOOST_TEST(
      undeclared.find("prefix \"msg\" of GetMdibResponse is not declared") != std::string::npos,
      undeclared);
  // Participant elements without their namespace: no MDS is found.
  const std::string no_pm =
      Failure(R"(<Mdib xmlns="http://standards.ieee.org/downloads/11073/11073-10207-2017/message">)"
              R"(<MdDescription><Mds Handle="m"/></MdDescription></Mdib>)");
  BOOST_TEST(no_pm.find("describes no MDS") != std::string::npos, no_pm);
  const std::string soap11 = Failure(
      R"(<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>)");
  BOOST_TEST(soap11.find("expected \"http://www.w3.org/2003/05/soap-envelope\"") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(garbage_truncation_and_encoding) {
  BOOST_TEST(Failure("").find("not well-formed") != std::string::npos);
  BOOST_TEST(Failure("\x89PNG\r\n\x1a\n").find("line 1:1: the bytes are not valid UTF-8") !=
             std::string::npos);
  const std::string full = Read(kOwn / "01_vitals_mdib_soap.xml");
  const std::string truncated = Failure(full.substr(0, full.size() / 2));
  BOOST_TEST(truncated.find("not well-formed XML") != std::string::npos, truncated);
  BOOST_TEST(Failure(std::string("\xFF\xFE<\0a\0/\0>\0", 10)).find("not UTF-8") !=
             std::string::npos);
  BOOST_TEST(Failure("<a>\xC0\xAF</a>").find("line 1:4") != std::string::npos);
  BOOST_TEST(Failure("<Report/>").find("is not an SDC document") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(utf8_validation) {
  BOOST_TEST(FindInvalidUtf8("plain \xE2\x80\xAC ok") == std::string_view::npos);
  BOOST_TEST(FindInvalidUtf8("\xED\xA0\x80") == 0u);        // a surrogate
  BOOST_TEST(FindInvalidUtf8("ab\xF4\x90\x80\x80") == 2u);  // above U+10FFFF
  BOOST_TEST(FindInvalidUtf8("abc\xE2\x80") == 3u);         // truncated
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::sdc
