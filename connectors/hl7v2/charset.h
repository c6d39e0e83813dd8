#pragma once

// Character set helpers for the ER7 parser (internal to connectors/hl7v2).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/hl7v2/er7.h"

namespace fhirbridge::hl7v2::internal {

/// The Charset an MSH-18 value names, or nullopt when we do not support it.
/// HL7 v2.5 table 0211: blank means ASCII; we accept "ASCII", "8859/1", "UNICODE UTF-8" and the
/// common spellings "UTF-8" and "UNICODE UTF8", ignoring ASCII case.
std::optional<Charset> CharsetFromMsh18(std::string_view value);

/// The MSH-18 name of a charset, for error messages ("UNICODE UTF-8").
std::string_view CharsetName(Charset charset);

/// Outcome of checking one UTF-8 sequence.
struct Utf8Check {
  std::size_t length = 0;        ///< bytes in the sequence; 0 when it is not well-formed
  const char* reason = nullptr;  ///< why not, e.g. "overlong encoding"
};

/// Checks the sequence starting at s[0] (a byte >= 0x80, or ASCII) against Unicode's table of
/// well-formed UTF-8 byte sequences (Unicode 15 §3.9, table 3-7): no overlongs, no surrogates,
/// nothing above U+10FFFF, no truncation. `avail` is how many bytes may be read.
Utf8Check CheckUtf8Sequence(const unsigned char* s, std::size_t avail);

/// Where the first ill-formed sequence of `text` starts, or npos when it is all well-formed.
std::size_t FindInvalidUtf8(std::string_view text, const char** reason);

/// Appends Latin-1 (ISO 8859-1) bytes to `out` as UTF-8: 0x00-0x7F unchanged, 0x80-0xFF as two
/// bytes (ISO 8859-1 maps each byte to the code point of the same value).
void AppendLatin1AsUtf8(std::string_view latin1, std::string& out);

/// "0xE9": a byte value for error messages (a single byte never identifies anyone).
std::string HexByte(unsigned char byte);

}  // namespace fhirbridge::hl7v2::internal
