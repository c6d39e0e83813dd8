// libFuzzer target for the ER7 parser and message framing. Built only with
// -DFHIRBRIDGE_FUZZ=ON (clang); the seed corpus is ../shared/data/hl7v2. See
// connectors/CMakeLists.txt for how to run it.
//
// Parses the input as one message and walks every field, repetition, component and
// subcomponent, decoding each; then splits the input as a file and parses every piece. Small
// limits make the limit paths reachable with small inputs.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "connectors/hl7v2/er7.h"
#include "connectors/hl7v2/framing.h"

namespace {

using fhirbridge::hl7v2::Element;
using fhirbridge::hl7v2::ParsedMessage;
using fhirbridge::hl7v2::ParseLimits;

/// Every check here is something the parser promises; abort() makes libFuzzer report it.
void Require(bool condition) {
  if (!condition) std::abort();
}

void Touch(const Element& e) {
  auto text = e.Text();
  if (text.ok()) {
    Require(!e.is_null() || text->empty());
  } else {
    Require(!text.status().message().empty());
  }
  (void)e.location().ToString();
  Require(e.raw().empty() == e.empty());
}

void Walk(const ParsedMessage& msg, std::string_view input) {
  (void)msg.message_type();
  (void)msg.trigger_event();
  (void)msg.control_id();
  (void)msg.version();
  (void)msg.Find("OBX");
  for (std::size_t s = 0; s < msg.segment_count(); ++s) {
    const auto seg = msg.segment(s);
    Require(seg.id().size() == 3);
    Require(seg.raw().data() >= input.data() &&
            seg.raw().data() + seg.raw().size() <= input.data() + input.size());
    // RawFields of a segment not indexed yet (views read from the bytes) gives what the index
    // gives afterwards (field_raw), empty past the last field.
    std::string_view fields[12];
    Require(seg.RawFields(fields, 12) == seg.field_count());
    for (std::size_t f = 0; f < 12; ++f) {
      const std::string_view indexed = seg.field_raw(f);
      Require(fields[f] == indexed && (indexed.empty() || fields[f].data() == indexed.data()));
    }
    // The lazy field index agrees with the bytes: the id, then each field after a separator
    // (for MSH, MSH-1 is that separator).
    std::string joined(seg.id());
    for (std::size_t f = s == 0 ? 2 : 1; f <= seg.field_count(); ++f) {
      joined += msg.delimiters().field;
      joined += seg.field_raw(f);
    }
    Require(joined == seg.raw());
    for (std::size_t f = 0; f <= seg.field_count() + 1; ++f) {
      const Element field = seg.field(f);
      Touch(field);
      for (std::size_t r = 1; r <= field.repetition_count() + 1; ++r) {
        const Element rep = field.repetition(r);
        Touch(rep);
        for (std::size_t c = 1; c <= rep.component_count() + 1; ++c) {
          const Element comp = rep.component(c);
          Touch(comp);
          for (std::size_t sc = 1; sc <= comp.subcomponent_count() + 1; ++sc) {
            Touch(comp.subcomponent(sc));
          }
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ParseLimits limits;
  limits.max_segments = 200;
  limits.max_fields_per_segment = 100;
  limits.max_repetitions = 50;

  auto parsed = fhirbridge::hl7v2::Parse(input, limits);
  if (parsed.ok()) {
    Walk(*parsed, input);
  } else {
    Require(!parsed.status().message().empty());
  }

  const auto split = fhirbridge::hl7v2::SplitMessagesReporting(input);
  for (std::string_view message : split.messages) {
    Require(message.data() >= input.data() &&
            message.data() + message.size() <= input.data() + input.size());
    auto one = fhirbridge::hl7v2::Parse(message, limits);
    if (one.ok()) Walk(*one, message);
  }
  for (const auto& problem : split.problems) {
    Require(problem.offset + problem.length <= size);
  }
  return 0;
}
