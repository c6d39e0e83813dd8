#include "fhir-profiles/validator/primitives.h"

#include <cstdint>

namespace fhirbridge::validator {

namespace {

constexpr std::size_t kMaxStringBytes = 1024 * 1024;  // FHIR R4 §2.24.0.1: string ≤ 1 MB

bool Digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int Num(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

int DaysIn(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// YYYY[-MM[-DD]]; returns the length consumed or 0. `full` requires all three parts.
std::size_t ScanDate(std::string_view s, bool full) {
  if (!Digits(s, 0, 4) || Num(s, 0, 4) == 0) return 0;
  if (s.size() == 4 || s[4] != '-') return full ? 0 : 4;
  if (!Digits(s, 5, 2)) return 0;
  int month = Num(s, 5, 2);
  if (month < 1 || month > 12) return 0;
  if (s.size() == 7 || s[7] != '-') return full ? 0 : 7;
  if (!Digits(s, 8, 2)) return 0;
  int day = Num(s, 8, 2);
  if (day < 1 || day > DaysIn(Num(s, 0, 4), month)) return 0;
  return 10;
}

// hh:mm:ss[.fff]; returns the length consumed or 0.
std::size_t ScanTime(std::string_view s, std::size_t pos) {
  if (!Digits(s, pos, 2) || s.size() < pos + 8 || s[pos + 2] != ':' || !Digits(s, pos + 3, 2) ||
      s[pos + 5] != ':' || !Digits(s, pos + 6, 2))
    return 0;
  if (Num(s, pos, 2) > 23 || Num(s, pos + 3, 2) > 59 || Num(s, pos + 6, 2) > 60) return 0;
  std::size_t end = pos + 8;
  if (end < s.size() && s[end] == '.') {
    std::size_t d = end + 1;
    while (d < s.size() && s[d] >= '0' && s[d] <= '9') ++d;
    if (d == end + 1) return 0;
    end = d;
  }
  return end - pos;
}

// Z | (+|-)hh:mm with hh:mm ≤ 14:00.
bool IsZone(std::string_view z) {
  if (z == "Z") return true;
  if (z.size() != 6 || (z[0] != '+' && z[0] != '-') || !Digits(z, 1, 2) || z[3] != ':' ||
      !Digits(z, 4, 2))
    return false;
  int h = Num(z, 1, 2), m = Num(z, 4, 2);
  return m <= 59 && (h < 14 || (h == 14 && m == 0));
}

bool IsCode(std::string_view s) {
  // [^\s]+(\s[^\s]+)*: no leading/trailing whitespace, no double whitespace.
  if (s.empty()) return false;
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  if (ws(s.front()) || ws(s.back())) return false;
  for (std::size_t i = 1; i < s.size(); ++i)
    if (ws(s[i]) && ws(s[i - 1])) return false;
  return true;
}

bool IsBase64(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return false;
    ++n;
  }
  return n % 4 == 0;
}

bool IsOid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() < 3 || s[0] < '0' || s[0] > '2' || s[1] != '.') return false;
  std::size_t i = 2;
  while (i < s.size()) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (s[i] == '0' && i + 1 < s.size() && s[i + 1] != '.') return false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i < s.size()) {
      if (s[i] != '.' || i + 1 == s.size()) return false;
      ++i;
    }
  }
  return true;
}

bool IsUuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.substr(0, kPrefix.size()) != kPrefix || s.size() != kPrefix.size() + 36) return false;
  s.remove_prefix(kPrefix.size());
  for (std::size_t i = 0; i < 36; ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool HasWhitespace(std::string_view s) {
  for (char c : s)
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return true;
  return false;
}

std::string Quote(std::string_view type, std::string_view s) {
  std::string out = "Not a valid ";
  out.append(type).append(" value: '");
  out.append(s.substr(0, 80)).append("'");
  return out;
}

std::string CheckString(std::string_view type, std::string_view s) {
  if (s.empty()) return "value cannot be empty";
  if (s.size() > kMaxStringBytes) return "value is longer than 1 MB";
  switch (type.size()) {
    case 2:
      if (type == "id" && !IsFhirId(s)) return Quote(type, s);
      break;
    case 3:
      if (type == "uri" && HasWhitespace(s)) return Quote(type, s);
      if (type == "url" && HasWhitespace(s)) return Quote(type, s);
      if (type == "oid" && !IsOid(s)) return Quote(type, s);
      break;
    case 4:
      if (type == "code" && !IsCode(s)) return Quote(type, s);
      if (type == "date" && !IsFhirDate(s))
        return "Not a valid date format: '" + std::string(s) + "'";
      if (type == "time" && !IsFhirTime(s)) return Quote(type, s);
      if (type == "uuid" && !IsUuid(s)) return Quote(type, s);
      break;
    case 7:
      if (type == "instant" && !IsFhirInstant(s)) return Quote(type, s);
      break;
    case 8:
      if (type == "dateTime" && !IsFhirDateTime(s))
        return "Not a valid date/time format: '" + std::string(s) + "'";
      break;
    case 9:
      if (type == "canonical" && HasWhitespace(s)) return Quote(type, s);
      break;
    case 12:
      if (type == "base64Binary" && !IsBase64(s)) return Quote(type, s);
      break;
    default:
      break;
  }
  return {};
}

}  // namespace

bool IsFhirDate(std::string_view s) {
  std::size_t n = ScanDate(s, false);
  return n != 0 && n == s.size();
}

bool IsFhirDateTime(std::string_view s) {
  std::size_t n = ScanDate(s, false);
  if (n == 0) return false;
  if (n == s.size()) return true;
  // A time needs a full date and a zone (FHIR R4 dateTime regex).
  if (n != 10 || s[10] != 'T') return false;
  std::size_t t = ScanTime(s, 11);
  return t != 0 && IsZone(s.substr(11 + t));
}

bool IsFhirInstant(std::string_view s) {
  if (ScanDate(s, true) != 10 || s.size() < 11 || s[10] != 'T') return false;
  std::size_t t = ScanTime(s, 11);
  return t != 0 && IsZone(s.substr(11 + t));
}

bool IsFhirTime(std::string_view s) { return !s.empty() && ScanTime(s, 0) == s.size(); }

bool IsFhirId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.'))
      return false;
  return true;
}

bool IsAbsoluteUri(std::string_view s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') return i + 1 < s.size();
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '.' || c == '-'))
      return false;
  }
  return false;
}

std::string CheckPrimitive(std::string_view type, const rapidjson::Value& v) {
  if (type == "boolean")
    return v.IsBool() ? std::string() : "Error parsing JSON: the primitive value must be a boolean";
  if (type == "integer" || type == "positiveInt" || type == "unsignedInt") {
    if (!v.IsNumber()) return "Error parsing JSON: the primitive value must be a number";
    if (!v.IsInt()) return "Not a valid integer: the value must be a whole number in 32 bits";
    int i = v.GetInt();
    if (type == "positiveInt" && i < 1) return "value must be 1 or more (positiveInt)";
    if (type == "unsignedInt" && i < 0) return "value must be 0 or more (unsignedInt)";
    return {};
  }
  if (type == "decimal")
    return v.IsNumber() ? std::string()
                        : "Error parsing JSON: the primitive value must be a number";
  if (!v.IsString()) {
    if (v.IsObject() || v.IsArray())
      return "Error parsing JSON: the primitive value must be a string";
    return "Error parsing JSON: the primitive value must be a string";
  }
  return CheckString(type, {v.GetString(), v.GetStringLength()});
}

}  // namespace fhirbridge::validator
