// Issue 5 §6: operational logs carry ids, sources, control ids, codes, counts and durations,
// never PHI. The real `fhirbridge run` takes HL7 v2 messages full of distinctive PHI (a unique
// patient name, MRN, birth date, address, NTE free text, an OBX string value): one delivered,
// one resent (duplicate), one dead-lettered (no time zone for its local times), malformed ones
// and one over a limit (refused). Everything it prints on stdout and stderr, and what the admin
// API answers about messages and dead letters, must hold none of those strings — while the
// delivered Bundle does hold them, so the test sees the PHI really went through.

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "connectors/mllp/mllp_client.h"
#include "engine/app/e2e_support.h"

namespace fhirbridge::app {
namespace {

using namespace std::chrono_literals;
using e2e::TempDir;

// Strings that occur only as PHI in the messages below.
const std::vector<std::string> kPhi = {"Xylophanidis", "Quentavia",    "ZQXMRN98765",
                                       "19470312",     "1947-03-12",   "Quorvex",
                                       "Zanthropol",   "Quibbleworth", "Zorbulonrhy"};

std::string Message(const std::string& control_id, const std::string& offset) {
  return "MSH|^~\\&|MONITOR_GW^0123456789ABCDEF^EUI-64|ICU|||20240315101500" + offset +
         "||ORU^R01^ORU_R01|" + control_id +
         "|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
         "PID|||ZQXMRN98765^^^&1.2.840.114350.1.13.1&ISO^MR||Xylophanidis^Quentavia^^^^^L||"
         "19470312|F|||4711 Quorvex Lane^^Zanthropolis^ZZ^99999\r"
         "PV1||I|ICU^12^1\r"
         "OBR|1|ORD1^MONITOR_GW|FIL1^MONITOR_GW|182777000^monitoring of patient^SCT|||"
         "20240315101200" +
         offset +
         "\r"
         "NTE|1||Quibbleworth says the patient prefers the window bed\r"
         "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||"
         "MON^^0011223344556601^EUI-64\r"
         "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R|||"
         "20240315101200" +
         offset +
         "\r"
         "OBX|3|ST|184327^MDC_ECG_STAT_RHY^MDC|1.0.1.2|Zorbulonrhythm of Xylophanidis||||||R|||"
         "20240315101200" +
         offset + "\r";
}

// `fhirbridge run` with stdout and stderr both captured.
class CapturedService {
 public:
  explicit CapturedService(const std::string& config) {
    Poco::Pipe out;
    Poco::Pipe err;
    handle_ = std::make_unique<Poco::ProcessHandle>(
        Poco::Process::launch(FHIRBRIDGE_BINARY, {"run", "--config", config}, nullptr, &out, &err));
    readers_.emplace_back([this, out]() mutable { Drain(out); });
    readers_.emplace_back([this, err]() mutable { Drain(err); });
  }
  ~CapturedService() {
    if (!exited_) Poco::Process::kill(*handle_);
    for (std::thread& t : readers_) t.join();
  }

  int PortOf(const std::string& pattern) {
    const std::regex re(pattern + "[^\\n]* port=([0-9]+)");
    for (int i = 0; i < 300; ++i) {
      std::smatch m;
      const std::string text = output();
      if (std::regex_search(text, m, re)) return std::stoi(m[1]);
      std::this_thread::sleep_for(50ms);
    }
    BOOST_FAIL("no " << pattern << " in:\n" << output());
    return 0;
  }
  int Terminate() {
    Poco::Process::requestTermination(handle_->id());
    const int code = handle_->wait();
    exited_ = true;
    for (std::thread& t : readers_) t.join();
    readers_.clear();
    return code;
  }
  std::string output() {
    std::lock_guard lock(mutex_);
    return output_;
  }

 private:
  void Drain(Poco::Pipe& pipe) {
    Poco::PipeInputStream in(pipe);
    for (std::string line; std::getline(in, line);) {
      std::lock_guard lock(mutex_);
      output_ += line + "\n";
    }
  }

