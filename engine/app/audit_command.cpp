// fhirbridge audit export|verify --config FILE ...: the audit trail of the configured store
// from the command line (docs/audit.md). `export` prints FHIR R4 AuditEvents as NDJSON (see
// engine/audit/audit_event.h); `verify` walks the hash chain.

#include <iostream>
#include <optional>

#include "engine/app/commands.h"
#include "engine/app/registry.h"
#include "engine/audit/audit_event.h"
#include "engine/audit/audit_time.h"
#include "engine/http/http_client.h"
#include "engine/service/service.h"
#include "engine/store/sqlite_store.h"
#include "fhirbridge/config.h"

namespace fhirbridge::app {

namespace {

constexpr const char* kAuditUsage =
    "usage: fhirbridge audit export --config FILE [--since T] [--until T] [--patient ID]\n"
    "                               [--post BASE_URL]\n"
    "       fhirbridge audit verify --config FILE [--public-key FILE] [--store PATH]\n"
    "T is an ISO 8601 date or date-time (2026-03-01, 2026-03-01T12:00:00Z, ...+01:00);\n"
    "ID is a patient identifier value, or system|value.\n";

constexpr std::size_t kExportPage = 1000;

struct ExportOptions {
  std::string config;
  std::optional<std::int64_t> since_us;  ///< inclusive
  std::optional<std::int64_t> until_us;  ///< exclusive
  std::string patient;
  std::string post_url;  ///< a FHIR server's base URL: POST each AuditEvent to BASE/AuditEvent
};

// Returns "" or the problem.
std::string ParseExport(const std::vector<std::string>& args, ExportOptions& o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) return "unexpected argument '" + a + "'";
    const std::string& value = args[++i];
    if (a == "--config") {
      o.config = value;
    } else if (a == "--since" || a == "--until") {
      Result<std::int64_t> at = audit::ParseInstant(value);
      if (!at.ok()) return a + ": " + at.status().message();
      (a == "--since" ? o.since_us : o.until_us) = *at;
    } else if (a == "--post") {
      if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0) {
        return "--post: expected an http:// or https:// base URL";
      }
      o.post_url = value;
      while (!o.post_url.empty() && o.post_url.back() == '/') o.post_url.pop_back();
    } else if (a == "--patient") {
      if (value.empty()) return "--patient: give an identifier value or system|value";
      o.patient = value;
    } else {
      return "unexpected argument '" + a + "'";
    }
  }
  if (o.config.empty()) return "--config FILE is required";
  return "";
}

// --patient ID: system|value matches exactly; a bare value matches the value of any system.
bool PatientMatches(const std::string& patient, const std::string& wanted) {
  if (wanted.find('|') != std::string::npos) return patient == wanted;
  const std::size_t bar = patient.find('|');
  return (bar == std::string::npos ? patient : patient.substr(bar + 1)) == wanted;
}

bool Selected(const AuditRecord& r, const ExportOptions& o) {
  if (o.since_us && r.at_us < *o.since_us) return false;
  if (o.until_us && r.at_us >= *o.until_us) return false;
  return o.patient.empty() || PatientMatches(r.patient, o.patient);
}

// Reading the trail is itself audited (issue 5 §1): who exported, which time range and which
// patient (the patient only in the store's entry, as every patient identifier).
Status AuditExport(MessageStore& store, const ExportOptions& o) {
  AuditRecord record;
  record.at_us = service::NowMicros();
  record.event = "audit.read";
  record.actor = CliActor();
  if (o.patient.find('|') != std::string::npos) record.patient = o.patient;
  std::string detail = "{\"target\":\"export\"";
  if (o.since_us) detail += ",\"since\":\"" + audit::FormatInstant(*o.since_us) + "\"";
  if (o.until_us) detail += ",\"until\":\"" + audit::FormatInstant(*o.until_us) + "\"";
  if (!o.patient.empty()) detail += ",\"patient_filter\":true";
  record.detail = detail + "}";
  return store.RecordAudit(std::move(record));
}

// --post: each AuditEvent is created on a FHIR audit repository (FHIR R4 http.html#create).
class AuditRepository {
 public:
  static Result<AuditRepository> Open(const std::string& base_url) {
    Result<std::unique_ptr<http::HttpClient>> client = http::HttpClient::Create({});
    if (!client.ok()) return client.status();
    return AuditRepository(base_url, std::move(client).value());
  }

  /// "" when created, else what went wrong.
  std::string Create(std::string auditevent) {
    http::HttpRequest request;
    request.method = "POST";
    request.url = base_url_ + "/AuditEvent";
    request.headers = {{"Content-Type", "application/fhir+json"},
                       {"Accept", "application/fhir+json"},
                       {"Prefer", "return=minimal"}};
    request.body = std::move(auditevent);
    Result<http::HttpResponse> response = client_->Perform(std::move(request));
    if (!response.ok()) return response.status().ToString();
    if (response->status == 200 || response->status == 201) return "";
    return "HTTP " + std::to_string(response->status);
  }

 private:
  AuditRepository(std::string base_url, std::unique_ptr<http::HttpClient> client)
      : base_url_(std::move(base_url)), client_(std::move(client)) {}

  std::string base_url_;
  std::unique_ptr<http::HttpClient> client_;
};

int RunExport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  ExportOptions o;
  if (const std::string problem = ParseExport(args, o); !problem.empty()) {
    err << "audit export: " << problem << "\n" << kAuditUsage;
    return 2;
  }
  Result<Config> config = LoadConfigFile(o.config, DefaultConfigSchema());
  if (!config.ok()) {
    err << config.status().message() << "\n";
    return 1;
  }
  Result<std::unique_ptr<store::SqliteStore>> store = OpenConfiguredStore(*config);
  if (!store.ok()) {
    err << "audit export: " << store.status().message() << "\n";
    return 1;
  }
  if (Status audited = AuditExport(**store, o); !audited.ok()) {
    err << "audit export: cannot write the audit record: " << audited.message() << "\n";
    return 1;
  }
  audit::AuditEventOptions render;
  render.node_name = config->root().GetString("audit.node_name");
  std::optional<AuditRepository> repository;
  if (!o.post_url.empty()) {
    Result<AuditRepository> opened = AuditRepository::Open(o.post_url);
    if (!opened.ok()) {
      err << "audit export: " << opened.status().message() << "\n";
      return 1;
    }
    repository.emplace(std::move(opened).value());
  }
  int failed = 0;
  std::int64_t after = 0;
  for (;;) {
    Result<std::vector<AuditRecord>> page = (*store)->ReadAudit(after, kExportPage);
    if (!page.ok()) {
      err << "audit export: " << page.status().message() << "\n";
      return 1;
    }
    for (const AuditRecord& r : *page) {
      if (!Selected(r, o)) continue;
      const std::string json = audit::RenderAuditEvent(r, render);
      out << json << "\n";
      if (!repository) continue;
      if (const std::string problem = repository->Create(json); !problem.empty()) {
        err << "audit export: entry " << r.id << " not created: " << problem << "\n";
        ++failed;
      }
    }
    if (page->size() < kExportPage) break;
    after = page->back().id;
  }
  out.flush();
  return out && failed == 0 ? 0 : 1;
}

}  // namespace

int RunAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kAuditUsage;
    return 2;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "export") return RunExport(rest, out, err);
  if (args[0] == "verify") return RunAuditVerify(rest, out, err);  // audit_verify_command.cpp
  if (args[0] == "verify") return RunAuditVerify(rest, out, err);
  err << "audit: unknown action '" << args[0] << "'\n" << kAuditUsage;
  return 2;
}

}  // namespace fhirbridge::app
