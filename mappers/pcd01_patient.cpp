// PID → Patient elements: identifier type (CX-5) and demographics (PID-5/7/8).

#include "mappers/pcd01_values.h"

#include <algorithm>
#include <array>

#include "mappers/hl7_time.h"

namespace fhirbridge::mappers::pcd01 {

void WriteIdentifierType(JsonWriter& w, std::string_view cx5) {
  // HL7 table 0203 codes that devices' PID-3 carries in practice.
  static constexpr std::array<std::string_view, 10> kTypes = {"MR", "PI",  "PT", "AN", "SS",
                                                              "DL", "PPN", "NH", "NI", "PN"};
  if (std::find(kTypes.begin(), kTypes.end(), cx5) == kTypes.end()) return;
  w.Key("type");
  w.BeginObject();
  w.Key("coding");
  w.BeginArray();
  w.BeginObject();
  w.KeyString("system", "http://terminology.hl7.org/CodeSystem/v2-0203");
  w.KeyString("code", cx5);
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

namespace {

// The first name of PID-5 (XPN): family (XPN-1.1), given (XPN-2), middle (XPN-3) as text, and
// the name type code (XPN-7) as sent.
struct Name {
  std::string_view family, given, middle, type;
  std::string scratch[3];  // decoded texts, when the field has escapes or is Latin-1
};

// The HL7 null "" holds no value (hl7v2::Element::has_value).
std::string_view Value(std::string_view raw) { return raw == "\"\"" ? std::string_view() : raw; }

// Reads the name from the raw field when the text is its bytes (no escape, not Latin-1: the
// parser validated them), else decodes each part.
void ReadName(Context& ctx, const hl7v2::Segment& pid, std::string_view field, Name& name) {
  const hl7v2::Delimiters& d = ctx.msg.delimiters();
  if (ctx.IsPlainText(field)) {
    const Parts xpn(field, d);
    const std::string_view family = xpn[1].substr(0, xpn[1].find(d.subcomponent));
    name.family = Value(family);
    name.given = Value(xpn[2]);
    name.middle = Value(xpn[3]);
    name.type = xpn[7];
    return;
  }
  const hl7v2::Element xpn = pid.field(5).repetition(1);
  name.family = name.scratch[0] = ctx.Text(xpn.component(1).subcomponent(1));
  name.given = name.scratch[1] = ctx.Text(xpn.component(2));
  name.middle = name.scratch[2] = ctx.Text(xpn.component(3));
  name.type = xpn.component(7).raw();
}

}  // namespace

void WriteDemographics(Context& ctx, JsonWriter& w, const hl7v2::Segment& pid) {
  std::string_view fields[9];  // PID-0 .. PID-8, raw
  pid.RawFields(fields, 9);
  Name name;
  ReadName(ctx, pid, fields[5], name);
  if (!name.family.empty() || !name.given.empty()) {
    w.Key("name");
    w.BeginArray();
    w.BeginObject();
    if (name.type == "L") w.KeyString("use", "official");
    if (!name.family.empty()) w.KeyString("family", name.family);
    if (!name.given.empty() || !name.middle.empty()) {
      w.Key("given");
      w.BeginArray();
      if (!name.given.empty()) w.String(name.given);
      if (!name.middle.empty()) w.String(name.middle);
      w.EndArray();
    }
    w.EndObject();
    w.EndArray();
  }
  const std::string_view sex = fields[8];
  std::string_view gender;
  if (sex == "M") gender = "male";
  if (sex == "F") gender = "female";
  if (sex == "O" || sex == "A") gender = "other";
  if (sex == "U" || sex == "N") gender = "unknown";
  if (!gender.empty()) {
    w.KeyString("gender", gender);
  } else if (!sex.empty()) {
    ctx.Warning("code-unknown", pid.field(8).location(),
                "administrative sex not in HL7 table 0001");
  }
  if (!Value(fields[7]).empty()) {
    const Parts dob(fields[7], ctx.msg.delimiters());
    Result<Hl7Time> t = ParseHl7Time(dob[1]);
    if (!t.ok() || t->precision < Hl7Time::Precision::kDay) {
      ctx.Warning("value", pid.field(7).location(), "birth date is not a valid date; left out");
    } else {
      // YYYY-MM-DD: ParseHl7Time gives a four-digit year and a valid month and day.
      char date[10];
      const auto digit = [](int v) { return static_cast<char>('0' + v % 10); };
      date[0] = digit(t->year / 1000);
      date[1] = digit(t->year / 100);
      date[2] = digit(t->year / 10);
      date[3] = digit(t->year);
      date[4] = '-';
      date[5] = digit(t->month / 10);
      date[6] = digit(t->month);
      date[7] = '-';
      date[8] = digit(t->day / 10);
      date[9] = digit(t->day);
      w.KeyString("birthDate", std::string_view(date, sizeof date));
    }
  }
}

}  // namespace fhirbridge::mappers::pcd01
