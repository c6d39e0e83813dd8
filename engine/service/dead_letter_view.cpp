#include "engine/service/dead_letter_view.h"

#include <ctime>
#include <iomanip>
#include <sstream>

#include "fhirbridge/json_writer.h"

namespace fhirbridge::service {

namespace {

void WriteSummary(JsonWriter& w, const DeadLetterSummary& d) {
  w.Key("id");
  w.Int(d.id);
  w.Key("message_id");
  w.Int(d.message_id);
  w.KeyString("source", d.source);
  w.KeyString("control_id", d.control_id);
  // A mapping failure reached no destination: null, not "".
  w.Key("destination");
  if (d.destination.empty()) {
    w.RawValue("null");
  } else {
    w.String(d.destination);
  }
  w.KeyString("created_at", UtcTime(d.created_at_us));
  w.KeyString("reason", d.reason);
  if (d.http_status != 0) {
    w.Key("http_status");
    w.Int(d.http_status);
  }
  w.KeyString("status", d.status);
  if (d.resolved_at_us != 0) {
    w.KeyString("resolved_at", UtcTime(d.resolved_at_us));
    w.KeyString("resolved_by", d.resolved_by);
  }
}

}  // namespace

std::string UtcTime(std::int64_t us) {
  const std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>((us / 1000) % 1000));
  return std::string(text) + millis;
}

std::string DeadLetterJson(const DeadLetterSummary& letter, const std::string* outcome) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  WriteSummary(w, letter);
  if (outcome != nullptr) {
    w.Key("outcome");
    // Stored as the JSON the server (or the mapper) gave; an empty one is shown as null.
    w.RawValue(outcome->empty() ? std::string_view("null") : std::string_view(*outcome));
  }
  w.EndObject();
  return out;
}

std::string DeadLettersJson(const std::vector<DeadLetterSummary>& letters) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("dead_letters");
  w.BeginArray();
  for (const DeadLetterSummary& d : letters) {
    w.BeginObject();
    WriteSummary(w, d);
    w.EndObject();
  }
  w.EndArray();
  if (!letters.empty()) {
    w.Key("next_before_id");
    w.Int(letters.back().id);
  }
  w.EndObject();
  return out;
}

std::string DeadLettersTable(const std::vector<DeadLetterSummary>& letters) {
  std::ostringstream out;
  out << std::left << std::setw(8) << "ID" << std::setw(14) << "SOURCE" << std::setw(22)
      << "CONTROL-ID" << std::setw(14) << "DESTINATION" << std::setw(26) << "TIME" << std::setw(13)
      << "STATUS"
      << "REASON\n";
  for (const DeadLetterSummary& d : letters) {
    out << std::left << std::setw(8) << d.id << std::setw(14) << d.source << std::setw(22)
        << d.control_id << std::setw(14) << (d.destination.empty() ? "-" : d.destination)
        << std::setw(26) << UtcTime(d.created_at_us) << std::setw(13) << d.status << d.reason
        << "\n";
  }
  return out.str();
}

}  // namespace fhirbridge::service
