#include "connectors/ieee11073/phd/mder.h"

#include <cstdio>

#include "fhirbridge/timezone.h"

namespace fhirbridge::phd {

Status DecodeError::ToStatus() const {
  std::string msg = "byte " + std::to_string(offset);
  if (!context.empty()) msg += " in " + context;
  msg += ": " + what;
  return limit ? Status::ResourceExhausted(std::move(msg))
               : Status::InvalidArgument(std::move(msg));
}

ApduReader::ApduReader(std::span<const std::uint8_t> bytes, std::size_t base_offset,
                       DecodeError* error, std::string context)
    : bytes_(bytes), base_(base_offset), error_(error), context_(std::move(context)) {}

bool ApduReader::Need(std::size_t n, std::string_view field) {
  if (error_->set) return false;
  if (remaining() >= n) return true;
  Fail("needs " + std::to_string(n) + " byte" + (n == 1 ? "" : "s") + " for " + std::string(field) +
       ", " + std::to_string(remaining()) + " left");
  return false;
}

std::uint8_t ApduReader::U8(std::string_view field) {
  if (!Need(1, field)) return 0;
  return bytes_[pos_++];
}

std::uint16_t ApduReader::U16(std::string_view field) {
  if (!Need(2, field)) return 0;
  const std::uint16_t v = static_cast<std::uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
  pos_ += 2;
  return v;
}

std::uint32_t ApduReader::U32(std::string_view field) {
  if (!Need(4, field)) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | bytes_[pos_ + i];
  pos_ += 4;
  return v;
}

std::span<const std::uint8_t> ApduReader::Bytes(std::size_t n, std::string_view field) {
  if (!Need(n, field)) return {};
  std::span<const std::uint8_t> out = bytes_.subspan(pos_, n);
  pos_ += n;
  return out;
}

ApduReader ApduReader::Sub(std::size_t n, std::string_view context) {
  std::string path = context_;
  if (!context.empty()) {
    if (!path.empty()) path += '/';
    path += context;
  }
  const std::size_t start = offset();
  if (!Need(n, std::string(context) + " (declared length " + std::to_string(n) + ")")) {
    return ApduReader({}, start, error_, std::move(path));
  }
  ApduReader child(bytes_.subspan(pos_, n), start, error_, std::move(path));
  pos_ += n;
  return child;
}

ApduReader ApduReader::LengthPrefixed(std::string_view context) {
  const std::uint16_t n = U16(std::string(context) + " length");
  return Sub(n, context);
}

void ApduReader::Fail(std::string_view what) { FailAt(offset(), what); }

void ApduReader::FailAt(std::size_t offset, std::string_view what) {
  if (error_->set) return;
  error_->set = true;
  error_->offset = offset;
  error_->context = context_;
  error_->what = std::string(what);
}

void ApduReader::FailLimit(std::string_view what, std::size_t value, std::size_t limit) {
  if (error_->set) return;
  Fail(std::string(what) + " " + std::to_string(value) + " exceeds the limit of " +
       std::to_string(limit));
  error_->limit = true;
}

void ApduReader::ExpectEnd(std::string_view what) {
  if (error_->set || remaining() == 0) return;
  Fail(std::to_string(remaining()) + " byte" + (remaining() == 1 ? "" : "s") + " left over after " +
       std::string(what) + ": a length does not match its content");
}

// ---- numbers ------------------------------------------------------------------------------------

std::string MderNumber::ToDecimal() const {
  if (kind != Kind::kNumber) return {};
  const bool negative = mantissa < 0;
  std::string digits = std::to_string(negative ? -static_cast<std::int64_t>(mantissa)
                                               : static_cast<std::int64_t>(mantissa));
  std::string out = negative ? "-" : "";
  if (exponent >= 0) {
    out += digits;
    if (mantissa != 0) out.append(static_cast<std::size_t>(exponent), '0');
    return out;
  }
  const std::size_t frac = static_cast<std::size_t>(-exponent);
  if (digits.size() <= frac) digits.insert(0, frac - digits.size() + 1, '0');
  out += digits.substr(0, digits.size() - frac);
  out += '.';
  out += digits.substr(digits.size() - frac);
  return out;
}

MderNumber DecodeFloat(std::uint32_t raw) {
  MderNumber n;
  const std::uint32_t m = raw & 0xFFFFFFu;
  n.exponent = static_cast<std::int8_t>(raw >> 24);
  // 20601 F.6: the reserved values are defined with exponent 0.
  if (n.exponent == 0 && m >= 0x7FFFFEu && m <= 0x800002u) {
    n.kind = m == 0x7FFFFFu   ? MderNumber::Kind::kNaN
             : m == 0x800000u ? MderNumber::Kind::kNRes
             : m == 0x7FFFFEu ? MderNumber::Kind::kPositiveInfinity
             : m == 0x800002u ? MderNumber::Kind::kNegativeInfinity
                              : MderNumber::Kind::kReserved;
    n.exponent = 0;
    return n;
  }
  n.mantissa =
      (m & 0x800000u) ? static_cast<std::int32_t>(m) - 0x1000000 : static_cast<std::int32_t>(m);
  return n;
}

MderNumber DecodeSFloat(std::uint16_t raw) {
  MderNumber n;
  const std::uint16_t m = raw & 0x0FFFu;
  const int e = raw >> 12;
  n.exponent = static_cast<std::int8_t>(e >= 8 ? e - 16 : e);
  if (n.exponent == 0 && m >= 0x07FEu && m <= 0x0802u) {
    n.kind = m == 0x07FFu   ? MderNumber::Kind::kNaN
             : m == 0x0800u ? MderNumber::Kind::kNRes
             : m == 0x07FEu ? MderNumber::Kind::kPositiveInfinity
             : m == 0x0802u ? MderNumber::Kind::kNegativeInfinity
                            : MderNumber::Kind::kReserved;
    n.exponent = 0;
    return n;
  }
  n.mantissa = (m & 0x0800u) ? static_cast<std::int32_t>(m) - 0x1000 : static_cast<std::int32_t>(m);
  return n;
}

std::string_view KindName(MderNumber::Kind kind) {
  switch (kind) {
    case MderNumber::Kind::kNumber:
      return "number";
    case MderNumber::Kind::kNaN:
      return "NaN";
    case MderNumber::Kind::kNRes:
      return "NRes";
    case MderNumber::Kind::kPositiveInfinity:
      return "+INF";
    case MderNumber::Kind::kNegativeInfinity:
      return "-INF";
    case MderNumber::Kind::kReserved:
      return "reserved";
  }
  return "reserved";
}

// ---- Absolute-Time-Stamp ------------------------------------------------------------------------

namespace {

int Bcd(std::uint8_t b) { return (b >> 4) * 10 + (b & 0x0F); }
bool IsBcd(std::uint8_t b) { return (b >> 4) <= 9 && (b & 0x0F) <= 9; }

}  // namespace

int AbsoluteTime::year() const { return Bcd(bcd[0]) * 100 + Bcd(bcd[1]); }
int AbsoluteTime::month() const { return Bcd(bcd[2]); }
int AbsoluteTime::day() const { return Bcd(bcd[3]); }
int AbsoluteTime::hour() const { return Bcd(bcd[4]); }
int AbsoluteTime::minute() const { return Bcd(bcd[5]); }
int AbsoluteTime::second() const { return Bcd(bcd[6]); }
int AbsoluteTime::hundredths() const { return Bcd(bcd[7]); }

std::string AbsoluteTime::Problem() const {
  static constexpr const char* kNames[] = {"century", "year",   "month",  "day",
                                           "hour",    "minute", "second", "sec-fractions"};
  for (std::size_t i = 0; i < bcd.size(); ++i)
    if (!IsBcd(bcd[i])) return std::string(kNames[i]) + " byte is not BCD";
  if (month() < 1 || month() > 12) return "month " + std::to_string(month()) + " out of range";
  const unsigned days = DaysInMonth(year(), static_cast<unsigned>(month()));
  if (day() < 1 || static_cast<unsigned>(day()) > days)
    return "day " + std::to_string(day()) + " does not exist in that month";
  if (hour() > 23) return "hour " + std::to_string(hour()) + " out of range";
  if (minute() > 59) return "minute " + std::to_string(minute()) + " out of range";
  if (second() > 59) return "second " + std::to_string(second()) + " out of range";
  return {};
}

bool AbsoluteTime::valid() const { return Problem().empty(); }

AbsoluteTime ReadAbsoluteTime(ApduReader& r, std::string_view field) {
  AbsoluteTime t;
  std::span<const std::uint8_t> b = r.Bytes(8, field);
  for (std::size_t i = 0; i < b.size(); ++i) t.bcd[i] = b[i];
  return t;
}

// ---- writer -------------------------------------------------------------------------------------

void ApduWriter::U16(std::uint16_t v) {
  U8(static_cast<std::uint8_t>(v >> 8));
  U8(static_cast<std::uint8_t>(v));
}

void ApduWriter::U32(std::uint32_t v) {
  U16(static_cast<std::uint16_t>(v >> 16));
  U16(static_cast<std::uint16_t>(v));
}

void ApduWriter::Bytes(std::span<const std::uint8_t> b) {
  out_.append(reinterpret_cast<const char*>(b.data()), b.size());
}

std::size_t ApduWriter::BeginLength() {
  const std::size_t slot = out_.size();
  U16(0);
  return slot;
}

void ApduWriter::EndLength(std::size_t slot) {
  const std::size_t n = out_.size() - slot - 2;
  out_[slot] = static_cast<char>((n >> 8) & 0xFF);
  out_[slot + 1] = static_cast<char>(n & 0xFF);
}

std::string Hex16(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04X", v);
  return buf;
}

}  // namespace fhirbridge::phd
