#pragma once

// IEEE 11073-10207 (BICEPS) documents as fhirbridge reads them: an MDIB (`msg:GetMdibResponse`
// or a bare `msg:Mdib`) or a metric report (`msg:EpisodicMetricReport`,
// `msg:PeriodicMetricReport`), bare or in a SOAP 1.2 envelope (IEEE 11073-20701 binds BICEPS
// messages to SOAP). Transport-independent: "document bytes in → decoded model out", so an HTTP
// POST, `fhirbridge convert`, or a later WS-Discovery/DPWS subscription client all use
// ReadSdcDocument the same way. Rules and limits: docs/connector-sdc.md.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fhirbridge/issue.h"
#include "fhirbridge/result.h"

namespace fhirbridge::sdc {

inline constexpr std::string_view kParticipantNs =
    "http://standards.ieee.org/downloads/11073/11073-10207-2017/participant";
inline constexpr std::string_view kMessageNs =
    "http://standards.ieee.org/downloads/11073/11073-10207-2017/message";
inline constexpr std::string_view kExtensionNs =
    "http://standards.ieee.org/downloads/11073/11073-10207-2017/extension";
inline constexpr std::string_view kSoap12Ns = "http://www.w3.org/2003/05/soap-envelope";
inline constexpr std::string_view kXsiNs = "http://www.w3.org/2001/XMLSchema-instance";
/// BICEPS CodedValue default coding system (IEEE 11073-10207 B.x: absent CodingSystem = MDC).
inline constexpr std::string_view kMdcCodingSystem = "urn:oid:1.2.840.10004.1.1.1.0.0.1";

/// Limits of the reader (each has a test). Sizes are checked before parsing; the element count
/// is bounded before parsing by counting '<' and checked exactly after.
struct SdcReaderLimits {
  std::size_t max_bytes = 16u << 20;     ///< whole document
  std::size_t max_depth = 64;            ///< element nesting
  std::size_t max_elements = 200'000;    ///< elements in the document
  std::size_t max_value_bytes = 65'536;  ///< one attribute value or text (handles, values, names)
};

/// A BICEPS CodedValue (Type, Unit): the code as sent and its coding system (MDC when absent).
struct SdcCode {
  std::string code;
  std::string coding_system;  ///< never empty: kMdcCodingSystem when the document gave none
  std::string text;           ///< first ConceptDescription, for display
  std::string location;       ///< "line 12:9 (Mdib/MdDescription/Mds/Type)"
  bool IsMdc() const { return coding_system == kMdcCodingSystem; }
};

/// An MDS, VMD or channel descriptor (BICEPS 10207 section 5.2 containment tree).
struct SdcComponent {
  enum class Kind { kMds, kVmd, kChannel };
  Kind kind = Kind::kMds;
  std::string handle;
  std::string parent_handle;  ///< empty for an MDS
  std::string mds_handle;     ///< the MDS it belongs to (itself for an MDS)
  std::optional<SdcCode> type;
  std::string manufacturer;   ///< MDS MetaData (first Manufacturer), else empty
  std::string model_number;   ///< MDS MetaData
  std::string serial_number;  ///< MDS MetaData (first SerialNumber)
  std::string location;
};

enum class SdcMetricKind {
  kNumeric,
  kString,
  kEnumString,
  kRealTimeSampleArray,
  kDistributionSampleArray,
  kOther,
};

/// A metric descriptor (child of a channel).
struct SdcMetric {
  SdcMetricKind kind = SdcMetricKind::kOther;
  std::string handle;
  std::string channel_handle;
  std::string mds_handle;
  std::optional<SdcCode> type;
  std::optional<SdcCode> unit;
  std::string location;
};

/// A metric state with its value (BICEPS AbstractMetricValue): the text as sent.
struct SdcMetricState {
  SdcMetricKind kind = SdcMetricKind::kOther;  ///< from xsi:type
  std::string descriptor_handle;
  bool has_value_element = false;                     ///< MetricValue present
  std::optional<std::string> value;                   ///< @Value (numeric: a validated xsd:decimal)
  std::optional<std::int64_t> determination_time_ms;  ///< @DeterminationTime, ms since epoch
  std::string validity;  ///< MetricQuality/@Validity (Vld, Vldated, Ong, Qst, Calib, Inv, ...)
  std::string mode;      ///< MetricQuality/@Mode (Real, Demo, Test); "" = Real
  std::string activation_state;  ///< @ActivationState ("" = On)
  std::string location;
};

/// The associated patient (PatientContextState with ContextAssociation="Assoc"): identifiers
/// only (BICEPS InstanceIdentifier Root/Extension). Names and birth dates are not read.
struct SdcPatient {
  struct Id {
    std::string root;
    std::string extension;
  };
  std::vector<Id> identifiers;
  std::string location;
};

struct SdcDocument {
  enum class Kind { kMdib, kEpisodicMetricReport, kPeriodicMetricReport };
  Kind kind = Kind::kMdib;
  bool soap = false;        ///< came in a SOAP 1.2 envelope
  std::string sequence_id;  ///< @SequenceId of the MDIB / report
  std::string mdib_version;
  std::vector<SdcComponent> components;  ///< MDIB only; document order (parents first)
  std::vector<SdcMetric> metrics;        ///< MDIB only
  std::vector<SdcMetricState> states;    ///< metric states (MDIB MdState or report parts)
  std::optional<SdcPatient> patient;     ///< MDIB only, when a patient is associated
  /// What is wrong with single items (a code with an invisible character, a value that is not
  /// a number, a state naming no descriptor): warnings and errors with their location. The
  /// mapper decides what each means for the Bundle.
  DataIssues issues;

  /// Index of `metrics` by handle (filled by the reader; FindMetric searches linearly without).
  std::unordered_map<std::string, std::size_t> metric_index;

  const SdcMetric* FindMetric(std::string_view handle) const;
  const SdcComponent* FindComponent(std::string_view handle) const;
};

/// "GetMdibResponse", "Mdib", "EpisodicMetricReport", "PeriodicMetricReport".
std::string_view KindName(SdcDocument::Kind kind);

/// Reads one document. Refuses (InvalidArgument, "line L:C (path): what") anything that is not
/// well-formed UTF-8 XML, any DOCTYPE (no DTD processing at all, so no entity expansion), a root
/// that is not one of the documents above (by namespace URI, not by prefix), and a namespace
/// prefix that is not declared; ResourceExhausted for a limit. Problems with single items go to
/// SdcDocument::issues. `report_context`, when given, is an MDIB whose descriptors the states
/// of a report refer to (checked: a handle it lacks is an error issue). Never throws.
Result<SdcDocument> ReadSdcDocument(std::string_view xml, const SdcReaderLimits& limits = {},
                                    const SdcDocument* report_context = nullptr);

}  // namespace fhirbridge::sdc
