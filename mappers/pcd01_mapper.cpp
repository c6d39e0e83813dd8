#include "mappers/pcd01_mapper.h"

#include <algorithm>

#include "fhirbridge/json_writer.h"
#include "mappers/fhir_values.h"
#include "mappers/pcd01_model.h"
#include "mappers/pcd01_resources.h"

namespace fhirbridge::mappers {

namespace {

// The largest Bundle buffer a thread keeps between messages (a 30-OBX Bundle is 25 KB).
constexpr std::size_t kScratchKeptBytes = 1024 * 1024;

// IHE PCD TF-2: PCD-01 declares this profile OID in MSH-21 (EI-3).
constexpr std::string_view kPcd01ProfileOid = "1.3.6.1.4.1.19376.1.6.1.1.1";

// The sender's identity for Observation identifiers: MSH-3 namespace id, else its universal id.
std::string SenderKey(const hl7v2::ParsedMessage& msg) {
  const hl7v2::Element msh3 = msg.segment(0).field(3);
  std::string_view sender = msh3.component(1).raw();
  if (sender.empty()) sender = msh3.component(2).raw();
  std::string out;
  AppendIdentifierComponent(out, sender.empty() ? std::string_view("unknown-sender") : sender);
  return out;
}

// MAPPING.md: recognise PCD-01 by the MSH-21 profile OID; tolerate a missing or other OID when
// MSH-9 is ORU^R01.
void CheckProfile(pcd01::Context& ctx) {
  const hl7v2::Segment msh = ctx.msg.segment(0);
  const hl7v2::Element msh21 = msh.field(21);
  for (std::size_t r = 1; r <= msh21.repetition_count(); ++r) {
    if (msh21.repetition(r).component(3).raw().find(kPcd01ProfileOid) != std::string_view::npos)
      return;
  }
  ctx.Info(
      "informational", msh21.location(),
      "MSH-21 does not name the IHE PCD-01 profile; mapped as PCD-01 because MSH-9 is ORU^R01");
}

// The parser's errors start with where they are ("NTE[1]-3: byte 0xE9 ...", "MSH-18: ...");
// that prefix belongs in the issue's location.
DataIssue ParseIssue(const Status& s) {
  std::string text = s.message();
  std::string location = "message";
  const std::size_t colon = text.find(": ");
  const auto upper_or_digit = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (colon != std::string::npos && colon >= 3 && colon <= 24 && text[0] >= 'A' && text[0] <= 'Z' &&
      upper_or_digit(text[1]) && upper_or_digit(text[2]) &&
      (colon == 3 || text[3] == '-' || text[3] == '[') && text.find(' ') > colon) {
    location = text.substr(0, colon);
    text.erase(0, colon + 2);
  }
  return DataIssue::Error(s.IsResourceExhausted() ? "too-long" : "structure", std::move(location),
                          std::move(text));
}

}  // namespace

struct Pcd01Mapper::Impl {
  Impl(const Terminology& t, Pcd01Options o)
      : terms(t), options(std::move(o)), fragments(pcd01::FragmentCache::Build(t, options)) {}

