// ConfigKey, ConfigSchema and ConfigNode: declaring keys, rendering docs/configuration.md from
// them, and typed reads of a loaded configuration. The loader is config.cpp; the table is
// config_schema.cpp.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "fhirbridge/config.h"

namespace fhirbridge {

namespace {

// JSON text of a string, for defaults (which are read back by the same loader as the file).
std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string FormatDouble(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions ("fromat").
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reading a configuration the schema does not allow is a bug in the reader, not in the file
// (which was validated): stop loudly rather than run with a guessed value.
[[noreturn]] void Misuse(const std::string& where, std::string_view key, std::string_view why) {
  std::fprintf(stderr, "fhirbridge: bug: configuration read of `%s%s%.*s`: %.*s\n", where.c_str(),
               where.empty() ? "" : ".", static_cast<int>(key.size()), key.data(),
               static_cast<int>(why.size()), why.data());
  std::abort();
}

std::string EscapeCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string TypeCell(const ConfigKey& key) {
  switch (key.type()) {
    case ConfigType::kInteger:
      return "integer, " + std::to_string(key.int_min()) + " to " + std::to_string(key.int_max());
    case ConfigType::kNumber:
      return "number, " + FormatDouble(key.number_min()) + " to " + FormatDouble(key.number_max());
    case ConfigType::kEnum: {
      std::string out = "one of";
      for (std::size_t i = 0; i < key.allowed().size(); ++i) {
        out += i == 0 ? " `" : ", `";
        out += key.allowed()[i] + "`";
      }
      return out;
    }
    default:
      return std::string(ConfigTypeName(key.type()));
  }
}

std::string DefaultCell(const ConfigKey& key) {
  if (key.required()) return "**required**";
  if (key.default_json().empty()) return "—";
  return "`" + key.default_json() + "`";
}

std::string HelpCell(const ConfigKey& key) {
  std::string help = key.help();
  if (key.unique_in_array()) {
    help += " Unique among `" + std::string(key.parent_path()) + "`.";
  }
  return EscapeCell(help);
}

std::string SectionTitle(const ConfigKey& key) {
  std::string title(key.name());
  if (key.type() == ConfigType::kObjectArray) title += "[]";
  return title;
}

void AppendTableHeader(std::string& out) {
  out += "| key | type | default | help |\n";
  out += "|---|---|---|---|\n";
}

void AppendRow(std::string& out, const ConfigKey& key) {
  out += "| `" + key.path() + "` | " + EscapeCell(TypeCell(key)) + " | " + DefaultCell(key) +
         " | " + HelpCell(key) + " |\n";
}

}  // namespace

std::string_view ConfigTypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kString:
      return "string";
    case ConfigType::kSecretPath:
      return "secret file path";
    case ConfigType::kInteger:
      return "integer";
    case ConfigType::kNumber:
      return "number";
    case ConfigType::kBoolean:
      return "boolean";
    case ConfigType::kEnum:
      return "enum";
    case ConfigType::kStringList:
      return "list of strings";
    case ConfigType::kStringMap:
      return "map of string to string";
    case ConfigType::kObject:
      return "object";
    case ConfigType::kObjectArray:
      return "array of objects";
  }
  return "unknown";
}

// ---- ConfigKey ----

ConfigKey::ConfigKey(std::string path, ConfigType type, std::string help)
    : path_(std::move(path)), type_(type), help_(std::move(help)) {}

ConfigKey ConfigKey::String(std::string path, std::string help) {
  return ConfigKey(std::move(path), ConfigType::kString, std::move(help));
}
ConfigKey ConfigKey::SecretPath(std::string path, std::string help) {
  return ConfigKey(std::move(path), ConfigType::kSecretPath, std::move(help));
}
ConfigKey ConfigKey::Integer(std::string path, std::int64_t min, std::int64_t max,
                             std::string help) {
  ConfigKey key(std::move(path), ConfigType::kInteger, std::move(help));
  key.int_min_ = min;
  key.int_max_ = max;
  return key;
}
ConfigKey ConfigKey::Number(std::string path, double min, double max, std::string help) {
  ConfigKey key(std::move(path), ConfigType::kNumber, std::move(help));
  key.number_min_ = min;
  key.number_max_ = max;
  return key;
}
ConfigKey ConfigKey::Boolean(std::string path, std::string help) {
  return ConfigKey(std::move(path), ConfigType::kBoolean, std::move(help));
}
ConfigKey ConfigKey::Enum(std::string path, std::vector<std::string> allowed, std::string help) {
  ConfigKey key(std::move(path), ConfigType::kEnum, std::move(help));
  key.allowed_ = std::move(allowed);
  return key;
}
ConfigKey ConfigKey::StringList(std::string path, std::string help) {
  return ConfigKey(std::move(path), ConfigType::kStringList, std::move(help));
}
ConfigKey ConfigKey::StringMap(std::string path, std::string help) {
  return ConfigKey(std::move(path), ConfigType::kStringMap, std::move(help));
}
ConfigKey ConfigKey::Object(std::string path, std::string help) {
  return ConfigKey(std::move(path), ConfigType::kObject, std::move(help));
}
ConfigKey ConfigKey::ObjectArray(std::string path, std::string help) {
  return ConfigKey(std::move(path), ConfigType::kObjectArray, std::move(help));
}

