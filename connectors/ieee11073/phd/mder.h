#pragma once

// IEEE 11073-20601 MDER (Medical Device Encoding Rules, 20601 Annex F) primitives: a bounded
// reader over one APDU's bytes, the FLOAT/SFLOAT number types with their reserved values, the
// BCD Absolute-Time-Stamp, and a writer for the manager's replies. Everything is big-endian.
//
// The reader never reads past its span: every read is checked, and the first failure is kept
// (with its byte offset from the start of the stream and the APDU path it happened in) while
// later reads return zeros. Decoders read a whole structure and test ok() once, which keeps them
// short without ever trusting a length the agent sent.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fhirbridge/status.h"

namespace fhirbridge::phd {

/// Limits on what an agent may send. Every limit has a test (mder_test, apdu_limits_test).
struct DecodeLimits {
  /// One APDU including its 4-byte header. 20601 lets the agent and manager agree on sizes up to
  /// 64 KiB; the standard configurations need far less (10404/10407/10415: 896 bytes).
  std::size_t max_apdu_bytes = 65536;
  std::size_t max_config_objects = 256;         ///< objects in one configuration report
  std::size_t max_attributes = 64;              ///< attributes in one attribute list
  std::size_t max_value_map_entries = 32;       ///< entries of one Attribute-Value-Map
  std::size_t max_observations = 1024;          ///< observations in one scan report
  std::size_t max_persons = 32;                 ///< person entries of one multi-person report
  std::size_t max_compound_values = 32;         ///< values of one compound observation
  std::size_t max_string_bytes = 256;           ///< one octet string kept as text (model, ...)
  std::size_t max_configurations_learned = 64;  ///< extended configurations kept per session
};

/// The first decoding failure of an APDU: where and what. Never carries the bytes (PHI).
struct DecodeError {
  bool set = false;
  bool limit = false;      ///< a DecodeLimits value was exceeded (ResourceExhausted)
  std::size_t offset = 0;  ///< from the start of the stream (or buffer) being decoded
  std::string context;     ///< APDU path, e.g. "PRST/ROIV-CONFIRMED-EVENT-REPORT/config object 2"
  std::string what;        ///< e.g. "needs 2 bytes for attribute-id, 1 left"

  /// "byte 34 in <context>: <what>", as InvalidArgument (or ResourceExhausted for a limit).
  Status ToStatus() const;
};

/// A bounded big-endian reader over part of an APDU. Cheap to copy; child readers share the
/// parent's DecodeError.
class ApduReader {
 public:
  /// `base_offset` is the offset of bytes[0] in the stream; `error` must outlive the reader.
  ApduReader(std::span<const std::uint8_t> bytes, std::size_t base_offset, DecodeError* error,
             std::string context);

  std::uint8_t U8(std::string_view field);
  std::uint16_t U16(std::string_view field);
  std::uint32_t U32(std::string_view field);
  /// The next `n` bytes (empty span after a failure).
  std::span<const std::uint8_t> Bytes(std::size_t n, std::string_view field);
  /// A reader over the next `n` bytes, with `context` appended to this reader's path.
  ApduReader Sub(std::size_t n, std::string_view context);
  /// Reads a u16 length and returns a reader over that many bytes (an MDER octet string or the
  /// body of a counted list).
  ApduReader LengthPrefixed(std::string_view context);

  /// Records a failure at the current position (the first failure wins).
  void Fail(std::string_view what);
  /// Records a failure at an absolute offset.
  void FailAt(std::size_t offset, std::string_view what);
  /// Records that `what` exceeds the limit `limit` (ResourceExhausted).
  void FailLimit(std::string_view what, std::size_t value, std::size_t limit);
  /// Fails when bytes are left over ("the length says N, the content uses M").
  void ExpectEnd(std::string_view what);

  bool ok() const { return !error_->set; }
  std::size_t remaining() const { return bytes_.size() - pos_; }
  /// Absolute offset of the next byte.
  std::size_t offset() const { return base_ + pos_; }
  const std::string& context() const { return context_; }
  DecodeError* error() const { return error_; }

