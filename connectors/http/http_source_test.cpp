// The HTTP(S) source against a real SQLite store, over real sockets on 127.0.0.1 port 0.

#include "connectors/http/http_source.h"

#include <sqlite3.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>

#include "connectors/mllp/tls_context.h"
#include "connectors/mllp/tls_test_util.h"
#include "engine/store/sqlite_store.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::http {
namespace {

namespace fs = std::filesystem;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;

const std::string kDoc =
    R"({"batchId":"b-1","deviceId":"W-1","samples":[{"type":"heart_rate","value":72}]})";

struct Reply {
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string www_authenticate;
};

// One real SQLite store in a fresh folder.
struct StoreFixture {
  testing::TempDir temp{"fhirbridge-http"};
  const fs::path& dir = temp.dir;
  std::unique_ptr<store::SqliteStore> store;
  StoreFixture() {
    store::SqliteStoreOptions o;
    o.path = (dir / "store.db").string();
    o.full_sync = false;
    auto opened = store::SqliteStore::Open(o);
    BOOST_REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    store = std::move(opened).value();
  }
  ~StoreFixture() { store->Close(); }
  // The first column of every row `sql` gives, read with a connection of our own.
  std::vector<std::string> Column(const std::string& sql) const {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open((dir / "store.db").string().c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
                          sqlite3_errmsg(db));
    std::vector<std::string> rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, 0));
      rows.emplace_back(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
  }
};

Reply Exchange(Poco::Net::HTTPClientSession& session, const std::string& method,
               const std::string& path, const std::string& body, const std::string& type,
               const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  HTTPRequest request(method, path, HTTPRequest::HTTP_1_1);
  if (!type.empty()) request.setContentType(type);
  for (const auto& [k, v] : headers) request.set(k, v);
  request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply r;
  r.status = static_cast<int>(response.getStatus());
  Poco::StreamCopier::copyToString(in, r.body);
  r.retry_after = response.get("Retry-After", "");
  r.www_authenticate = response.get("WWW-Authenticate", "");
  return r;
}

Reply Post(std::uint16_t port, const std::string& body,
           const std::string& type = "application/json",
           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  return Exchange(session, HTTPRequest::HTTP_POST, "/ingest", body, type, headers);
}

HttpSourceOptions Options(const std::string& format = "json") {
  HttpSourceOptions o;
  o.name = "wearables";
  o.format = format;
  o.port = 0;
  o.control_id_pointer = "/batchId";
  return o;
}

BOOST_AUTO_TEST_SUITE(http_source)

BOOST_AUTO_TEST_CASE(accepted_means_committed_and_a_resend_is_a_duplicate) {
  StoreFixture f;
  HttpSource source(Options());
  BOOST_REQUIRE(source.Start(*f.store).ok());
  BOOST_TEST(source.Running());
  const Reply first = Post(source.port(), kDoc);
  BOOST_TEST(first.status == 202);
  BOOST_TEST(first.body == R"({"message_id":1,"control_id":"b-1","duplicate":false})");
  // The answer came after the commit: another connection sees the row.
  BOOST_TEST(f.Column("SELECT raw FROM message_raw WHERE message_id = 1") ==
             std::vector<std::string>{kDoc});
  BOOST_TEST(f.Column("SELECT control_id || ' ' || format || ' ' || source FROM messages") ==
             std::vector<std::string>{"b-1 json wearables"});
  const Reply again = Post(source.port(), kDoc);
  BOOST_TEST(again.status == 202);
  BOOST_TEST(again.body == R"({"message_id":1,"control_id":"b-1","duplicate":true})");
  BOOST_TEST(f.Column("SELECT id FROM messages").size() == 1u);
  BOOST_TEST(source.stats().accepted == 1u);
  BOOST_TEST(source.stats().duplicates == 1u);
  source.Stop();
  BOOST_TEST(!source.Running());
}

BOOST_AUTO_TEST_CASE(control_id_from_pointer_then_headers_then_hash) {
  StoreFixture f;
  HttpSource source(Options());
  BOOST_REQUIRE(source.Start(*f.store).ok());
  BOOST_TEST(
      Post(source.port(), R"({"x":1})", "application/json", {{"X-Request-ID", "req-7"}}).status ==
      202);
  BOOST_TEST(
      Post(source.port(), R"({"x":2})", "application/fhir+json", {{"Idempotency-Key", "idem-8"}})
          .status == 202);
  BOOST_TEST(Post(source.port(), R"({"x":3})").status == 202);
  const auto ids = f.Column("SELECT control_id FROM messages ORDER BY id");
  BOOST_REQUIRE_EQUAL(ids.size(), 3u);
  BOOST_TEST(ids[0] == "req-7");
  BOOST_TEST(ids[1] == "idem-8");
  BOOST_TEST(ids[2].rfind("sha256:", 0) == 0u);
  BOOST_TEST(ids[2].size() == 7u + 32u);
}

