#pragma once

// Small JSON objects for the `detail` of audit entries (docs/audit.md, What is audited).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/json_writer.h"

namespace fhirbridge::store {

/// The wall clock in microseconds since the Unix epoch: the time the store gives audit entries
/// and signed heads that come without one.
std::int64_t NowUs();

/// Builds one flat JSON object: Detail().Str("ack", "AA").Int("resources", 3).Done().
class Detail {
 public:
  Detail() : w_(out_) { w_.BeginObject(); }
  Detail& Str(std::string_view key, std::string_view value) {
    w_.KeyString(key, value);
    return *this;
  }
  Detail& Int(std::string_view key, std::int64_t value) {
    w_.Key(key);
    w_.Int(value);
    return *this;
  }
  Detail& List(std::string_view key, const std::vector<std::string>& values) {
    w_.Key(key);
    w_.BeginArray();
    for (const std::string& v : values) w_.String(v);
    w_.EndArray();
    return *this;
  }
  std::string Done() {
    w_.EndObject();
    return std::move(out_);
  }

 private:
  std::string out_;
  JsonWriter w_;
};

}  // namespace fhirbridge::store
