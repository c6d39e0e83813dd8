#pragma once

// The manager side of one IEEE 11073-20601 association (20601 section 8, state machine of
// Figure 8-3 / Table E.2, manager part): consumes the agent's APDUs one at a time and says what
// to send back and which measurements arrived. No I/O and no clock: the transport passes each
// APDU with its receive time and sends the replies.
//
//   Unassociated --AARQ, known config--> Operating  (AARE accepted)
//   Unassociated --AARQ, unknown config--> WaitingForConfig  (AARE accepted-unknown-config)
//   WaitingForConfig --MDC_NOTI_CONFIG ok--> Operating  (RORS accepted-config)
//   WaitingForConfig --MDC_NOTI_CONFIG bad--> WaitingForConfig  (RORS unsupported-config)
//   Operating --scan report--> Operating  (RORS for confirmed reports; measurements out)
//   any associated --RLRQ--> Unassociated (RLRE)   --ABRT--> Unassociated
//   any --malformed or unexpected APDU--> Unassociated (ABRT)

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "connectors/ieee11073/phd/apdu.h"
#include "connectors/ieee11073/phd/configuration.h"
#include "connectors/ieee11073/phd/scan_report.h"

namespace fhirbridge::phd {

struct SessionOptions {
  /// The manager's own EUI-64, sent in the AARE.
  std::string manager_system_id = std::string("\x46\x48\x42\x52\x49\x44\x47\x45", 8);
  /// After association, ask the agent for its MDS attributes (model, specialisations, clock):
  /// the clock reading is the coincident time stamp (see DeviceIdentity::clock).
  bool request_mds_attributes = true;
  DecodeLimits limits;
};

/// What the manager knows about the associated agent.
struct DeviceIdentity {
  std::string system_id;  ///< raw bytes (EUI-64)
  std::uint16_t dev_config_id = 0;
  /// MDC_DEV_SPEC_PROFILE_* codes: from MDC_ATTR_SYS_TYPE_SPEC_LIST, else the standard
  /// configuration's specialisation.
  std::vector<std::uint32_t> specializations;
  std::string manufacturer;  ///< MDC_ATTR_ID_MODEL, when read
  std::string model;
  /// The agent's clock (MDC_ATTR_TIME_ABS) as read from the MDS, and when that answer arrived:
  /// together they relate the agent's time stamps to real time.
  std::optional<AbsoluteTime> clock;
  std::int64_t clock_received_at_us = 0;
};

/// The measurements of one scan report, with what the mapper needs around them.
struct MeasurementReport {
  DeviceIdentity device;
  ScanReport scan;
  std::int64_t received_at_us = 0;  ///< when the APDU arrived (UTC microseconds)
  std::size_t apdu_offset = 0;      ///< of the APDU in the stream
  std::uint16_t invoke_id = 0;
  /// Set by the TCP listener when TcpServerOptions::capture_apdus: the timed capture
  /// (timed_capture.h) that replays to this report alone; empty otherwise.
  std::string capture;
};

/// What one agent APDU led to.
struct SessionStep {
  std::vector<std::string> replies;        ///< manager APDUs to send, in order
  std::vector<MeasurementReport> reports;  ///< at most one per APDU
  Status problem;                          ///< what was wrong with the APDU, or OK
  bool association_ended = false;          ///< RLRE/ABRT sent or received
};

class AgentSession {
 public:
  enum class State { kUnassociated, kWaitingForConfig, kOperating };

  explicit AgentSession(SessionOptions options = {});

  /// Consumes one complete APDU (header included) that started at `stream_offset`.
  SessionStep Consume(std::span<const std::uint8_t> apdu, std::size_t stream_offset,
                      std::int64_t received_at_us);

  State state() const { return state_; }
  const DeviceIdentity& device() const { return device_; }
  /// The configuration in use while associated, else nullptr.
  const Configuration* configuration() const;

 private:
  void OnAarq(const Aarq& aarq, SessionStep& step);
  void OnData(const DataApdu& data, const Apdu& apdu, std::int64_t received_at_us,
              SessionStep& step);
  void OnConfigReport(const DataApdu& data, SessionStep& step);
  void OnScanReport(const DataApdu& data, const Apdu& apdu, std::int64_t received_at_us,
                    SessionStep& step);
  void OnMdsAttributes(const GetResult& result, std::int64_t received_at_us, SessionStep& step);
  void Abort(SessionStep& step, Status why);
  void EnterOperating(SessionStep& step);
  void Reset();

  SessionOptions options_;
  State state_ = State::kUnassociated;
  DeviceIdentity device_;
  const Configuration* standard_ = nullptr;  ///< when associated with a standard configuration
  std::optional<Configuration> extended_;    ///< when associated with a reported configuration
  /// Extended configurations learned in this session, by system-id and config id, so that an
  /// agent re-associating with the same dev-config-id needs no second configuration report.
  struct Learned {
    std::string system_id;
    Configuration config;
  };
  std::vector<Learned> learned_;
  std::uint16_t next_invoke_id_ = 0;
};

/// "unassociated", "waiting-for-config", "operating".
std::string_view StateName(AgentSession::State state);

}  // namespace fhirbridge::phd
