#pragma once

// PCD-01 OBX fields → Observation elements: the code (OBX-3), value (OBX-2/5/6), flags (OBX-8),
// status (OBX-11), and the patient's demographics (PID).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fhirbridge/json_writer.h"
#include "mappers/pcd01_model.h"

namespace fhirbridge::mappers::pcd01 {

/// OBX-3 after checking it against the MDC table.
struct CodeInfo {
  std::uint32_t mdc = 0;             ///< the verified MDC code; 0 when the code is kept as sent
  std::string_view refid;            ///< the table's reference id for `mdc`
  const VitalSign* vital = nullptr;  ///< set when `mdc` is a FHIR vital sign
  /// The code's part of the Observation identifier: views the cache (KnownTerm::key) or text
  /// the Context keeps (Context::Keep), so that a CodeInfo copies without allocating.
  std::string_view key;
  /// Prebuilt JSON of `mdc` (FragmentCache::FindVital, FindCoding), found once per row.
  const FragmentCache::Vital* fragments = nullptr;
  const std::string* coding = nullptr;
};

/// Checks OBX-3 (MAPPING.md: number and reference id must agree; bare term codes, code 0 and
/// private systems are kept as sent, with a warning, and never get a LOINC code).
CodeInfo ResolveCode(Context& ctx, const Row& row);

/// Writes the codings of OBX-3 for an Observation that is not a vital sign.
void WriteCodings(Context& ctx, JsonWriter& w, const Row& row, const CodeInfo& code);
/// Writes the sender's non-MDC codings of OBX-3 (e.g. a LOINC code it sent) unless `present`
/// (JSON already written) contains the same code.
void WriteSenderCodings(Context& ctx, JsonWriter& w, const Row& row, std::string_view present);
/// True when OBX-3 holds a coding besides its MDC triplet (WriteSenderCodings has some to write).
bool HasSenderCodings(const Row& row);
/// The usual OBX-3: one MDC triplet with a verified code. Its prebuilt coding (all that
/// WriteCodings would write), else null.
const std::string* MdcCodingOnly(const Context& ctx, const Row& row, const CodeInfo& code);

/// OBX-8 abnormal/measurement-status flags (IHE PCD TF-2 Table B.8.8).
struct Flags {
  /// Observation.interpretation items: a prebuilt CodeableConcept, or a flag kept as text
  /// (`is_text`, escaped when written). At most kMaxItems; more are reported and left out.
  /// 16 bytes each (a pointer and a 32-bit size: messages are far below 4 GB).
  struct Item {
    const char* data = nullptr;
    std::uint32_t size = 0;
    bool is_text = false;

    std::string_view value() const { return {data, size}; }
  };
  static constexpr std::size_t kMaxItems = 8;

  /// Item i (< item_count).
  Item item(std::size_t i) const {
    Item it;
    std::memcpy(&it, items_ + i * sizeof(Item), sizeof(Item));
    return it;
  }
  /// Appends an item (item_count < kMaxItems).
  void Add(const Item& it) { std::memcpy(items_ + item_count++ * sizeof(Item), &it, sizeof(Item)); }

  std::size_t item_count = 0;
  bool unreliable = false;         ///< INV / QUES
  bool test_data = false;          ///< DEMO / TEST
  std::string_view absent_reason;  ///< NAV / OFF / NI: data-absent-reason code
  /// The whole `,"interpretation":[...]` member, prebuilt, when OBX-8 is one usual flag.
  std::string_view member;

 private:
  // Bytes, not Items: only [0, item_count) are ever written or read, and every planned
  // Observation holds Flags, so they are not cleared first (an unsigned char array may be
  // left unwritten, and copied, as it is).
  alignas(Item) unsigned char items_[kMaxItems * sizeof(Item)];
};
/// Reads OBX-8 of `row`; with `report`, flags that cannot be mapped are reported.
Flags ReadFlags(Context& ctx, const Row& row, bool report = false);
/// The same into `out`, which is as Flags{} leaves it (no copy of the result).
void ReadFlags(Context& ctx, const Row& row, bool report, Flags& out);

// The Put* writers append object members with their leading comma (the Observation and its
// components always have members before these).

/// Appends `,"interpretation":[...]` when there are flags to write.
void PutInterpretation(JsonAppender& out, const Flags& flags);

/// Observation.status from OBX-11 (MAPPING.md).
std::string_view ObservationStatus(Context& ctx, const Row& row);

/// True when the row's unit may be used by the vital-sign profile; warns when it may not.
bool VitalUnitAllowed(Context& ctx, const Row& row, const VitalSign& vital);

/// valueQuantity (NM) or dataAbsentReason.
void PutNumericValue(Context& ctx, JsonAppender& out, const Row& row, const VitalSign* vital,
                     const Flags& flags);
/// `"unit":..,"system":"http://unitsofmeasure.org","code":..` for a UCUM code.
void AppendUcumMembers(std::string& out, std::string_view ucum);
/// value[x] for any OBX-2 type, or dataAbsentReason.
void WriteValue(Context& ctx, JsonWriter& w, const Group& group, int row_index,
                const CodeInfo& code, const VitalSign* vital, const Flags& flags);

/// Identifier.type from CX-5 (HL7 table 0203), when it is a code of that table.
void WriteIdentifierType(JsonWriter& w, std::string_view cx5);
/// Patient.name, gender and birthDate from PID-5/8/7, only when present.
void WriteDemographics(Context& ctx, JsonWriter& w, const hl7v2::Segment& pid);

}  // namespace fhirbridge::mappers::pcd01
