#pragma once

// IEEE 11073 SDC (BICEPS 10207) documents → one FHIR R4 transaction Bundle per document, after
// the HL7 Point-of-Care Device IG: MDS/VMD/channel descriptors → Device (with `parent` links),
// numeric metric states → Observation with the MDC code of the descriptor's Type (+ LOINC for
// vital signs), the value with the UCUM unit of the descriptor's Unit, MetricQuality → status,
// dataAbsentReason and security labels, DeterminationTime → effectiveDateTime, conditional
// creates on deterministic identifiers. The rules: docs/connector-sdc.md.
//
// Pure: no I/O, no clock, no globals; the same bytes and options give the same output bytes.

#include <memory>
#include <string>
#include <string_view>

#include "connectors/ieee11073/sdc/sdc_document.h"
#include "fhirbridge/mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers {

/// Per-source SDC mapping settings.
struct SdcOptions {
  /// The configured source name; scopes device handles and identifiers.
  std::string source_name = "default";
  /// Observation.status for MetricQuality Validity "Vld" (valid, not validated by a clinician):
  /// MAPPING.md, the same choice as the source's `status_for_R` (default preliminary).
  std::string status_for_valid = "preliminary";
  /// Deliver metrics whose MetricQuality Mode is Demo or Test (tagged HTEST).
  bool deliver_test_data = false;
  /// System of the deterministic Observation identifiers (the same as PCD-01's).
  std::string observation_identifier_system = "urn:fhirbridge:observation";
  sdc::SdcReaderLimits limits;
};

class SdcMapper final : public Mapper {
 public:
  /// `terminology` must outlive the mapper.
  SdcMapper(const Terminology& terminology, SdcOptions options);
  ~SdcMapper() override;

  /// Reads and maps one document. A metric report needs its MDIB's descriptors: without them
  /// it fails with a data error (see the overload). Never throws.
  MapOutput Map(std::string_view raw) const override;
  /// Maps a document; the states of a metric report are resolved against `mdib` (an MDIB read
  /// before, e.g. `convert --mdib`, or kept by a subscription).
  MapOutput Map(std::string_view raw, const sdc::SdcDocument* mdib) const;
  /// Maps a document already read.
  MapOutput MapDocument(const sdc::SdcDocument& document, const sdc::SdcDocument* mdib) const;

  const SdcOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fhirbridge::mappers
