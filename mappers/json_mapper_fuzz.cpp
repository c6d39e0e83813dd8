// libFuzzer target: the vendor JSON mapper on arbitrary bytes, with the shipped CGM and wearable
// mappings (the first byte picks one). Any input must give either a Bundle that is valid JSON or
// issues with at least one error — never a crash, a hang, or an empty answer.
// Seeds: mappers/testdata/json/*.json, each with a leading byte (see docs/development.md).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "mappers/json_mapper.h"

namespace {

using fhirbridge::mappers::Terminology;
using fhirbridge::mappers::json::JsonMapper;

JsonMapper Load(const Terminology& terms, const char* name) {
  const std::string path =
      std::string(FHIRBRIDGE_SOURCE_DIR) + "/mappers/testdata/json/" + name + ".mapping.json";
  auto mapping = fhirbridge::mappers::json::LoadMappingFile(path, terms);
  if (!mapping.ok()) std::abort();  // run from a checkout
  fhirbridge::mappers::json::JsonOptions options;
  options.source_name = "fuzz";
  options.assume_timezone = fhirbridge::TimeZone::FixedOffset("+02:00", 7200);
  return JsonMapper(terms, std::move(mapping).value(), options);
}

const JsonMapper& Mapper(bool wearable) {
  static const Terminology terms = std::move(Terminology::LoadBuiltin()).value();
  static const JsonMapper cgm = Load(terms, "cgm");
  static const JsonMapper vitals = Load(terms, "wearable");
  return wearable ? vitals : cgm;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const fhirbridge::MapOutput out = Mapper((data[0] & 1) != 0).Map(input);
  if (out.result == fhirbridge::MapOutput::Result::kMapped) {
    rapidjson::Document doc;
    doc.Parse(out.bundle.data(), out.bundle.size());
    if (doc.HasParseError()) std::abort();  // the mapper wrote invalid JSON
  } else if (out.issues.empty()) {
    std::abort();  // a failure must say why
  }
  return 0;
}
