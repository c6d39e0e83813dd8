// fhirbridge audit verify --config FILE [--public-key FILE] [--store PATH]: walks the audit
// chain of the configured store (docs/audit.md, Verifying).

#include <optional>
#include <ostream>

#include "engine/app/commands.h"
#include "engine/store/audit_verify.h"
#include "fhirbridge/config.h"

namespace fhirbridge::app {

namespace {

constexpr const char* kVerifyUsage =
    "usage: fhirbridge audit verify --config FILE [--public-key FILE] [--store PATH]\n";

struct VerifyArgs {
  std::string config;
  std::string public_key;
  std::string store;
};

bool ParseVerifyArgs(const std::vector<std::string>& args, VerifyArgs& out, std::ostream& err) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--config" && has_value) {
      out.config = args[++i];
    } else if (args[i] == "--public-key" && has_value) {
      out.public_key = args[++i];
    } else if (args[i] == "--store" && has_value) {
      out.store = args[++i];
    } else {
      err << "audit verify: unexpected argument " << args[i] << "\n" << kVerifyUsage;
      return false;
    }
  }
  if (out.config.empty() && out.store.empty()) {
    err << kVerifyUsage;
    return false;
  }
  return true;
}

// The key that checks signatures: --public-key (with the configured algorithm), else the
// configured signing key itself; none when neither is given.
Result<std::unique_ptr<store::AuditKey>> VerifyKey(const VerifyArgs& args, const Config* config) {
  std::string alg = "ed25519";
  std::string file = args.public_key;
  if (config != nullptr) {
    const ConfigNode& audit = config->root().Object("audit");
    alg = audit.GetString("signing_alg");
    if (file.empty() && audit.Has("signing_key_file")) file = audit.GetString("signing_key_file");
  }
  if (file.empty()) return std::unique_ptr<store::AuditKey>();
  return store::AuditKey::FromFile(alg, file);
}

void PrintReport(const store::AuditVerifyReport& report, const store::AuditKey* key,
                 std::ostream& out) {
  out << "audit chain intact: " << report.entries << " entries, " << report.checkpoints
      << " checkpoints";
  if (report.signatures_checked && key != nullptr) {
    out << " (signatures verified: " << key->alg() << ", key " << key->key_id() << ")";
  } else {
    out << " (unsigned: no audit.signing_key_file)";
  }
  out << "\nlast entry: " << report.head_entry
      << "\nlast hash: " << (report.last_hash.empty() ? "-" : report.last_hash) << "\n";
}

}  // namespace

int RunAuditVerify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  VerifyArgs parsed;
  if (!ParseVerifyArgs(args, parsed, err)) return 2;
  std::optional<Config> config;
  if (!parsed.config.empty()) {
    Result<Config> loaded = LoadConfigFile(parsed.config, DefaultConfigSchema());
    if (!loaded.ok()) {
      err << loaded.status().message() << "\n";
      return 2;
    }
    config = std::move(loaded).value();
  }
  const std::string path =
      !parsed.store.empty() ? parsed.store : config->root().Object("store").GetString("path");
  Result<std::unique_ptr<store::AuditKey>> key = VerifyKey(parsed, config ? &*config : nullptr);
  if (!key.ok()) {
    err << "audit verify: " << key.status().message() << "\n";
    return 2;
  }
  Result<store::AuditVerifyReport> report = store::VerifyAuditChain(path, key->get());
  if (!report.ok()) {
    err << "audit verify: " << report.status().message() << "\n";
    return 2;
  }
  if (!report->intact) {
    err << "audit chain BROKEN at " << report->bad_what << ": " << report->problem << " ("
        << report->explanation << ")\n";
    return 1;
  }
  PrintReport(*report, key->get(), out);
  return 0;
}

}  // namespace fhirbridge::app
