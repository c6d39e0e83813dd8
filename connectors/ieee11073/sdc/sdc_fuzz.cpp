// libFuzzer target for the SDC XML reader. Built only with -DFHIRBRIDGE_FUZZ=ON (clang); see
// connectors/CMakeLists.txt for how to run it. Any input must give a document or an error, never
// a crash; small limits make the limit paths reachable with small inputs. The input is also read
// as a report against the document it gave when that was an MDIB.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "connectors/ieee11073/sdc/sdc_document.h"

namespace {

using namespace fhirbridge::sdc;

void Require(bool condition) {
  if (!condition) std::abort();
}

void Check(const fhirbridge::Result<SdcDocument>& doc) {
  if (!doc.ok()) {
    Require(!doc.status().message().empty());
    return;
  }
  for (const SdcMetricState& s : doc->states) Require(!s.descriptor_handle.empty());
  for (const SdcComponent& c : doc->components) Require(!c.handle.empty());
  for (const auto& issue : doc->issues) Require(!issue.location.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  SdcReaderLimits small;
  small.max_bytes = 1 << 20;
  small.max_depth = 16;
  small.max_elements = 2000;
  small.max_value_bytes = 256;
  const fhirbridge::Result<SdcDocument> doc = ReadSdcDocument(xml, small);
  Check(doc);
  if (doc.ok() && doc->kind == SdcDocument::Kind::kMdib) Check(ReadSdcDocument(xml, small, &*doc));
  Check(ReadSdcDocument(xml));
  return 0;
}
