#include "fhir-profiles/fhirpath/output.h"

#include "fhirbridge/json_writer.h"

namespace fhirbridge::fhirpath {

std::string CollectionToJson(const Collection& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    if (i > 0) out += ',';
    out += "{\"type\":";
    AppendJsonString(out, TypeName(item));
    out += ",\"value\":";
    if (item.IsNode() && !IsPrimitive(item)) {
      out += OutputForm(item);  // the element's JSON text
    } else {
      AppendJsonString(out, OutputForm(item));
    }
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace fhirbridge::fhirpath
