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

void WriteDemographics(Context& ctx, JsonWriter& w, const hl7v2::Segment& pid) {
  const hl7v2::Element xpn = pid.field(5).repetition(1);
  const std::string family = ctx.Text(xpn.component(1).subcomponent(1));
  const std::string given = ctx.Text(xpn.component(2));
  const std::string middle = ctx.Text(xpn.component(3));
  if (!family.empty() || !given.empty()) {
    w.Key("name");
    w.BeginArray();
    w.BeginObject();
    if (xpn.component(7).raw() == "L") w.KeyString("use", "official");
    if (!family.empty()) w.KeyString("family", family);
    if (!given.empty() || !middle.empty()) {
      w.Key("given");
      w.BeginArray();
      if (!given.empty()) w.String(given);
      if (!middle.empty()) w.String(middle);
      w.EndArray();
    }
    w.EndObject();
    w.EndArray();
  }
  const std::string_view sex = pid.field(8).raw();
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
  const hl7v2::Element dob = pid.field(7);
  if (dob.has_value()) {
    Result<Hl7Time> t = ParseHl7Time(dob.component(1).raw());
    if (!t.ok() || t->precision < Hl7Time::Precision::kDay) {
      ctx.Warning("value", dob.location(), "birth date is not a valid date; left out");
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
