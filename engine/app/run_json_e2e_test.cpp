// `fhirbridge run` with an http source of format json: a vendor document POSTed over a real
// socket is answered 202 after commit, mapped with the source's mapping file, validated and
// written to the file destination; a resend is a duplicate and delivers nothing twice.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "engine/app/e2e_support.h"
#include "engine/app/json_source_options.h"
#include "fhirbridge/config.h"

namespace fhirbridge::app {
namespace {

using namespace std::chrono_literals;
using namespace e2e;

const fs::path kJsonData = fs::path(FHIRBRIDGE_SOURCE_DIR) / "mappers" / "testdata" / "json";

std::pair<int, std::string> Post(int port, const std::string& body) {
  return HttpPostBody(port, "/ingest", "application/json", body);
}

std::string WriteConfig(const fs::path& dir) {
  const std::string path = (dir / "config.json").string();
  std::ofstream(path) << R"({
  "store": {"path": ")"
                      << (dir / "var" / "store.db").string() << R"("},
  "admin": {"listen": "127.0.0.1:0"},
  "sources": [{"name": "wearables", "type": "http", "format": "json",
               "listen": "127.0.0.1:0", "mapping": ")"
                      << (kJsonData / "wearable.mapping.json").string() << R"("}],
  "destinations": [{"name": "outbox", "type": "file", "path": ")"
                      << (dir / "outbox").string() << R"("}],
  "routes": [{"from": ["wearables"], "to": ["outbox"]}]
})";
  return path;
}

// What the destination must hold for a document: the Bundle the source's mapper makes of it.
std::string ExpectedBundle(const std::string& config_path, const std::string& document) {
  auto config = LoadConfigFile(config_path, DefaultConfigSchema());
  BOOST_REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  auto terms = mappers::Terminology::LoadBuiltin();
  BOOST_REQUIRE(terms.ok());
  auto mapper =
      JsonMapperFor(config->root().Array("sources")[0],
                    std::make_shared<const mappers::Terminology>(std::move(terms).value()));
  BOOST_REQUIRE_MESSAGE(mapper.ok(), mapper.status().ToString());
  const MapOutput out = (*mapper)->Map(document);
  BOOST_REQUIRE(out.result == MapOutput::Result::kMapped);
  return out.bundle;
}

BOOST_AUTO_TEST_SUITE(run_json)

BOOST_AUTO_TEST_CASE(posted_documents_reach_the_destination_once) {
  TempDir t;
  const std::string config = WriteConfig(t.dir);
  const std::string first = ReadAll(kJsonData / "wearable_01_vitals.json");
  std::string second = first;
  second.replace(second.find("b-3f0c9e"), 8, "b-3f0c9f");
  second.replace(second.find("1709280300"), 10, "1709283900");  // the bp an hour later

  ServiceProcess run(config);
  const int port = run.PortOf("source.listening");
  const auto [status, answer] = Post(port, first);
  BOOST_TEST(status == 202);
  BOOST_TEST(answer.find(R"("duplicate":false)") != std::string::npos, answer);
  const auto [again, again_answer] = Post(port, first);
  BOOST_TEST(again == 202);
  BOOST_TEST(again_answer.find(R"("duplicate":true)") != std::string::npos, again_answer);
  BOOST_TEST(Post(port, second).first == 202);
  BOOST_TEST(Post(port, R"({"batchId": "broken",)").first == 400);

  const fs::path outbox = t.dir / "outbox" / "outbox.ndjson";
  for (int i = 0; i < 200 && Lines(outbox).size() < 2; ++i) std::this_thread::sleep_for(50ms);
  const std::vector<std::string> lines = Lines(outbox);
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);  // one per distinct document, in order
  BOOST_TEST(lines[0] == ExpectedBundle(config, first));
  BOOST_TEST(lines[1] == ExpectedBundle(config, second));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::app
