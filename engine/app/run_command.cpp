// fhirbridge run [--config FILE]: the service, as a Poco ServerApplication that stops cleanly on
// SIGTERM/SIGINT/SIGQUIT.

#include <Poco/Util/ServerApplication.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <iostream>
#include <iterator>

#include "engine/app/atna_setup.h"
#include "engine/app/commands.h"
#include "engine/app/registry.h"
#include "engine/store/audit_chain.h"
#include "fhirbridge/config.h"
#include "fhirbridge/json_writer.h"
#include "fhirbridge/log.h"

namespace fhirbridge::app {

namespace {

constexpr const char* kRunUsage = "usage: fhirbridge run [--config FILE]\n";

// How long a clean stop may take before the process leaves anyway: everything acknowledged is
// in the store, so a restart resumes from there.
constexpr std::chrono::seconds kStopBudget{30};

// The audit trail records which configuration the service runs with: its SHA-256, so that a
// later change to the file shows (issue 5 §1).
void AuditConfigLoaded(const Config& config, MessageStore& store) {
  std::ifstream in(config.origin(), std::ios::binary);
  const std::string text = in ? std::string(std::istreambuf_iterator<char>(in), {})
                              : std::string(EmbeddedDefaultConfig());
  AuditRecord record;
  record.event = "config.loaded";
  record.actor = "fhirbridge";
  std::string detail;
  JsonWriter w(detail);
  w.BeginObject();
  w.KeyString("file", config.origin());
  w.KeyString("sha256", store::HexOf(store::Sha256(text)));
  w.EndObject();
  record.detail = std::move(detail);
  if (Status status = store.RecordAudit(std::move(record)); !status.ok()) {
    Logger::Global().Error("audit.write_failed",
                           {LogField::Code("status", CodeName(status.code()))});
  }
}

class RunApplication final : public Poco::Util::ServerApplication {
 public:
  RunApplication(const Config& config, std::ostream& err) : config_(config), err_(err) {}

 protected:
  int main(const std::vector<std::string>&) override {
    Result<std::unique_ptr<service::Service>> built = BuildService(config_);
    if (!built.ok()) {
      err_ << "run: " << built.status().message() << "\n";
      return 1;
    }
    std::unique_ptr<service::Service> service = std::move(built).value();
    AuditConfigLoaded(config_, service->store());
    Result<std::unique_ptr<audit::AtnaForwarder>> atna =
        BuildAtnaForwarder(config_, service->store(), service->metrics());
    if (!atna.ok()) {
      err_ << "run: " << atna.status().message() << "\n";
      return 1;
    }
    if (Status started = service->Start(); !started.ok()) {
      err_ << "run: " << started.message() << "\n";
      return 1;
    }
    if (*atna) (*atna)->Start();  // after the service, so that it forwards its start-up entries
    Logger::Global().Info("service.started");
    waitForTerminationRequest();
    Logger::Global().Info("service.stopping");
    if (*atna) (*atna)->Stop();  // before the store closes; a restart resumes from its position
    std::future<void> stopped = std::async(std::launch::async, [&] { service->Stop(); });
    if (stopped.wait_for(kStopBudget) != std::future_status::ready) {
      Logger::Global().Error("service.stop_timeout");
      std::_Exit(1);
    }
    return 0;
  }

 private:
  const Config& config_;
  std::ostream& err_;
};

}  // namespace

int RunService(const std::vector<std::string>& args, std::ostream& err) {
  std::string config_file;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config_file = args[++i];
    } else {
      err << "run: unexpected argument " << args[i] << "\n" << kRunUsage;
      return 2;
    }
  }
  Result<Config> config =
      config_file.empty()
          ? LoadConfig(EmbeddedDefaultConfig(), DefaultConfigSchema(), "(embedded defaults)")
          : LoadConfigFile(config_file, DefaultConfigSchema());
  if (!config.ok()) {
    err << config.status().message() << "\n";
    return 1;
  }
  // Every thread started from here on inherits this mask, so the termination signals reach
  // waitForTerminationRequest() (sigwait) instead of killing the process in another thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGQUIT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  RunApplication app(*config, err);
  char name[] = "fhirbridge";
  char* argv[] = {name, nullptr};
  return app.run(1, argv);
}

}  // namespace fhirbridge::app
