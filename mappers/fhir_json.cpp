#include "mappers/fhir_json.h"

#include "mappers/v2_datatypes.h"

namespace fhirbridge::mappers {

void WriteConditionalCreate(JsonWriter& w, std::string_view type, std::string_view system,
                            std::string_view value) {
  w.Key("request");
  w.BeginObject();
  w.KeyString("method", "POST");
  w.KeyString("url", type);
  w.KeyString("ifNoneExist", pcd01::IdentifierQuery(system, value));
  w.EndObject();
}

void WriteIdentifier(JsonWriter& w, std::string_view system, std::string_view value) {
  w.Key("identifier");
  w.BeginArray();
  w.BeginObject();
  w.KeyString("system", system);
  w.KeyString("value", value);
  w.EndObject();
  w.EndArray();
}

void WriteDataAbsent(JsonWriter& w, std::string_view reason) {
  w.Key("dataAbsentReason");
  w.BeginObject();
  w.Key("coding");
  w.BeginArray();
  w.BeginObject();
  w.KeyString("system", "http://terminology.hl7.org/CodeSystem/data-absent-reason");
  w.KeyString("code", reason);
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

void WriteObservationMeta(JsonWriter& w, std::string_view profile_url, bool unreliable,
                          bool test_data) {
  if (profile_url.empty() && !unreliable && !test_data) return;
  w.Key("meta");
  w.BeginObject();
  if (!profile_url.empty()) {
    w.Key("profile");
    w.BeginArray();
    w.String(profile_url);
    w.EndArray();
  }
  if (unreliable || test_data) {
    w.Key("security");
    w.BeginArray();
    if (unreliable) {
      w.RawValue(
          R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"UNRELIABLE","display":"unreliable"})");
    }
    if (test_data) {
      w.RawValue(
          R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HTEST","display":"test health data"})");
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace fhirbridge::mappers