BOOST_AUTO_TEST_CASE(refused_bodies_are_answered_with_where_and_kept) {
  StoreFixture f;
  HttpSourceOptions o = Options();
  o.max_body_bytes = 1024;
  o.max_depth = 8;
  HttpSource source(o);
  BOOST_REQUIRE(source.Start(*f.store).ok());

  const Reply bad_json = Post(source.port(), R"({"batchId": "b-2", "value": 7,})");
  BOOST_TEST(bad_json.status == 400);
  BOOST_TEST(bad_json.body.find(R"("location":["byte 30"])") != std::string::npos, bad_json.body);
  BOOST_TEST(bad_json.body.find("not valid JSON") != std::string::npos);

  const Reply deep = Post(source.port(), std::string(9, '[') + std::string(9, ']'));
  BOOST_TEST(deep.status == 400);
  BOOST_TEST(deep.body.find("deeper than 8") != std::string::npos, deep.body);

  const Reply large = Post(source.port(), "[" + std::string(2000, ' ') + "]");
  BOOST_TEST(large.status == 413);
  BOOST_TEST(large.body.find("larger than 1024 bytes") != std::string::npos, large.body);

  const Reply type = Post(source.port(), kDoc, "text/plain");
  BOOST_TEST(type.status == 415);
  BOOST_TEST(type.body.find(R"("location":["Content-Type"])") != std::string::npos, type.body);

  BOOST_TEST(f.Column("SELECT id FROM messages").empty());
  const auto reasons = f.Column("SELECT reason FROM rejected ORDER BY id");
  BOOST_REQUIRE_EQUAL(reasons.size(), 4u);
  BOOST_TEST(reasons[0].find("not valid JSON") != std::string::npos);
  BOOST_TEST(f.Column("SELECT raw FROM rejected WHERE id = 1") ==
             std::vector<std::string>{R"({"batchId": "b-2", "value": 7,})"});
  BOOST_TEST(source.stats().rejected == 4u);
}

BOOST_AUTO_TEST_CASE(a_chunked_body_over_the_limit_is_413) {
  StoreFixture f;
  HttpSourceOptions o = Options();
  o.max_body_bytes = 1024;
  HttpSource source(o);
  BOOST_REQUIRE(source.Start(*f.store).ok());
  Poco::Net::HTTPClientSession session("127.0.0.1", source.port());
  HTTPRequest request(HTTPRequest::HTTP_POST, "/ingest", HTTPRequest::HTTP_1_1);
  request.setContentType("application/json");
  request.setChunkedTransferEncoding(true);
  session.sendRequest(request) << "[" << std::string(4000, ' ') << "]";
  HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
  BOOST_TEST(static_cast<int>(response.getStatus()) == 413);
  BOOST_TEST(f.Column("SELECT reason FROM rejected").size() == 1u);
}

BOOST_AUTO_TEST_CASE(xml_sources_take_well_formed_xml_without_dtd) {
  StoreFixture f;
  HttpSource source(Options("sdc"));
  BOOST_REQUIRE(source.Start(*f.store).ok());
  BOOST_TEST(Post(source.port(), "<Mdib><Mds/></Mdib>", "application/soap+xml").status == 202);
  const Reply bomb =
      Post(source.port(), R"(<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><m>&a;</m>)",
           "application/xml");
  BOOST_TEST(bomb.status == 400);
  BOOST_TEST(bomb.body.find("DOCTYPE") != std::string::npos, bomb.body);
  const Reply broken = Post(source.port(), "<Mdib><Mds></Mdib>", "text/xml");
  BOOST_TEST(broken.status == 400);
  BOOST_TEST(broken.body.find("not well-formed XML") != std::string::npos, broken.body);
  BOOST_TEST(Post(source.port(), kDoc, "application/json").status == 415);
  BOOST_TEST(f.Column("SELECT format FROM messages") == std::vector<std::string>{"sdc"});
}

BOOST_AUTO_TEST_CASE(bearer_token_is_required_when_configured) {
  StoreFixture f;
  HttpSourceOptions o = Options();
  o.bearer_token = "s3cret-token-0123456789";
  HttpSource source(o);
  BOOST_REQUIRE(source.Start(*f.store).ok());
  const Reply none = Post(source.port(), kDoc);
  BOOST_TEST(none.status == 401);
  BOOST_TEST(none.www_authenticate == "Bearer");
  BOOST_TEST(Post(source.port(), kDoc, "application/json",
                  {{"Authorization", "Bearer s3cret-token-0123456780"}})
                 .status == 401);
  BOOST_TEST(Post(source.port(), kDoc, "application/json",
                  {{"Authorization", "Bearer s3cret-token-0123456789"}})
                 .status == 202);
  BOOST_TEST(f.Column("SELECT id FROM rejected").empty());  // unauthenticated input is not kept
  BOOST_TEST(source.stats().unauthorized == 2u);
}

