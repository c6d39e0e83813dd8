// `fhirbridge run` with an http source of format sdc: an MDIB in a SOAP envelope POSTed over a
// real socket is answered 202 after commit, mapped by the SDC mapper, validated and written to
// the file destination; a resend delivers nothing twice; a document with located errors is
// stored but not delivered.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/app/device_sources.h"
#include "engine/app/e2e_support.h"
#include "fhirbridge/config.h"

namespace fhirbridge::app {
namespace {

using namespace std::chrono_literals;
using namespace e2e;

const fs::path kSdcData = fs::path(FHIRBRIDGE_SOURCE_DIR) / "mappers" / "testdata" / "sdc";

int Post(int port, const std::string& body) {
  return HttpPostBody(port, "/ingest", "application/soap+xml; charset=utf-8", body).first;
}

std::string WriteConfig(const fs::path& dir) {
  const std::string path = (dir / "config.json").string();
  std::ofstream(path) << R"({
  "store": {"path": ")"
                      << (dir / "var" / "store.db").string() << R"("},
  "admin": {"listen": "127.0.0.1:0"},
  "sources": [{"name": "icu-sdc", "type": "http", "format": "sdc", "listen": "127.0.0.1:0"}],
  "destinations": [{"name": "outbox", "type": "file", "path": ")"
                      << (dir / "outbox").string() << R"("}],
  "routes": [{"from": ["icu-sdc"], "to": ["outbox"]}]
})";
  return path;
}

BOOST_AUTO_TEST_CASE(sdc_documents_posted_over_http_reach_the_destination_once) {
  TempDir t;
  const std::string config = WriteConfig(t.dir);
  const std::string mdib = ReadAll(kSdcData / "01_vitals_mdib_soap.xml");
  ServiceProcess service(config);
  const int port = service.PortOf("source.listening");
  BOOST_TEST(Post(port, mdib) == 202);
  BOOST_TEST(Post(port, mdib) == 202);  // a resend: a duplicate, stored once
  BOOST_TEST(Post(port, ReadAll(kSdcData / "04_errors_located.xml")) == 202);  // stored, fails
  const fs::path outbox = t.dir / "outbox" / "outbox.ndjson";
  for (int i = 0; i < 200 && Lines(outbox).empty(); ++i) std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(500ms);  // time for anything that should not come
  BOOST_CHECK_EQUAL(service.Terminate(), 0);

  auto loaded = LoadConfigFile(config, DefaultConfigSchema());
  BOOST_REQUIRE(loaded.ok());
  auto terms = mappers::Terminology::LoadBuiltin();
  BOOST_REQUIRE(terms.ok());
  auto mapper =
      DeviceMapperFor(loaded->root().Array("sources")[0],
                      std::make_shared<const mappers::Terminology>(std::move(terms).value()));
  BOOST_REQUIRE(mapper.ok());
  const std::vector<std::string> lines = Lines(outbox);
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0] == (*mapper)->Map(mdib).bundle);
  BOOST_TEST(lines[0].find(R"("code":"150456")") != std::string::npos);
}

}  // namespace
}  // namespace fhirbridge::app
