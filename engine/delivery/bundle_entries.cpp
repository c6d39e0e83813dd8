#include "engine/delivery/bundle_entries.h"

#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace fhirbridge::delivery {

namespace {

using rapidjson::SizeType;

// Walks a Bundle with the SAX reader. Frames mirror the nesting; the entry fields are picked by
// their position: Bundle.entry[i].{fullUrl, request.*, resource}.
class EntriesHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, EntriesHandler> {
 public:
  EntriesHandler(const rapidjson::StringStream& stream, const BundleLimits& limits,
                 std::string_view json)
      : stream_(stream), limits_(limits), json_(json) {}

  bool StartObject() {
    if (Depth() == 2 && InKey(0, "entry") && frames_[1].array) {
      if (entries.size() >= limits_.max_entries) return Fail("more entries than the limit");
      entries.emplace_back();
    }
    if (Depth() == 3 && InEntry() && InKey(2, "resource")) resource_start_ = stream_.Tell() - 1;
    return Push(false);
  }
  bool EndObject(SizeType) {
    frames_.pop_back();
    if (Depth() == 3 && InEntry() && InKey(2, "resource")) {
      entries.back().resource =
          std::string(json_.substr(resource_start_, stream_.Tell() - resource_start_));
    }
    return true;
  }
  bool StartArray() { return Push(true); }
  bool EndArray(SizeType) {
    frames_.pop_back();
    return true;
  }
  bool Key(const char* str, SizeType length, bool) {
    frames_.back().key.assign(str, length);
    return true;
  }
  bool String(const char* str, SizeType length, bool) {
    const std::string_view value(str, length);
    if (Depth() == 1 && InKey(0, "resourceType")) is_bundle = value == "Bundle";
    if (!InEntry()) return true;
    if (Depth() == 3 && InKey(2, "fullUrl")) entries.back().full_url = value;
    if (Depth() == 4 && InKey(2, "request")) {
      BundleEntry& e = entries.back();
      const std::string& key = frames_[3].key;
      if (key == "method") e.method = value;
      if (key == "url") e.url = value;
      if (key == "ifNoneExist") e.if_none_exist = value;
      if (key == "ifMatch") e.if_match = value;
    }
    if (Depth() >= 4 && InKey(2, "resource") && !frames_.back().array &&
        frames_.back().key == "reference") {
      entries.back().references.emplace_back(value);
    }
    return true;
  }
  bool Default() { return true; }

  std::vector<BundleEntry> entries;
  bool is_bundle = false;
  std::string problem;

 private:
  struct Frame {
    bool array;
    std::string key;
  };
  std::size_t Depth() const { return frames_.size(); }
  // Inside Bundle.entry[i] (an object element of the entry array).
  bool InEntry() const {
    return frames_.size() >= 3 && InKey(0, "entry") && frames_[1].array && !frames_[2].array &&
           !entries.empty();
  }
  bool InKey(std::size_t frame, std::string_view key) const {
    return frame < frames_.size() && !frames_[frame].array && frames_[frame].key == key;
  }
  bool Push(bool array) {
    if (frames_.size() >= limits_.max_depth) return Fail("nested deeper than the limit");
    frames_.push_back({array, {}});
    return true;
  }
  bool Fail(std::string what) {
    problem = std::move(what);
    return false;
  }

  const rapidjson::StringStream& stream_;
  const BundleLimits& limits_;
  std::string_view json_;
  std::vector<Frame> frames_;
  std::size_t resource_start_ = 0;
};

// Copies JSON through the SAX reader, numbers as their original text, replacing references.
class RewriteHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RewriteHandler> {
 public:
  RewriteHandler(rapidjson::Writer<rapidjson::StringBuffer>& out,
                 const std::map<std::string, std::string, std::less<>>& targets,
                 std::size_t max_depth)
      : out_(out), targets_(targets), max_depth_(max_depth) {}

