#include "engine/app/atna_setup.h"

#include <unistd.h>

namespace fhirbridge::app {

namespace {

// "host:port" as the configuration schema checked it; IPv6 hosts come in brackets.
void SplitAddress(const std::string& address, audit::SyslogTlsOptions& tls) {
  const std::size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  tls.host = host;
  tls.port = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
}

void AddMetrics(audit::AtnaForwarder& forwarder, service::Metrics& metrics) {
  audit::AtnaForwarder* f = &forwarder;
  metrics.AddGauge("fhirbridge_audit_syslog_backlog",
                   "Audit entries the ATNA collector is not yet known to have.", [f] {
                     return std::vector<std::pair<service::Labels, double>>{
                         {{}, static_cast<double>(f->stats().backlog())}};
                   });
  metrics.AddGauge("fhirbridge_audit_syslog_confirmed_id",
                   "Id of the last audit entry the ATNA collector is known to have.", [f] {
                     return std::vector<std::pair<service::Labels, double>>{
                         {{}, static_cast<double>(f->stats().confirmed_id)}};
                   });
  metrics.AddGauge("fhirbridge_audit_syslog_connected",
                   "1 while a TLS connection to the ATNA collector is up.", [f] {
                     return std::vector<std::pair<service::Labels, double>>{
                         {{}, f->stats().connected ? 1.0 : 0.0}};
                   });
}

}  // namespace

Result<std::unique_ptr<audit::AtnaForwarder>> BuildAtnaForwarder(const Config& config,
                                                                 MessageStore& store,
                                                                 service::Metrics& metrics) {
  const ConfigNode& audit_config = config.root().Object("audit");
  const ConfigNode& syslog = audit_config.Object("syslog");
  if (!syslog.GetBool("enabled")) return std::unique_ptr<audit::AtnaForwarder>();
  audit::AtnaForwarderOptions o;
  SplitAddress(syslog.GetString("address"), o.tls);
  const ConfigNode& tls = syslog.Object("tls");
  o.tls.ca_file = tls.GetString("ca");
  if (tls.Has("cert")) o.tls.cert_file = tls.GetString("cert");
  if (tls.Has("key")) o.tls.key_file = tls.GetString("key");
  o.event.node_name = audit_config.GetString("node_name");
  o.header.hostname = o.event.node_name;
  o.header.app_name = syslog.GetString("app_name");
  o.header.facility = static_cast<int>(syslog.GetInt("facility"));
  o.header.procid = std::to_string(::getpid());
  o.position_file = syslog.Has("position_file")
                        ? syslog.GetString("position_file")
                        : config.root().Object("store").GetString("path") + ".atna-position";
  MessageStore* s = &store;
  Result<std::unique_ptr<audit::AtnaForwarder>> forwarder = audit::AtnaForwarder::Create(
      std::move(o), [s](std::int64_t after, std::size_t limit) -> Result<std::vector<AuditRecord>> {
        Result<std::vector<AuditRecord>> page = s->ReadAudit(after, limit);
        if (!page.ok()) return page;
        // Only entries on disk leave the machine; the rest follow after the next sync.
        const std::int64_t durable = s->DurableAuditId();
        std::erase_if(*page, [durable](const AuditRecord& r) { return r.id > durable; });
        return page;
      });
  if (!forwarder.ok()) return forwarder.status().WithContext("audit.syslog");
  AddMetrics(**forwarder, metrics);
  return forwarder;
}

}  // namespace fhirbridge::app
