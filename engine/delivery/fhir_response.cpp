#include "engine/delivery/fhir_response.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "fhirbridge/insitu_json.h"
#include "fhirbridge/json_writer.h"

namespace fhirbridge::delivery {

bool IsRetryableStatus(int status) {
  // 408/429: come back later; 5xx: the server failed, and on a transaction the outcome is
  // unknown, which a retry settles safely because every create is conditional.
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

std::string SynthesizedOutcome(std::string_view code, std::string_view text) {
  std::string out = R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":)";
  AppendJsonString(out, code);
  out += R"(,"diagnostics":)";
  AppendJsonString(out, text);
  out += "}]}";
  return out;
}

std::string OutcomeOrSynthesized(std::string_view body, int status) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNumbersAsStringsFlag>(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    auto it = doc.FindMember("resourceType");
    if (it != doc.MemberEnd() && it->value.IsString() &&
        std::string_view(it->value.GetString()) == "OperationOutcome") {
      return std::string(body);
    }
  }
  return SynthesizedOutcome(
      status == 404 ? "not-found" : "exception",
      "HTTP " + std::to_string(status) + " from the FHIR server, without an OperationOutcome");
}

DeliveryOutcome ClassifyResponse(const Result<http::HttpResponse>& response,
                                 std::chrono::system_clock::time_point now) {
  DeliveryOutcome out;
  if (!response.ok()) {
    // Connection errors and timeouts: try later (a timeout after sending is an unknown outcome,
    // settled by the conditional creates of the retry).
    out.kind = DeliveryOutcome::Kind::kRetry;
    out.reason = response.status().message();
    return out;
  }
  const int status = response->status;
  out.http_status = status;
  out.reason = "HTTP " + std::to_string(status);
  if (status >= 200 && status <= 299) {
    out.kind = DeliveryOutcome::Kind::kDelivered;
    return out;
  }
  if (IsRetryableStatus(status)) {
    out.kind = DeliveryOutcome::Kind::kRetry;
    if (const std::string* value = response->Header("retry-after")) {
      if (auto wait = http::ParseRetryAfter(*value, now)) out.retry_after_us = wait->count();
    }
    return out;
  }
  out.kind = DeliveryOutcome::Kind::kPermanent;
  out.outcome = OutcomeOrSynthesized(response->body, status);
  return out;
}

namespace {

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const rapidjson::Value* Member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

Result<std::vector<EntryResponse>> ParseBundleResponse(std::string_view body, std::string_view type,
                                                       std::size_t expected_entries) {
  // Parsed in place in a copy in the thread's scratch space: its strings stay in the copy
  // instead of being copied out one by one (every answer to every delivery goes through here).
  InsituJson parsed(body);
  const rapidjson::Document& doc = parsed.doc();
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("the answer is not a JSON object");
  }
  const rapidjson::Value* bundle_type = Member(doc, "type");
  if (bundle_type == nullptr || !bundle_type->IsString() ||
      std::string_view(bundle_type->GetString()) != type) {
    return Status::InvalidArgument("the answer is not a " + std::string(type) + " Bundle");
  }
  const rapidjson::Value* entries = Member(doc, "entry");
  const std::size_t count = entries != nullptr && entries->IsArray() ? entries->Size() : 0;
  if (expected_entries != kAnyEntryCount && count != expected_entries) {
    return Status::InvalidArgument("the " + std::string(type) + " has " + std::to_string(count) +
                                   " entries for " + std::to_string(expected_entries) + " sent");
  }
  std::vector<EntryResponse> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const rapidjson::Value* response =
        Member((*entries)[static_cast<rapidjson::SizeType>(i)], "response");
    if (response == nullptr) continue;
    if (const rapidjson::Value* status = Member(*response, "status");
        status && status->IsString()) {
      // "201 Created", or just "201" (R4 Bundle.entry.response.status: the code first).
      const std::string_view text = status->GetString();
      int code = 0;
      for (std::size_t k = 0; k < text.size() && k < 3 && text[k] >= '0' && text[k] <= '9'; ++k) {
        code = code * 10 + (text[k] - '0');
      }
      out[i].status = code >= 100 ? code : 0;
    }
    if (const rapidjson::Value* location = Member(*response, "location");
        location && location->IsString()) {
      out[i].location = location->GetString();
    }
    // Servers attach an "all OK" OperationOutcome to entries that succeeded too (Medplum does);
    // only a failed entry's is kept, so only that one is written out again.
    const bool succeeded = out[i].status >= 200 && out[i].status <= 299;
    if (const rapidjson::Value* outcome = Member(*response, "outcome");
        !succeeded && outcome && outcome->IsObject()) {
      out[i].outcome = ToJson(*outcome);
    }
  }
  return out;
}

std::string RelativeLocation(std::string_view location, std::string_view base_url) {
  if (location.size() > base_url.size() && location.substr(0, base_url.size()) == base_url &&
      location[base_url.size()] == '/') {
    location.remove_prefix(base_url.size() + 1);
  }
  return std::string(location);
}

std::string TypeAndId(std::string_view relative_location) {
  const std::size_t first = relative_location.find('/');
  if (first == std::string_view::npos || first == 0) return "";
  const std::size_t second = relative_location.find('/', first + 1);
  std::string_view out = relative_location.substr(0, second);
  if (out.size() == first + 1) return "";
  return std::string(out);
}

}  // namespace fhirbridge::delivery