ConfigKey& ConfigKey::Default(std::string value) {
  default_json_ = JsonString(value);
  return *this;
}
ConfigKey& ConfigKey::DefaultInt(std::int64_t value) {
  default_json_ = std::to_string(value);
  return *this;
}
ConfigKey& ConfigKey::DefaultNumber(double value) {
  default_json_ = FormatDouble(value);
  return *this;
}
ConfigKey& ConfigKey::DefaultBool(bool value) {
  default_json_ = value ? "true" : "false";
  return *this;
}
ConfigKey& ConfigKey::DefaultJson(std::string json) {
  default_json_ = std::move(json);
  return *this;
}
ConfigKey& ConfigKey::Required() {
  required_ = true;
  return *this;
}
ConfigKey& ConfigKey::UniqueInArray() {
  unique_ = true;
  return *this;
}
ConfigKey& ConfigKey::Check(ConfigValidator validator) {
  validators_.push_back(std::move(validator));
  return *this;
}

std::string_view ConfigKey::name() const {
  std::string_view p = path_;
  const std::size_t dot = p.rfind('.');
  return dot == std::string_view::npos ? p : p.substr(dot + 1);
}

std::string_view ConfigKey::parent_path() const {
  std::string_view p = path_;
  const std::size_t dot = p.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : p.substr(0, dot);
}

// ---- ConfigSchema ----

ConfigSchema::ConfigSchema(std::string intro_markdown) : intro_(std::move(intro_markdown)) {}

ConfigSchema& ConfigSchema::Add(ConfigKey key) {
  keys_.push_back(std::move(key));
  return *this;
}

const ConfigKey* ConfigSchema::Find(std::string_view path) const {
  for (const ConfigKey& key : keys_) {
    if (key.path() == path) return &key;
  }
  return nullptr;
}

std::vector<const ConfigKey*> ConfigSchema::ChildrenOf(std::string_view object_path) const {
  std::vector<const ConfigKey*> out;
  for (const ConfigKey& key : keys_) {
    if (key.parent_path() == object_path) out.push_back(&key);
  }
  return out;
}

std::string ConfigSchema::Markdown() const {
  std::string out = "# Configuration\n\n";
  if (!intro_.empty()) out += intro_ + "\n\n";
  // Plain top-level keys first, under one heading; then one section per top-level object/array.
  std::vector<const ConfigKey*> plain;
  for (const ConfigKey* key : ChildrenOf("")) {
    if (key->type() != ConfigType::kObject && key->type() != ConfigType::kObjectArray) {
      plain.push_back(key);
    }
  }
  if (!plain.empty()) {
    out += "## Top-level keys\n\n";
    AppendTableHeader(out);
    for (const ConfigKey* key : plain) AppendRow(out, *key);
    out += "\n";
  }
  for (const ConfigKey* section : ChildrenOf("")) {
    if (section->type() != ConfigType::kObject && section->type() != ConfigType::kObjectArray) {
      continue;
    }
    out += "## `" + SectionTitle(*section) + "`\n\n" + section->help() + "\n\n";
    if (section->required()) out += "This section is required.\n\n";
    const std::string prefix =
        section->path() +
        (section->type() == ConfigType::kObjectArray ? std::string("[].") : std::string("."));
    AppendTableHeader(out);
    for (const ConfigKey& key : keys_) {
      if (key.path().compare(0, prefix.size(), prefix) == 0) AppendRow(out, key);
    }
    out += "\n";
  }
  out.pop_back();  // one newline at the end of the file, not two
  return out;
}

// ---- ConfigNode ----

