// ATNA forwarding against a real collector: Debian's rsyslogd with the gtls driver, started here
// as a child on 127.0.0.1 with mutual TLS and octet-counted framing, writing each message's MSG
// to a file. Entries come from a real store; the collector is stopped in the middle and
// restarted, the forwarder is restarted from its position file, and every entry must arrive
// exactly as rendered, at least once, in order.

#include "engine/audit/atna_forwarder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "connectors/mllp/tls_test_util.h"
#include "engine/store/sqlite_store.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::audit {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// rsyslogd -n as a child: TLS (gtls, mode 1) with client certificates that must chain to the
// CA (x509/certvalid), octet counting (imtcp detects it), MSG only, one line each, to `out`.
class Collector {
 public:
  Collector(const fs::path& dir, int port, const mllp::testing::TestPki& pki)
      : dir_(dir), port_(port), out_(dir / "received.log") {
    fs::create_directories(dir / "work");
    std::ofstream(dir / "rsyslog.conf")
        << "global(workDirectory=\"" << (dir / "work").string() << "\"\n"
        << "  maxMessageSize=\"64k\"\n"
        << "  defaultNetstreamDriver=\"gtls\"\n"
        << "  defaultNetstreamDriverCAFile=\"" << pki.ca.cert_file << "\"\n"
        << "  defaultNetstreamDriverCertFile=\"" << pki.server.cert_file << "\"\n"
        << "  defaultNetstreamDriverKeyFile=\"" << pki.server.key_file << "\")\n"
        << "module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\"\n"
        << "  streamDriver.authMode=\"x509/certvalid\")\n"
        << "template(name=\"raw\" type=\"string\" string=\"%msg%\\n\")\n"
        << "ruleset(name=\"atna\") {\n"
        << "  action(type=\"omfile\" file=\"" << out_.string() << "\" template=\"raw\")\n"
        << "}\n"
        << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port << "\" ruleset=\"atna\")\n";
  }
  ~Collector() { Stop(); }

