#pragma once

// IHE ATNA forwarding (issue 5 §4): a background thread reads the audit chain in order, renders
// each entry as a FHIR AuditEvent in an RFC 5424 message and sends it over TLS to a syslog
// collector (RFC 5425 octet counting). The id of the last entry the collector is known to have
// is kept in a file beside the store, written atomically, so an outage of the collector or a
// restart of fhirbridge loses nothing: sending resumes after that id.
//
// RFC 5425 has no acknowledgement. An entry counts as delivered once it was written and the
// connection stayed up for `confirm_wait` afterwards (a collector that stops or dies closes or
// resets the connection, which is seen here); otherwise everything after the last confirmed id
// is sent again on a new connection. Delivery is therefore at least once, in chain order.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/audit/audit_event.h"
#include "engine/audit/syslog_message.h"
#include "engine/audit/syslog_tls.h"
#include "fhirbridge/audit.h"
#include "fhirbridge/result.h"

namespace fhirbridge::audit {

/// Reads up to `limit` audit entries with ids above `after_id`, in chain order
/// (MessageStore::ReadAudit).
using AuditReader =
    std::function<Result<std::vector<AuditRecord>>(std::int64_t after_id, std::size_t limit)>;

struct AtnaForwarderOptions {
  SyslogTlsOptions tls;
  SyslogHeader header;
  AuditEventOptions event;
  std::string position_file;  ///< where the last confirmed id is kept (created when missing)
  std::size_t batch = 500;    ///< most entries written before a confirmation
  std::chrono::milliseconds poll_interval{500};  ///< how often an idle forwarder looks for more
  std::chrono::milliseconds confirm_wait{100};   ///< see the file comment
  std::chrono::milliseconds min_backoff{250};    ///< first wait after a failed connection
  std::chrono::milliseconds max_backoff{30000};  ///< the wait doubles up to this
};

/// Figures for /metrics.
struct AtnaForwarderStats {
  std::int64_t confirmed_id = 0;  ///< last id the collector is known to have (durable)
  std::int64_t newest_id = 0;     ///< newest id seen in the store
  std::int64_t sent = 0;          ///< entries written since start (resends included)
  std::int64_t connection_failures = 0;
  bool connected = false;
  std::int64_t backlog() const { return newest_id > confirmed_id ? newest_id - confirmed_id : 0; }
};

class AtnaForwarder {
 public:
  /// Loads the TLS files and the position file. InvalidArgument for a TLS file that does not
  /// load; DataLoss for a position file that is not what this class writes.
  static Result<std::unique_ptr<AtnaForwarder>> Create(AtnaForwarderOptions options,
                                                       AuditReader reader);
  ~AtnaForwarder();  ///< Stop()
  AtnaForwarder(const AtnaForwarder&) = delete;
  AtnaForwarder& operator=(const AtnaForwarder&) = delete;

  void Start();
  /// Stops the thread (a write in progress finishes or times out first). Idempotent.
  void Stop();
  /// Looks for new entries now rather than at the next poll.
  void Wake();

  AtnaForwarderStats stats() const;

 private:
  AtnaForwarder(AtnaForwarderOptions options, AuditReader reader,
                std::unique_ptr<SyslogTlsClient> client, std::int64_t confirmed);

  void Run();
  // One pass: connect if needed, send one batch, confirm it. Returns how long to wait next.
  std::chrono::milliseconds Step(std::unique_ptr<SyslogTlsConnection>& connection,
                                 std::chrono::milliseconds& backoff);
  Status SendBatch(SyslogTlsConnection& connection, const std::vector<AuditRecord>& batch);
  void Confirm(std::int64_t id);
  void ReadAhead();  // while disconnected: keep newest_id (the backlog) current
  void Wait(std::chrono::milliseconds wait);

  const AtnaForwarderOptions options_;
  const AuditReader reader_;
  const std::unique_ptr<SyslogTlsClient> client_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  AtnaForwarderStats stats_;
  std::thread thread_;
};

/// The id kept in a position file; 0 when the file does not exist. DataLoss when it holds
/// anything else than what WritePosition writes.
Result<std::int64_t> ReadPosition(const std::string& path);
/// Writes `id` to `path` atomically (a temporary file, fsync, rename, fsync of the folder).
Status WritePosition(const std::string& path, std::int64_t id);

}  // namespace fhirbridge::audit
