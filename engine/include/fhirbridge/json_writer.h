#pragma once

// Appends JSON text to a std::string.
//
// The mappers emit ~1 KB of FHIR JSON per Observation at 100,000+ messages/s, and most of that
// text never changes (codings of a known MDC code, category, profile URLs): those parts are
// serialised once and appended as raw fragments here. RapidJSON's Writer cannot append such a
// fragment to an object without re-escaping, so this small writer owns the output path; RapidJSON
// is used to read JSON everywhere else (and in tests to re-parse what this writes).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace fhirbridge {

/// Appends `text` to `out` as a JSON string literal (with quotes). `text` must be UTF-8; control
/// characters, quotes and backslashes are escaped.
void AppendJsonString(std::string& out, std::string_view text);

/// A streaming JSON writer with automatic commas. Keys passed to Key() must not need escaping
/// (they are the FHIR element names we write ourselves).
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject() {
    Separate();
    out_ += '{';
    Push();
  }
  void EndObject() {
    out_ += '}';
    Pop();
  }
  void BeginArray() {
    Separate();
    out_ += '[';
    Push();
  }
  /// Continues an object whose '{' and first members the caller appended through AppendRaw():
  /// later members get their commas.
  void BeginObjectContinued() {
    Push();
    first_ = false;
  }
  void EndArray() {
    out_ += ']';
    Pop();
  }

  /// An object member's name.
  void Key(std::string_view key) {
    Separate();
    // One append of `"key":` (keys are short FHIR element names).
    char quoted[64];
    if (key.size() + 3 <= sizeof quoted) {
      quoted[0] = '"';
      std::memcpy(quoted + 1, key.data(), key.size());
      quoted[key.size() + 1] = '"';
      quoted[key.size() + 2] = ':';
      out_.append(quoted, key.size() + 3);
    } else {
      out_ += '"';
      out_ += key;
      out_ += "\":";
    }
    after_key_ = true;
  }

  void String(std::string_view value) {
    Separate();
    AppendJsonString(out_, value);
  }
  /// A JSON number given as already-valid JSON number text (FHIR decimals keep their digits).
  void NumberText(std::string_view number) {
    Separate();
    out_ += number;
  }
  void Int(std::int64_t value);
  void Bool(bool value) {
    Separate();
    out_ += value ? "true" : "false";
  }

  /// A complete, valid JSON value serialised beforehand.
  void RawValue(std::string_view json) {
    Separate();
    out_ += json;
  }
  /// One or more complete object members (`"a":1,"b":2`) serialised beforehand.
  void RawMembers(std::string_view members) {
    Separate();
    out_ += members;
  }

  void KeyString(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }

  /// Writes the separator a new member (or value) needs and returns the output, so that the
  /// caller can append complete members (or one value) built piecewise from fragments that are
  /// already valid JSON, without an intermediate string.
  std::string& AppendRaw() {
    Separate();
    return out_;
  }

  std::string& out() { return out_; }

 private:
  // Writes the comma before a value or member unless it is the first in its container or the
  // value of a member whose key was just written.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_ += ',';
    first_ = false;
  }
  void Push() {
    first_stack_ = (first_stack_ << 1) | (first_ ? 1u : 0u);
    first_ = true;
  }
  void Pop() {
    first_ = (first_stack_ & 1u) != 0;
    first_stack_ >>= 1;
  }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
  // One bit per open container (FHIR resources nest far less than 64 levels).
  std::uint64_t first_stack_ = 0;
};

/// Opens a FHIR Bundle of `type` ("transaction", "batch") and its entry array; write each entry
/// as an object, then call EndBundle.
inline void BeginBundle(JsonWriter& w, std::string_view type) {
  w.BeginObject();
  w.KeyString("resourceType", "Bundle");
  w.KeyString("type", type);
  w.Key("entry");
  w.BeginArray();
}
inline void EndBundle(JsonWriter& w) {
  w.EndArray();
  w.EndObject();
}

/// Appends bytes to a std::string through a pointer, for output assembled from many prebuilt
/// fragments (a FHIR Observation is ~40 of them): Reserve() makes room once for a run of
/// appends, and Put() then copies without a capacity check (for a literal, without a call).
/// Reserve() sizes the string ahead (a few KB at a time), so it holds unwritten bytes past the
/// written ones until Close() (or the destructor) trims it; use the string for nothing else
/// while the appender is open.
class JsonAppender {
 public:
  explicit JsonAppender(std::string& out) : out_(out) { Open(); }
  ~JsonAppender() { Close(); }
  JsonAppender(const JsonAppender&) = delete;
  JsonAppender& operator=(const JsonAppender&) = delete;

  /// Makes sure that `n` more bytes can be put.
  void Reserve(std::size_t n) {
    if (static_cast<std::size_t>(end_ - at_) < n) Grow(n);
  }
  /// Copies `text` (room reserved by the caller).
  void Put(std::string_view text) {
    std::memcpy(at_, text.data(), text.size());
    at_ += text.size();
  }
  /// Copies a string literal: its length is known here, so the copy is a few moves.
  template <std::size_t N>
  void Put(const char (&literal)[N]) {
    std::memcpy(at_, literal, N - 1);
    at_ += N - 1;
  }
  void Put(char c) { *at_++ = c; }
  /// Reserves room for and copies each of `texts` (string views, string literals, chars).
  template <typename... Texts>
  void Append(const Texts&... texts) {
    Reserve((Length(texts) + ...));
    (Put(texts), ...);
  }
  /// Reserves room for and appends `text` as a JSON string literal (AppendJsonString).
  void PutJsonString(std::string_view text);

  /// Runs `write(JsonWriter&)` on the string, for parts that JsonWriter code writes: values
  /// or members of the container being appended, after others (`after_others`: the writer puts
  /// a comma before its first) or as its first.
  template <typename Write>
  void WithWriter(bool after_others, Write write) {
    Close();
    JsonWriter w(out_);
    if (after_others) w.BeginObjectContinued();
    write(w);
    Open();
  }

  /// Trims the string to what was written, so that it can be used (or written by a
  /// JsonWriter); Open() continues after it.
  void Close() {
    if (at_ != nullptr) out_.resize(static_cast<std::size_t>(at_ - out_.data()));
    at_ = end_ = nullptr;
  }
  void Open() { at_ = end_ = out_.data() + out_.size(); }

 private:
  void Grow(std::size_t n);
  static std::size_t Length(std::string_view text) { return text.size(); }
  static constexpr std::size_t Length(char) { return 1; }
  template <std::size_t N>
  static constexpr std::size_t Length(const char (&)[N]) {
    return N - 1;
  }

  std::string& out_;
  char* at_ = nullptr;
  char* end_ = nullptr;
};

}  // namespace fhirbridge