BOOST_AUTO_TEST_CASE(wrong_path_and_method) {
  StoreFixture f;
  HttpSource source(Options());
  BOOST_REQUIRE(source.Start(*f.store).ok());
  Poco::Net::HTTPClientSession a("127.0.0.1", source.port());
  BOOST_TEST(Exchange(a, HTTPRequest::HTTP_POST, "/other", kDoc, "application/json").status == 404);
  Poco::Net::HTTPClientSession b("127.0.0.1", source.port());
  BOOST_TEST(Exchange(b, HTTPRequest::HTTP_GET, "/ingest", "", "").status == 405);
  BOOST_TEST(f.Column("SELECT id FROM messages").empty());
}

BOOST_AUTO_TEST_CASE(a_store_that_cannot_commit_gives_503_with_retry_after) {
  StoreFixture f;
  HttpSourceOptions o = Options();
  o.retry_after_seconds = 7;
  HttpSource source(o);
  BOOST_REQUIRE(source.Start(*f.store).ok());
  f.store->Close();  // refuses writes from now on
  const Reply r = Post(source.port(), kDoc);
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.retry_after == "7");
  BOOST_TEST(source.stats().unavailable == 1u);
}

BOOST_AUTO_TEST_CASE(idle_connections_are_closed_after_the_timeout) {
  StoreFixture f;
  HttpSourceOptions o = Options();
  o.timeout = std::chrono::milliseconds(200);
  HttpSource source(o);
  BOOST_REQUIRE(source.Start(*f.store).ok());
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", source.port()));
  socket.sendBytes("POST /ingest HTTP/1.1\r\nContent-Length: 10\r\n", 44);  // then nothing
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  char buffer[512];
  int n = 0;
  try {
    while ((n = socket.receiveBytes(buffer, sizeof buffer)) > 0) {
    }
  } catch (const Poco::Exception&) {
    n = -1;  // reset by the server also ends the connection
  }
  BOOST_TEST(n <= 0);  // the server closed the connection; nothing was stored
  BOOST_TEST(f.Column("SELECT id FROM messages").empty());
}

BOOST_AUTO_TEST_CASE(a_port_in_use_is_reported_with_the_source_name) {
  StoreFixture f;
  HttpSource first(Options());
  BOOST_REQUIRE(first.Start(*f.store).ok());
  HttpSourceOptions o = Options();
  o.port = first.port();
  HttpSource second(o);
  const Status s = second.Start(*f.store);
  BOOST_TEST(s.IsUnavailable());
  BOOST_TEST(s.message().find("source wearables") != std::string::npos, s.message());
}

BOOST_AUTO_TEST_CASE(tls_and_client_certificates) {
  mllp::testing::TestPki pki;
  StoreFixture f;
  HttpSourceOptions o = Options();
  o.tls.cert_file = pki.server.cert_file;
  o.tls.key_file = pki.server.key_file;
  o.tls.client_ca_file = pki.ca.cert_file;
  HttpSource source(o);
  BOOST_REQUIRE(source.Start(*f.store).ok());
  {
    auto context = mllp::internal::MakeClientContext(pki.ca.cert_file, pki.client.cert_file,
                                                     pki.client.key_file);
    BOOST_REQUIRE(context.ok());
    Poco::Net::HTTPSClientSession session("127.0.0.1", source.port(), *context);
    BOOST_TEST(
        Exchange(session, HTTPRequest::HTTP_POST, "/ingest", kDoc, "application/json").status ==
        202);
  }
  const auto identity = f.Column("SELECT tls_identity FROM messages");
  BOOST_REQUIRE_EQUAL(identity.size(), 1u);
  BOOST_TEST(identity[0].find("device-7") != std::string::npos, identity[0]);
  {
    // A certificate from another CA fails the handshake: nothing is stored.
    auto context = mllp::internal::MakeClientContext(pki.ca.cert_file, pki.stranger.cert_file,
                                                     pki.stranger.key_file);
    BOOST_REQUIRE(context.ok());
    Poco::Net::HTTPSClientSession session("127.0.0.1", source.port(), *context);
    BOOST_CHECK_THROW(Exchange(session, HTTPRequest::HTTP_POST, "/ingest", R"({"batchId":"b-9"})",
                               "application/json"),
                      Poco::Exception);
  }
  BOOST_TEST(f.Column("SELECT id FROM messages").size() == 1u);
}

BOOST_AUTO_TEST_CASE(unreadable_tls_files_are_failed_precondition) {
  StoreFixture f;
  HttpSourceOptions o = Options();
  o.tls.cert_file = "/nonexistent/server.crt";
  o.tls.key_file = "/nonexistent/server.key";
  HttpSource source(o);
  const Status s = source.Start(*f.store);
  BOOST_TEST((s.code() == Status::Code::kFailedPrecondition), s.ToString());
  BOOST_TEST(s.message().find("source wearables") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::http
