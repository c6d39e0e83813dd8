// libFuzzer target: the PCD-01 mapper on arbitrary bytes. Any input must give either a Bundle
// that is valid JSON or a list of issues with at least one error — never a crash, a hang, or an
// empty answer.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <rapidjson/document.h>

#include "mappers/pcd01_mapper.h"
#include "mappers/terminology.h"

namespace {

const fhirbridge::mappers::Pcd01Mapper& Mapper() {
  static const fhirbridge::mappers::Terminology terms =
      std::move(fhirbridge::mappers::Terminology::LoadBuiltin()).value();
  static const fhirbridge::mappers::Pcd01Mapper mapper = [] {
    fhirbridge::mappers::Pcd01Options options;
    options.source_name = "fuzz";
    options.assume_timezone = fhirbridge::TimeZone::FixedOffset("+02:00", 7200);
    return fhirbridge::mappers::Pcd01Mapper(terms, options);
  }();
  return mapper;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const fhirbridge::mappers::Mapped mapped = Mapper().Map(input);
  if (mapped.ok()) {
    rapidjson::Document doc;
    doc.Parse(mapped.bundle.data(), mapped.bundle.size());
    if (doc.HasParseError()) std::abort();  // the mapper wrote invalid JSON
  } else if (mapped.issues.empty()) {
    std::abort();  // a failure must say why
  }
  return 0;
}
