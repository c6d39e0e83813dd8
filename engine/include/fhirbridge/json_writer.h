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

}  // namespace fhirbridge
