#pragma once

// A planned PCD-01 Observation → its transaction Bundle entry. The entry is mostly fragments
// that never change for a code (codings, category, profile, unit) or a message (subject,
// device): they are prebuilt (FragmentCache, WriteEntries) and appended here with a
// JsonAppender; the rare parts (notes, body site, non-numeric values) go through JsonWriter.

#include <cstdint>
#include <string>
#include <string_view>

#include "fhirbridge/json_writer.h"
#include "mappers/pcd01_model.h"
#include "mappers/pcd01_plan.h"

namespace fhirbridge::mappers::pcd01 {

/// Appends `,{...}`: the entry of `p`, after the entries before it (the Patient comes first).
/// `subject` is the `"subject":{...}` member.
void WriteObservation(Context& ctx, const Model& model, std::string_view subject, const Planned& p,
                      JsonAppender& out);

/// Appends `{"system":"urn:iso:std:iso:11073:10101","code":"<code>"[,"display":<refid>]}`.
void AppendMdcCoding(std::string& out, std::uint32_t code, std::string_view refid);

inline constexpr std::string_view kVitalSignsProfile =
    "http://hl7.org/fhir/StructureDefinition/vitalsigns";

}  // namespace fhirbridge::mappers::pcd01