  const Terminology& terms;
  Pcd01Options options;
  pcd01::FragmentCache fragments;
};

Pcd01Mapper::Pcd01Mapper(const Terminology& terminology, Pcd01Options options)
    : impl_(std::make_unique<Impl>(terminology, std::move(options))) {}
Pcd01Mapper::~Pcd01Mapper() = default;
Pcd01Mapper::Pcd01Mapper(Pcd01Mapper&&) noexcept = default;
Pcd01Mapper& Pcd01Mapper::operator=(Pcd01Mapper&&) noexcept = default;

const Pcd01Options& Pcd01Mapper::options() const { return impl_->options; }

Mapped Pcd01Mapper::Map(std::string_view raw) const {
  Result<hl7v2::ParsedMessage> parsed = hl7v2::Parse(raw, impl_->options.limits);
  if (!parsed.ok()) {
    Mapped failed;
    failed.issues.push_back(ParseIssue(parsed.status()));
    return failed;
  }
  return Map(*parsed);
}

namespace {

constexpr std::string_view kMdcSystem = "urn:iso:std:iso:11073:10101";

void AddUnique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

// What conditional routes look at: codes of the measurements (MDC as sent, LOINC from the
// vital-signs table), PV1-3 as sent, the devices' identifiers.
RouteFacts CollectRouteFacts(const hl7v2::ParsedMessage& msg, const pcd01::Model& model,
                             const Terminology& terms) {
  RouteFacts facts;
  facts.message_type = std::string(msg.message_type()) + "^" + std::string(msg.trigger_event());
  for (std::size_t i = 0; i < msg.segment_count(); ++i) {
    const hl7v2::Segment segment = msg.segment(i);
    if (segment.id() == "PV1") {
      // As sent, in the standard notation whatever the sender's delimiters ("ICU^BED12").
      facts.location = std::string(segment.field_raw(3));
      std::replace(facts.location.begin(), facts.location.end(), msg.delimiters().component, '^');
      break;
    }
  }
  for (const pcd01::Group& group : model.groups) {
    for (const pcd01::Row& row : group.rows) {
      if (row.kind != pcd01::RowKind::kMetric) continue;
      const std::optional<std::uint32_t> mdc = pcd01::ParseMdcCode(row.code[1]);
      if (!mdc) continue;
      AddUnique(facts.codes, std::string(kMdcSystem) + "|" + std::to_string(*mdc));
      if (const VitalSign* vital = terms.FindVitalSign(*mdc)) {
        for (std::string_view loinc : {vital->loinc, vital->extra_loinc}) {
          if (!loinc.empty()) AddUnique(facts.codes, "http://loinc.org|" + std::string(loinc));
        }
      }
    }
  }
  for (const pcd01::DeviceInfo& device : model.devices) {
    AddUnique(facts.devices, device.id.system + "|" + device.id.value);
  }
  return facts;
}

}  // namespace

Mapped Pcd01Mapper::Map(const hl7v2::ParsedMessage& msg) const {
  Mapped out;
  out.control_id = std::string(msg.control_id());
  pcd01::Context ctx{impl_->terms,
                     impl_->options,
                     impl_->fragments,
                     msg,
                     {},
                     SenderKey(msg),
                     pcd01::TimeScratch::ForNewMessage(),
                     0,
                     {},
                     {}};
  if (msg.message_type() != "ORU" || msg.trigger_event() != "R01") {
    const hl7v2::Element msh9 = msg.segment(0).field(9);
    ctx.Error("not-supported", msh9.location(),
              "message type " + std::string(msg.message_type()) + "^" +
                  std::string(msg.trigger_event()) +
                  " is not mapped: the PCD-01 mapper takes ORU^R01");
    out.issues = std::move(ctx.issues);
    return out;
  }
  CheckProfile(ctx);
  pcd01::Model model = pcd01::ReadModel(ctx);
  // Written into this thread's scratch string, then copied out at its exact size. The Bundle
  // outlives the call (the delivery cache holds it until it is sent), and a string reserved for
  // the largest Bundle a message could make kept two to three times its size in the heap: a
  // 12-OBX Bundle of 9.7 KB held 24 KB, and writing into fresh pages each time faulted them in.
  thread_local std::string scratch;
  scratch.clear();
  // At most ~1.3 KB of JSON per OBX: one allocation for the whole Bundle in the usual case.
  scratch.reserve(2048 + msg.segment_count() * 1400);
  {
    JsonWriter w(scratch);
    BeginBundle(w, "transaction");
    out.observation_count = pcd01::WriteEntries(ctx, model, w);
    EndBundle(w);
  }
  std::string bundle(scratch);
  // An unusually large message does not keep its buffer for the rest of the thread's life.
  if (scratch.capacity() > kScratchKeptBytes) std::string().swap(scratch);
  out.awaiting_patient = !model.patient.has_value();
  if (model.patient) {
    out.patient = model.patient->id.system + "|" + model.patient->id.value;
    out.lane_key = HashHex64(out.patient);
    out.resource_count = 1 + model.devices.size() + out.observation_count;
  }
  if (!ctx.HasError() && model.patient && out.observation_count == 0) {
    ctx.Error("required", hl7v2::Location{}, "the message holds no measurement to map");
  }
  if (!ctx.HasError()) out.bundle = std::move(bundle);
  out.issues = std::move(ctx.issues);
  if (impl_->options.route_facts) out.facts = CollectRouteFacts(msg, model, impl_->terms);
  return out;
}

}  // namespace fhirbridge::mappers