  void Start() {
    BOOST_REQUIRE_MESSAGE(fs::exists(kRsyslogd),
                          "rsyslogd is missing: apt-get install rsyslog rsyslog-gnutls");
    const std::string conf = (dir_ / "rsyslog.conf").string();
    const std::string pid = (dir_ / "rsyslogd.pid").string();
    const std::string log = (dir_ / "rsyslogd.stderr").string();
    pid_ = fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      freopen(log.c_str(), "a", stderr);
      freopen(log.c_str(), "a", stdout);
      execl(kRsyslogd, kRsyslogd, "-n", "-f", conf.c_str(), "-i", pid.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && !Accepts(port_); ++i) std::this_thread::sleep_for(50ms);
    BOOST_REQUIRE_MESSAGE(Accepts(port_), "rsyslogd did not listen; its output:\n" << Stderr());
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200 && waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  std::vector<std::string> Lines() const {
    std::ifstream in(out_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::string Stderr() const {
    std::ifstream in(dir_ / "rsyslogd.stderr");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path dir_;
  int port_;
  fs::path out_;
  pid_t pid_ = -1;
};

// The AuditEvent ids ("id" is the chain position) of each received line, in arrival order.
std::vector<std::int64_t> ReceivedIds(const std::vector<std::string>& lines) {
  std::vector<std::int64_t> ids;
  for (const std::string& line : lines) {
    rapidjson::Document d;
    d.Parse(line.c_str());
    BOOST_REQUIRE_MESSAGE(!d.HasParseError() && d.IsObject() && d.HasMember("id"),
                          "not an AuditEvent: " << line);
    ids.push_back(std::stoll(d["id"].GetString()));
  }
  return ids;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

struct Fixture {
  Fixture() : port(FreePort()) {
    store::SqliteStoreOptions o;
    o.path = (dir / "store.db").string();
    o.full_sync = false;
    auto opened = store::SqliteStore::Open(o);
    BOOST_REQUIRE(opened.ok());
    store = std::move(opened).value();
  }
  ~Fixture() { store->Close(); }

  void Record(int n) {
    for (int i = 0; i < n; ++i) {
      AuditRecord r;
      r.event = i % 3 == 0 ? "message.received" : (i % 3 == 1 ? "message.mapped" : "admin.read");
      r.actor = i % 3 == 2 ? "admin-token:0123456789ab" : "fhirbridge";
      r.source = "icu";
      r.message_id = ++recorded;
      r.control_id = "CTRL" + std::to_string(recorded);
      r.patient = "urn:oid:1.2.3|PAT-" + std::to_string(recorded);
      r.detail = "{\"count\":" + std::to_string(i) + ",\"note\":\"ü\\\"q\"}";
      const Status recorded_ok = store->RecordAudit(std::move(r));
      BOOST_REQUIRE_MESSAGE(recorded_ok.ok(), recorded_ok.ToString());
    }
  }

  AtnaForwarderOptions Options(const mllp::testing::TestPki& pki) const {
    AtnaForwarderOptions o;
    o.tls.host = "127.0.0.1";
    o.tls.port = static_cast<std::uint16_t>(port);
    o.tls.ca_file = pki.ca.cert_file;
    o.tls.cert_file = pki.client.cert_file;
    o.tls.key_file = pki.client.key_file;
    o.header.hostname = "test-node";
    o.event.node_name = "test-node";
    o.position_file = (dir / "atna.position").string();
    o.batch = 7;
    o.poll_interval = 50ms;
    o.min_backoff = 50ms;
    o.max_backoff = 400ms;
    return o;
  }

  std::unique_ptr<AtnaForwarder> Forwarder(const mllp::testing::TestPki& pki) {
    auto made = AtnaForwarder::Create(Options(pki), [this](std::int64_t after, std::size_t limit) {
      return store->ReadAudit(after, limit);
    });
    BOOST_REQUIRE(made.ok());
    (*made)->Start();
    return std::move(made).value();
  }

  fhirbridge::testing::TempDir temp{"fhirbridge-atna"};
  const fs::path& dir = temp.dir;
  int port;
  std::unique_ptr<store::SqliteStore> store;
  std::int64_t recorded = 0;
};

BOOST_AUTO_TEST_SUITE(atna_forwarder)

BOOST_AUTO_TEST_CASE(position_files_are_read_back_and_checked) {
  const testing::TempDir dir("fhirbridge-pos");
  const std::string path = dir / "p";
  BOOST_TEST(*ReadPosition(path) == 0);
  BOOST_REQUIRE(WritePosition(path, 12345).ok());
  BOOST_TEST(*ReadPosition(path) == 12345);
  BOOST_TEST(!fs::exists(path + ".tmp"));
  std::ofstream(path) << "12345\n";
  BOOST_TEST((ReadPosition(path).status().code() == Status::Code::kDataLoss));
  std::ofstream(path) << "fhirbridge-atna-position 1\n-5\n";
  BOOST_TEST((ReadPosition(path).status().code() == Status::Code::kDataLoss));
}

BOOST_AUTO_TEST_CASE(tls_files_that_do_not_load_are_refused_at_creation) {
  mllp::testing::TestPki pki;
  SyslogTlsOptions o;
  o.host = "127.0.0.1";
  o.port = 1;
  BOOST_TEST(SyslogTlsClient::Create(o).status().IsInvalidArgument());  // no CA
  o.ca_file = (pki.dir / "missing.pem").string();
  BOOST_TEST(SyslogTlsClient::Create(o).status().IsInvalidArgument());
  o.ca_file = pki.ca.cert_file;
  o.cert_file = pki.client.cert_file;
  o.key_file = pki.stranger.key_file;  // not the certificate's key
  const Status mismatch = SyslogTlsClient::Create(o).status();
  BOOST_TEST(mismatch.IsInvalidArgument());
  BOOST_TEST(mismatch.message().find("tls.key") != std::string::npos);
  o.key_file = pki.client.key_file;
  auto client = SyslogTlsClient::Create(o);
  BOOST_REQUIRE(client.ok());
  BOOST_TEST((*client)->Connect().status().IsUnavailable());  // nobody listens on port 1
}

BOOST_AUTO_TEST_CASE(every_entry_reaches_rsyslog_across_an_outage_and_a_restart) {
  mllp::testing::TestPki pki;
  Fixture f;
  Collector collector(f.dir / "collector", f.port, pki);
  collector.Start();

  f.Record(20);
  auto forwarder = f.Forwarder(pki);
  BOOST_REQUIRE_MESSAGE(WaitFor([&] { return collector.Lines().size() >= 20; }),
                        "received " << collector.Lines().size() << "; rsyslogd said:\n"
                                    << collector.Stderr());
  BOOST_TEST(forwarder->stats().connected);

  // Outage: the collector stops; what is recorded meanwhile waits in the store.
  collector.Stop();
  f.Record(20);
  BOOST_REQUIRE(WaitFor([&] {
    const AtnaForwarderStats s = forwarder->stats();
    return !s.connected && s.connection_failures > 0 && s.newest_id == 40;
  }));
  BOOST_TEST(forwarder->stats().backlog() >= 20);
  collector.Start();
  BOOST_REQUIRE(WaitFor([&] { return forwarder->stats().confirmed_id == 40; }));
  BOOST_TEST(forwarder->stats().backlog() == 0);

  // Restart of fhirbridge: a new forwarder resumes from the position file.
  forwarder->Stop();
  forwarder.reset();
  f.Record(10);
  forwarder = f.Forwarder(pki);
  BOOST_REQUIRE(WaitFor([&] { return forwarder->stats().confirmed_id == 50; }));
  BOOST_TEST(forwarder->stats().sent == 10);  // nothing before the position went again
  forwarder->Stop();
  collector.Stop();  // flushes its file

  const std::vector<std::string> lines = collector.Lines();
  const std::vector<std::int64_t> ids = ReceivedIds(lines);
  // At least once, in order: the first arrival of each id is 1, 2, ..., 50; a repeat is a
  // resend of an unconfirmed batch, never ahead of what came before.
  std::int64_t next = 1;
  for (std::int64_t id : ids) {
    if (id == next) ++next;
    BOOST_TEST(id < next);
  }
  BOOST_TEST(next == 51);
  // Exactly the JSON: each line is the rendering of the stored entry with that id.
  std::map<std::int64_t, std::string> expected;
  auto all = f.store->ReadAudit(0, 1000);
  BOOST_REQUIRE(all.ok());
  AuditEventOptions render;
  render.node_name = "test-node";
  for (const AuditRecord& r : *all) expected[r.id] = RenderAuditEvent(r, render);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    BOOST_TEST_INFO("line " << i);
    BOOST_TEST(lines[i] == expected[ids[i]]);
  }
}

BOOST_AUTO_TEST_CASE(a_client_without_a_certificate_is_refused_by_the_collector) {
  mllp::testing::TestPki pki;
  Fixture f;
  Collector collector(f.dir / "collector", f.port, pki);
  collector.Start();
  f.Record(3);
  AtnaForwarderOptions o = f.Options(pki);
  o.tls.cert_file.clear();
  o.tls.key_file.clear();
  auto made = AtnaForwarder::Create(
      o, [&f](std::int64_t after, std::size_t limit) { return f.store->ReadAudit(after, limit); });
  BOOST_REQUIRE(made.ok());
  (*made)->Start();
  BOOST_TEST(WaitFor(
      [&] { return (*made)->stats().connection_failures + (*made)->stats().sent >= 3; }, 10s));
  std::this_thread::sleep_for(500ms);
  BOOST_TEST((*made)->stats().confirmed_id == 0);
  (*made)->Stop();
  collector.Stop();
  BOOST_TEST(collector.Lines().empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::audit