  bool Null() { return out_.Null(); }
  bool Bool(bool b) { return out_.Bool(b); }
  bool RawNumber(const char* str, SizeType length, bool) {
    // Writer::RawNumber would quote it; RawValue keeps the digits as they were (98.60).
    return out_.RawValue(str, length, rapidjson::kNumberType);
  }
  bool String(const char* str, SizeType length, bool) {
    if (last_key_is_reference_) {
      auto it = targets_.find(std::string_view(str, length));
      if (it != targets_.end()) {
        return out_.String(it->second.data(), static_cast<SizeType>(it->second.size()));
      }
    }
    return out_.String(str, length);
  }
  bool StartObject() { return ++depth_ <= max_depth_ && out_.StartObject(); }
  bool EndObject(SizeType n) {
    --depth_;
    last_key_is_reference_ = false;
    return out_.EndObject(n);
  }
  bool StartArray() {
    last_key_is_reference_ = false;
    return ++depth_ <= max_depth_ && out_.StartArray();
  }
  bool EndArray(SizeType n) {
    --depth_;
    return out_.EndArray(n);
  }
  bool Key(const char* str, SizeType length, bool) {
    last_key_is_reference_ = std::string_view(str, length) == "reference";
    return out_.Key(str, length);
  }

 private:
  rapidjson::Writer<rapidjson::StringBuffer>& out_;
  const std::map<std::string, std::string, std::less<>>& targets_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool last_key_is_reference_ = false;
};

}  // namespace

Result<std::vector<BundleEntry>> ParseBundleEntries(std::string_view json,
                                                    const BundleLimits& limits) {
  // The reader needs a terminated buffer; the payload is one line of JSON.
  const std::string text(json);
  rapidjson::StringStream stream(text.c_str());
  EntriesHandler handler(stream, limits, text);
  rapidjson::Reader reader;
  reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(stream, handler);
  if (!handler.problem.empty()) {
    return Status::InvalidArgument("the payload Bundle has " + handler.problem);
  }
  if (reader.HasParseError()) return Status::InvalidArgument("the payload is not valid JSON");
  if (!handler.is_bundle) return Status::InvalidArgument("the payload is not a Bundle");
  return std::move(handler.entries);
}

Result<std::vector<std::vector<std::size_t>>> DependencyLevels(
    const std::vector<BundleEntry>& entries) {
  std::map<std::string_view, std::size_t> by_full_url;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].full_url.empty()) by_full_url.emplace(entries[i].full_url, i);
  }
  std::vector<int> level(entries.size(), -1);
  std::vector<std::vector<std::size_t>> levels;
  std::size_t placed = 0;
  // Each pass places the entries whose targets are all placed: at most one pass per level.
  for (int pass = 0; placed < entries.size(); ++pass) {
    std::vector<std::size_t> now;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (level[i] >= 0) continue;
      bool ready = true;
      for (const std::string& ref : entries[i].references) {
        auto it = by_full_url.find(ref);
        if (it == by_full_url.end() || it->second == i) continue;
        const int target = level[it->second];
        ready = ready && target >= 0 && target < pass;
      }
      if (ready) now.push_back(i);
    }
    if (now.empty()) {
      return Status::InvalidArgument(
          "entries of the payload Bundle refer to each other in a cycle");
    }
    for (std::size_t i : now) level[i] = pass;
    placed += now.size();
    levels.push_back(std::move(now));
  }
  return levels;
}

Result<std::string> RewriteReferences(
    std::string_view resource_json, const std::map<std::string, std::string, std::less<>>& targets,
    const BundleLimits& limits) {
  const std::string text(resource_json);
  rapidjson::StringStream stream(text.c_str());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  RewriteHandler handler(writer, targets, limits.max_depth);
  rapidjson::Reader reader;
  if (!reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(stream, handler)) {
    return Status::InvalidArgument("a resource of the payload Bundle is not valid JSON");
  }
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace fhirbridge::delivery