  std::unique_ptr<Poco::ProcessHandle> handle_;
  std::vector<std::thread> readers_;
  std::mutex mutex_;
  std::string output_;
  bool exited_ = false;
};

std::string Exchange(int port, const std::string& message) {
  mllp::MllpClientOptions options;
  options.port = static_cast<std::uint16_t>(port);
  auto client = mllp::MllpClient::Connect(options);
  BOOST_REQUIRE(client.ok());
  auto answer = (*client)->Exchange(message);
  return answer.ok() ? *answer : "";
}

void ExpectNoPhi(const std::string& where, const std::string& text) {
  for (const std::string& phi : kPhi) {
    BOOST_TEST_INFO(where << " holds " << phi << ":\n" << text);
    BOOST_TEST(text.find(phi) == std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE(phi_safe_logs)

BOOST_AUTO_TEST_CASE(no_phi_reaches_logs_or_admin_answers) {
  TempDir t;
  const std::string config = (t.dir / "config.json").string();
  std::ofstream(config) << R"({
  "store": {"path": ")" << (t.dir / "var" / "store.db").string()
                        << R"(", "sync": "normal"},
  "admin": {"listen": "127.0.0.1:0"},
  "sources": [
    {"name": "icu", "type": "mllp", "listen": "127.0.0.1:0", "assume_timezone": "UTC",
     "limits": {"max_segments": 12}},
    {"name": "ward", "type": "mllp", "listen": "127.0.0.1:0"}],
  "destinations": [{"name": "outbox", "type": "file", "path": ")"
                        << (t.dir / "outbox").string() << R"("}],
  "routes": [{"from": ["icu", "ward"], "to": ["outbox"]}]
})";
  CapturedService service(config);
  const int icu = service.PortOf("event=source.listening source=icu");
  const int ward = service.PortOf("event=source.listening source=ward");
  const int admin = service.PortOf("event=admin.listening");

  BOOST_TEST(e2e::AckCode(Exchange(icu, Message("PHI0001", "+0000"))) == "AA");
  BOOST_TEST(e2e::AckCode(Exchange(icu, Message("PHI0001", "+0000"))) == "AA");  // duplicate
  // Local times and no assume_timezone: stored, then dead-lettered by the mapper.
  BOOST_TEST(e2e::AckCode(Exchange(ward, Message("PHI0002", ""))) == "AA");
  // Over max_segments: refused, with the raw bytes kept in the store only.
  std::string big = Message("PHI0003", "+0000");
  for (int i = 0; i < 10; ++i) big += "NTE|2||Quibbleworth again Xylophanidis\r";
  BOOST_TEST(e2e::AckCode(Exchange(icu, big)) == "AR");
  // Not HL7 at all, and HL7 whose header is broken.
  Exchange(icu, "Xylophanidis Quentavia 19470312 ZQXMRN98765 Quorvex Lane");
  Exchange(icu, "MSH|^~\\&\rPID|||ZQXMRN98765||Xylophanidis^Quentavia||19470312\r");

  const e2e::fs::path outbox = t.dir / "outbox" / "outbox.ndjson";
  for (int i = 0; i < 100 && e2e::Lines(outbox).empty(); ++i) std::this_thread::sleep_for(100ms);
  const std::vector<std::string> delivered = e2e::Lines(outbox);
  BOOST_REQUIRE_EQUAL(delivered.size(), 1u);
  // The PHI went through the pipeline: the test would see it if it were logged.
  BOOST_TEST(delivered[0].find("ZQXMRN98765") != std::string::npos);
  BOOST_TEST(delivered[0].find("Xylophanidis") != std::string::npos);

  std::string answers;
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    answers = e2e::HttpGet(admin, "/api/deadletters", status);
    if (answers.find("\"id\"") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(status == 200);
  BOOST_TEST(answers.find("\"id\"") != std::string::npos, "no dead letter: " << answers);
  ExpectNoPhi("GET /api/deadletters", answers);
  // One dead letter with the mapper's OperationOutcome.
  std::smatch id;
  BOOST_REQUIRE(std::regex_search(answers, id, std::regex("\"id\":([0-9]+)")));
  const std::string detail = e2e::HttpGet(admin, "/api/deadletters/" + id[1].str(), status);
  BOOST_TEST(status == 200);
  BOOST_TEST(detail.find("OperationOutcome") != std::string::npos, detail);
  ExpectNoPhi("GET /api/deadletters/" + id[1].str(), detail);
  for (const char* path : {"/api/messages", "/api/messages?status=failed",
                           "/api/messages?status=mapped", "/metrics"}) {
    const std::string answer = e2e::HttpGet(admin, path, status);
    BOOST_TEST_INFO(path);
    BOOST_TEST(status == 200);
    ExpectNoPhi(path, answer);
  }
  BOOST_TEST(service.Terminate() == 0);
  const std::string log = service.output();
  BOOST_TEST(log.find("event=message.") != std::string::npos, "nothing logged:\n" << log);
  BOOST_TEST(log.find("PHI0002") != std::string::npos);  // control ids may be logged
  ExpectNoPhi("the service's stdout and stderr", log);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::app
