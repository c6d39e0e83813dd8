#include "engine/app/e2e_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>

#include "connectors/mllp/mllp_client.h"
#include "engine/app/mapping_options.h"
#include "fhirbridge/config.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::app::e2e {

using namespace std::chrono_literals;

ServiceProcess::ServiceProcess(const std::string& config) {
  Poco::Pipe err;
  handle_ = std::make_unique<Poco::ProcessHandle>(Poco::Process::launch(
      FHIRBRIDGE_BINARY, {"run", "--config", config}, nullptr, nullptr, &err));
  reader_ = std::thread([this, err]() mutable {
    Poco::PipeInputStream in(err);
    for (std::string line; std::getline(in, line);) {
      std::lock_guard lock(mutex_);
      log_ += line + "\n";
    }
  });
}

ServiceProcess::~ServiceProcess() {
  if (!exited_) Kill();
  if (reader_.joinable()) reader_.join();
}

int ServiceProcess::PortOf(const std::string& event) {
  const std::regex pattern("event=" + event + "[^\\n]* port=([0-9]+)");
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard lock(mutex_);
      std::smatch m;
      if (std::regex_search(log_, m, pattern)) return std::stoi(m[1]);
    }
    std::this_thread::sleep_for(50ms);
  }
  BOOST_FAIL("the service did not log " << event << "; its log:\n" << log());
  return 0;
}

bool ServiceProcess::WaitForLog(const std::string& text, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::string ServiceProcess::log() {
  std::lock_guard lock(mutex_);
  return log_;
}

void ServiceProcess::Kill() {
  Poco::Process::kill(*handle_);  // SIGKILL
  handle_->wait();
  exited_ = true;
}

int ServiceProcess::Terminate() {
  Poco::Process::requestTermination(handle_->id());  // SIGINT
  const int code = handle_->wait();
  exited_ = true;
  return code;
}

std::vector<std::string> Lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string AckCode(const std::string& ack) {
  const std::size_t msa = ack.find("MSA");
  return msa == std::string::npos || ack.size() < msa + 6 ? "" : ack.substr(msa + 4, 2);
}

std::set<std::size_t> SendAll(int port, const std::vector<std::string>& messages,
                              const std::vector<std::size_t>& indices, int connections,
                              std::atomic<int>* acked_counter) {
  std::mutex mutex;
  std::set<std::size_t> acked;
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      mllp::MllpClientOptions options;
      options.port = static_cast<std::uint16_t>(port);
      options.timeout = 5s;
      auto client = mllp::MllpClient::Connect(options);
      if (!client.ok()) return;
      for (std::size_t k = static_cast<std::size_t>(c); k < indices.size(); k += connections) {
        auto ack = (*client)->Exchange(messages[indices[k]]);
        if (!ack.ok()) return;  // the service went away
        if (AckCode(*ack) == "AA") {
          std::lock_guard lock(mutex);
          acked.insert(indices[k]);
          if (acked_counter) ++*acked_counter;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return acked;
}

namespace {

std::string Http(const std::string& method, int port, const std::string& path, int& status) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (method == Poco::Net::HTTPRequest::HTTP_POST) request.setContentLength(0);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& body = session.receiveResponse(response);
  status = response.getStatus();
  std::stringstream text;
  text << body.rdbuf();
  return text.str();
}

}  // namespace

std::string HttpGet(int port, const std::string& path, int& status) {
  return Http(Poco::Net::HTTPRequest::HTTP_GET, port, path, status);
}

std::string HttpPost(int port, const std::string& path, int& status) {
  return Http(Poco::Net::HTTPRequest::HTTP_POST, port, path, status);
}

std::pair<int, std::string> HttpPostBody(int port, const std::string& path,
                                         const std::string& content_type, const std::string& body) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, path,
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  request.setContentType(content_type);
  request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::stringstream answer;
  answer << session.receiveResponse(response).rdbuf();
  return {static_cast<int>(response.getStatus()), answer.str()};
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> ExpectedBundles(const std::string& config_path,
                                         const std::vector<std::string>& messages) {
  auto config = LoadConfigFile(config_path, DefaultConfigSchema());
  BOOST_REQUIRE(config.ok());
  auto options = Pcd01OptionsFor(config->root().Array("sources")[0]);
  BOOST_REQUIRE(options.ok());
  auto terms = mappers::Terminology::LoadBuiltin();
  BOOST_REQUIRE(terms.ok());
  const mappers::Pcd01Mapper mapper(*terms, *options);
  std::vector<std::string> bundles;
  for (const std::string& m : messages) {
    mappers::Mapped mapped = mapper.Map(m);
    BOOST_REQUIRE(mapped.ok());
    bundles.push_back(std::move(mapped.bundle));
  }
  return bundles;
}

int RunFhirbridge(const std::vector<std::string>& args, std::string& out) {
  Poco::Pipe pipe;
  Poco::ProcessHandle handle =
      Poco::Process::launch(FHIRBRIDGE_BINARY, args, nullptr, &pipe, nullptr);
  Poco::PipeInputStream in(pipe);
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  return handle.wait();
}

}  // namespace fhirbridge::app::e2e
