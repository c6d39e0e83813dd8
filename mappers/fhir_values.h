#pragma once

// Small conversions from HL7 v2 values to FHIR primitive text, shared by the mappers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fhirbridge::mappers {

/// Appends the FHIR `decimal` form of an HL7 NM value to `out`, keeping every digit the device
/// sent ("98.60" stays "98.60"): a leading '+' and redundant leading zeros are dropped, ".5"
/// becomes "0.5" and "5." becomes "5". Surrounding spaces are ignored. Returns false (and
/// appends nothing) when `nm` is not a number.
bool AppendFhirDecimal(std::string& out, std::string_view nm);
/// The same into `out`, which has room for nm.size() + 1 bytes: returns the length written, 0
/// when `nm` is not a number.
std::size_t WriteFhirDecimal(char* out, std::string_view nm);
/// True when `nm` is a FHIR decimal as it is (0 or [1-9][0-9]*, then '.' and digits or
/// nothing), so that WriteFhirDecimal would copy it unchanged: the usual device value ("98.6").
bool IsFhirDecimal(std::string_view nm);

/// IEEE 11073-20601 MDER FLOAT reserved values as gateways print them (MAPPING.md: NaN 8388607,
/// NRes 8388608, +INF 8388606, -INF 8388610, reserved 8388609): the FHIR data-absent-reason code
/// to use instead of a value, or nullopt for an ordinary number.
std::optional<std::string_view> MderSentinelReason(std::string_view nm);

/// A 128-bit hash of `kind` and `text` formatted as a UUID (version nibble 8 =
/// application-defined), so that fullUrls are deterministic. Not for security.
std::string DeterministicUuid(std::string_view kind, std::string_view text);
/// The same, appended to `out`.
void AppendDeterministicUuid(std::string& out, std::string_view kind, std::string_view text);
/// The same, written to out[0..36).
void WriteDeterministicUuid(char* out, std::string_view kind, std::string_view text);
inline constexpr std::size_t kUuidLength = 36;

/// A 64-bit hash as 16 lowercase hex digits (delivery lane keys; carries no readable PHI).
std::string HashHex64(std::string_view text);

/// Appends `text` with every byte outside [A-Za-z0-9._~-] and `also_plain` percent-encoded
/// (RFC 3986, upper-case hex).
void AppendPercentEncoded(std::string& out, std::string_view text, std::string_view also_plain);

/// Appends `text` with every byte outside [A-Za-z0-9._~-] percent-encoded, so that it can be a
/// component of an identifier value that is also used unescaped in FHIR search strings.
void AppendIdentifierComponent(std::string& out, std::string_view text);

/// FHIR code system URI for an HL7 v2 coding-system name (HL7 table 0396): MDC, LN, SCT, UCUM,
/// HL7nnnn / HL7-nnnn tables. Empty when the name is not a known public system.
std::string_view KnownSystemUri(std::string_view hl7_name, std::string& scratch);

inline constexpr std::string_view kMdcSystem = "urn:iso:std:iso:11073:10101";
inline constexpr std::string_view kLoincSystem = "http://loinc.org";
inline constexpr std::string_view kUcumSystem = "http://unitsofmeasure.org";
inline constexpr std::string_view kEui64System = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680";
inline constexpr std::string_view kUriSystem = "urn:ietf:rfc:3986";

}  // namespace fhirbridge::mappers