const ConfigNode::Value& ConfigNode::Lookup(std::string_view key) const {
  const ConfigNode* node = this;
  std::string_view rest = key;
  for (;;) {
    const std::size_t dot = rest.find('.');
    const std::string_view name = rest.substr(0, dot);
    auto it = node->values_.find(name);
    if (it == node->values_.end()) Misuse(path_, key, "not declared in the schema here");
    if (dot == std::string_view::npos) return it->second;
    if (it->second.type != ConfigType::kObject || it->second.nodes.empty()) {
      Misuse(path_, key, "a dotted path through something that is not an object");
    }
    node = &it->second.nodes[0];
    rest = rest.substr(dot + 1);
  }
}

bool ConfigNode::Has(std::string_view key) const { return Lookup(key).present; }

const std::string& ConfigNode::GetString(std::string_view key) const {
  const Value& v = Lookup(key);
  if (v.type != ConfigType::kString && v.type != ConfigType::kSecretPath &&
      v.type != ConfigType::kEnum) {
    Misuse(path_, key, "read as a string but declared as " + std::string(ConfigTypeName(v.type)));
  }
  return v.text;
}

std::int64_t ConfigNode::GetInt(std::string_view key) const {
  const Value& v = Lookup(key);
  if (v.type != ConfigType::kInteger) {
    Misuse(path_, key, "read as an integer but declared as " + std::string(ConfigTypeName(v.type)));
  }
  return v.integer;
}

double ConfigNode::GetNumber(std::string_view key) const {
  const Value& v = Lookup(key);
  if (v.type == ConfigType::kInteger) return static_cast<double>(v.integer);
  if (v.type != ConfigType::kNumber) {
    Misuse(path_, key, "read as a number but declared as " + std::string(ConfigTypeName(v.type)));
  }
  return v.number;
}

bool ConfigNode::GetBool(std::string_view key) const {
  const Value& v = Lookup(key);
  if (v.type != ConfigType::kBoolean) {
    Misuse(path_, key, "read as a boolean but declared as " + std::string(ConfigTypeName(v.type)));
  }
  return v.boolean;
}

const std::vector<std::string>& ConfigNode::GetStringList(std::string_view key) const {
  const Value& v = Lookup(key);
  if (v.type != ConfigType::kStringList) {
    Misuse(path_, key, "read as a list but declared as " + std::string(ConfigTypeName(v.type)));
  }
  return v.list;
}

const std::map<std::string, std::string, std::less<>>& ConfigNode::GetStringMap(
    std::string_view key) const {
  const Value& v = Lookup(key);
  if (v.type != ConfigType::kStringMap) {
    Misuse(path_, key, "read as a map but declared as " + std::string(ConfigTypeName(v.type)));
  }
  return v.map;
}

const ConfigNode& ConfigNode::Object(std::string_view key) const {
  const Value& v = Lookup(key);
  if (v.type != ConfigType::kObject || v.nodes.empty()) {
    Misuse(path_, key, "read as an object but declared as " + std::string(ConfigTypeName(v.type)));
  }
  return v.nodes[0];
}

const std::vector<ConfigNode>& ConfigNode::Array(std::string_view key) const {
  const Value& v = Lookup(key);
  if (v.type != ConfigType::kObjectArray) {
    Misuse(path_, key, "read as an array but declared as " + std::string(ConfigTypeName(v.type)));
  }
  return v.nodes;
}

// ---- ConfigCheckContext and message helpers ----

std::string ConfigCheckContext::path() const {
  std::string out = parent_.path();
  if (!out.empty()) out += '.';
  out += key_;
  return out;
}

void ConfigCheckContext::Problem(std::string_view what) { ProblemAt("", what); }

void ConfigCheckContext::ProblemAt(std::string_view suffix, std::string_view what) {
  std::string line = path();
  line += suffix;
  line += ": ";
  line += what;
  problems_.push_back(std::move(line));
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string lower = Lower(word);
  // Allow more slack for longer words: one typo in a short key, up to three in a long one.
  const std::size_t limit = lower.size() <= 3 ? 1 : lower.size() <= 7 ? 2 : 3;
  const std::string* best = nullptr;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    if (candidate == word) continue;
    const std::size_t d = EditDistance(lower, Lower(candidate));
    if (d < best_distance && d < candidate.size()) {
      best = &candidate;
      best_distance = d;
    }
  }
  if (best == nullptr) return "";
  return " (did you mean `" + *best + "`?)";
}

std::string QuoteForMessage(std::string_view text) {
  // Long values are cut (on a UTF-8 boundary) so one bad value cannot flood the report.
  constexpr std::size_t kMaxShown = 80;
  bool cut = false;
  if (text.size() > kMaxShown) {
    std::size_t end = kMaxShown;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string out = JsonString(text);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

}  // namespace fhirbridge