 private:
  bool Need(std::size_t n, std::string_view field);

  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::size_t base_ = 0;
  DecodeError* error_;
  std::string context_;
};

/// Reads an MDER counted list (count u16, length u16, entries) with limits: `count` above `max`
/// is a limit error; `count * min_entry_bytes` above the length is an error before any entry is
/// read; entries must use exactly the declared length. `each(reader, index)` reads one entry.
template <typename EachEntry>
void ReadCountedList(ApduReader& r, std::string_view name, std::size_t max,
                     std::size_t min_entry_bytes, EachEntry&& each) {
  const std::uint16_t count = r.U16(std::string(name) + " count");
  const std::uint16_t length = r.U16(std::string(name) + " length");
  if (!r.ok()) return;
  if (count > max) return r.FailLimit(std::string(name) + " count", count, max);
  if (static_cast<std::size_t>(count) * min_entry_bytes > length) {
    return r.Fail(std::string(name) + " count " + std::to_string(count) +
                  " does not fit its length " + std::to_string(length));
  }
  ApduReader body = r.Sub(length, name);
  for (std::size_t i = 0; i < count && body.ok(); ++i) each(body, i);
  if (body.ok()) body.ExpectEnd(std::string(name) + " (count " + std::to_string(count) + ")");
}

/// An MDER FLOAT-Type or SFLOAT-Type value (20601 section F.6): mantissa * 10^exponent, or one
/// of the reserved values.
struct MderNumber {
  enum class Kind { kNumber, kNaN, kNRes, kPositiveInfinity, kNegativeInfinity, kReserved };
  Kind kind = Kind::kNumber;
  std::int32_t mantissa = 0;
  std::int8_t exponent = 0;

  bool is_number() const { return kind == Kind::kNumber; }
  /// The exact decimal text, keeping the device's precision: mantissa 980 with exponent -1 is
  /// "98.0", 1518 with exponent 3 is "1518000". Empty for a reserved value.
  std::string ToDecimal() const;
};

/// FLOAT-Type: 8-bit signed exponent, 24-bit signed mantissa. Reserved mantissas (exponent 0):
/// 0x7FFFFF NaN, 0x800000 NRes, 0x7FFFFE +INF, 0x800002 -INF, 0x800001 reserved.
MderNumber DecodeFloat(std::uint32_t raw);
/// SFLOAT-Type: 4-bit signed exponent, 12-bit signed mantissa. Reserved: 0x07FF NaN, 0x0800
/// NRes, 0x07FE +INF, 0x0802 -INF, 0x0801 reserved.
MderNumber DecodeSFloat(std::uint16_t raw);
/// "NaN", "NRes", "+INF", "-INF", "reserved" or "number".
std::string_view KindName(MderNumber::Kind kind);

/// Absolute-Time-Stamp (20601 section 6.3.2.6): 8 BCD bytes century, year, month, day, hour,
/// minute, second, sec-fractions (1/100 s). No time zone: local time of the agent.
struct AbsoluteTime {
  std::array<std::uint8_t, 8> bcd{};

  /// True when every nibble is a decimal digit and the date and time exist.
  bool valid() const;
  /// Why valid() is false ("month 13 out of range"), or empty.
  std::string Problem() const;
  int year() const;
  int month() const;
  int day() const;
  int hour() const;
  int minute() const;
  int second() const;
  int hundredths() const;
};

/// Reads 8 bytes as an AbsoluteTime (no validation: see AbsoluteTime::valid()).
AbsoluteTime ReadAbsoluteTime(ApduReader& r, std::string_view field);

/// Appends big-endian values to a byte string (the manager's replies).
class ApduWriter {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(std::uint16_t v);
  void U32(std::uint32_t v);
  void Bytes(std::span<const std::uint8_t> b);
  /// Reserves a u16 length to be filled in by EndLength(): returns its position.
  std::size_t BeginLength();
  /// Writes the number of bytes since BeginLength()'s slot into it.
  void EndLength(std::size_t slot);
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

/// A byte span over a std::string's bytes.
inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// Lower-case hex ("0x0a4c" style without the prefix) of a 16-bit id, for messages.
std::string Hex16(std::uint16_t v);

}  // namespace fhirbridge::phd
