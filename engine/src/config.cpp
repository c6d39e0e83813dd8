// The configuration loader: JSON text → a ConfigNode tree checked against a ConfigSchema.
// The schema table itself lives in config_schema.cpp; key/schema/node plumbing in config_node.cpp.

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>
#include <set>
#include <sstream>

#include "fhirbridge/config.h"

namespace fhirbridge {

namespace {

constexpr std::size_t kMaxConfigFileBytes = 16 * 1024 * 1024;

std::string JoinPath(std::string_view parent, std::string_view name) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

// A key written as data (an unknown key, a map key) may hold anything; show it quoted when it is
// not a plain identifier, so the path stays readable and unambiguous.
std::string KeyForPath(std::string_view parent, std::string_view name) {
  bool plain = !name.empty();
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) plain = false;
  }
  if (plain) return JoinPath(parent, name);
  return std::string(parent) + "[" + QuoteForMessage(name) + "]";
}

const char* JsonTypeName(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return "a number";
  }
  return "a value";
}

std::string JoinAllowed(const std::vector<std::string>& allowed) {
  std::string out;
  for (const std::string& a : allowed) {
    if (!out.empty()) out += ", ";
    out += a;
  }
  return out;
}

std::string Expected(const ConfigKey& key) {
  switch (key.type()) {
    case ConfigType::kString:
      return "a string";
    case ConfigType::kSecretPath:
      return "a string (the path of a file)";
    case ConfigType::kInteger:
      return "an integer";
    case ConfigType::kNumber:
      return "a number";
    case ConfigType::kBoolean:
      return "true or false";
    case ConfigType::kEnum:
      return "one of " + JoinAllowed(key.allowed());
    case ConfigType::kStringList:
      return "an array of strings";
    case ConfigType::kStringMap:
      return "an object whose values are strings";
    case ConfigType::kObject:
      return "an object";
    case ConfigType::kObjectArray:
      return "an array of objects";
  }
  return "a value";
}

// A secret pasted inline instead of referenced by path: PEM armour or several lines. We say so
// without repeating it, since the message ends up in terminals and CI logs.
bool LooksLikeInlineSecret(std::string_view text) {
  return text.find("-----BEGIN") != std::string_view::npos ||
         text.find('\n') != std::string_view::npos;
}

std::string FormatNumber(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// 1-based line and column (in code points) of a byte offset, for JSON syntax errors.
std::pair<std::size_t, std::size_t> LineAndColumn(std::string_view text, std::size_t offset) {
  if (offset > text.size()) offset = text.size();
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {  // UTF-8 continuation bytes do not start a column
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

/// Builds the ConfigNode tree from RapidJSON values, collecting problems as "path: what".
class ConfigLoader {
 public:
  ConfigLoader(const ConfigSchema& schema, std::vector<std::string>& problems)
      : schema_(schema), problems_(problems) {}

  static Result<Config> Load(std::string_view json_text, const ConfigSchema& schema,
                             std::string_view origin);

  /// Reads `key`'s default as the loader would and reports what is wrong with it (SelfCheck).
  static void CheckDefault(const ConfigSchema& schema, const ConfigKey& key,
                           std::vector<std::string>& problems);

 private:
  /// Reads one value of `key` from `json` into `out`; `out.present` tells whether it was usable.
  void ReadValue(const ConfigKey& key, const rapidjson::Value& json, const std::string& path,
                 ConfigNode::Value& out);
  void Problem(const std::string& path, std::string_view what) {
    std::string line = path;
    line += ": ";
    line += what;
    problems_.push_back(std::move(line));
  }

  void BuildObject(const rapidjson::Value* json, std::string_view schema_path, ConfigNode& node);
  void ApplyDefault(const ConfigKey& key, ConfigNode& node, ConfigNode::Value& out);
  void ReadScalar(const ConfigKey& key, const rapidjson::Value& json, const std::string& path,
                  ConfigNode::Value& out);
  void ReadStringList(const rapidjson::Value& json, const std::string& path,
                      ConfigNode::Value& out);
  void ReadStringMap(const rapidjson::Value& json, const std::string& path, ConfigNode::Value& out);
  void ReadObjectArray(const ConfigKey& key, const rapidjson::Value& json, const std::string& path,
                       ConfigNode::Value& out);
  void CheckUnique(const ConfigKey& array_key, const ConfigNode::Value& array);
  void RunChecks(const ConfigNode& root, const ConfigNode& node, std::string_view schema_path);

  const ConfigSchema& schema_;
  std::vector<std::string>& problems_;
};

void ConfigLoader::BuildObject(const rapidjson::Value* json, std::string_view schema_path,
                               ConfigNode& node) {
  const std::vector<const ConfigKey*> children = schema_.ChildrenOf(schema_path);
  std::set<std::string, std::less<>> given;
  if (json != nullptr) {
    std::vector<std::string> names;
    for (const ConfigKey* k : children) names.emplace_back(k->name());
    for (auto m = json->MemberBegin(); m != json->MemberEnd(); ++m) {
      const std::string name(m->name.GetString(), m->name.GetStringLength());
      const std::string path = KeyForPath(node.path_, name);
      if (!given.insert(name).second) {
        Problem(path, "key given twice (the later one would silently win)");
        continue;
      }
      const ConfigKey* key = nullptr;
      for (const ConfigKey* k : children) {
        if (k->name() == name) key = k;
      }
      if (key == nullptr) {
        Problem(path, "unknown key" + DidYouMean(name, names));
        continue;
      }
      // null means "not set": the default applies, as if the key were left out.
      if (m->value.IsNull() && !key->required()) {
        given.erase(name);
        continue;
      }
      ReadValue(*key, m->value, path, node.values_[name]);
    }
  }
  for (const ConfigKey* key : children) {
    const std::string name(key->name());
    ConfigNode::Value& value = node.values_[name];
    value.type = key->type();
    if (given.count(name) != 0) continue;
    // Required keys are only required in objects the file gives; a left-out optional object
    // stands for its defaults.
    if (key->required() && json != nullptr) {
      Problem(JoinPath(node.path_, name), "missing required key");
      continue;
    }
    ApplyDefault(*key, node, value);
  }
}

void ConfigLoader::ApplyDefault(const ConfigKey& key, ConfigNode& node, ConfigNode::Value& out) {
  const std::string path = JoinPath(node.path_, key.name());
  if (key.type() == ConfigType::kObject) {
    out.nodes.assign(1, ConfigNode());
    out.nodes[0].path_ = path;
    BuildObject(nullptr, key.path(), out.nodes[0]);
    return;
  }
  if (key.default_json().empty()) return;
  rapidjson::Document doc;
  doc.Parse(key.default_json().data(), key.default_json().size());
  if (doc.HasParseError()) {
    Problem(path, "the schema's default is not valid JSON (a bug in config_schema.cpp)");
    return;
  }
  ReadValue(key, doc, path, out);
}

void ConfigLoader::ReadValue(const ConfigKey& key, const rapidjson::Value& json,
                             const std::string& path, ConfigNode::Value& out) {
  out.type = key.type();
  out.present = false;
  switch (key.type()) {
    case ConfigType::kStringList:
      if (!json.IsArray()) break;
      ReadStringList(json, path, out);
      return;
    case ConfigType::kStringMap:
      if (!json.IsObject()) break;
      ReadStringMap(json, path, out);
      return;
    case ConfigType::kObject:
      if (!json.IsObject()) break;
      out.nodes.assign(1, ConfigNode());
      out.nodes[0].path_ = path;
      BuildObject(&json, key.path(), out.nodes[0]);
      out.present = true;
      return;
    case ConfigType::kObjectArray:
      if (!json.IsArray()) break;
      ReadObjectArray(key, json, path, out);
      return;
    default:
      ReadScalar(key, json, path, out);
      return;
  }
  Problem(path, "expected " + Expected(key) + ", got " + JsonTypeName(json));
  // Keep the tree's shape, so that checks reading through this object still find its defaults.
  if (key.type() == ConfigType::kObject) {
    out.nodes.assign(1, ConfigNode());
    out.nodes[0].path_ = path;
    BuildObject(nullptr, key.path(), out.nodes[0]);
  }
}

void ConfigLoader::ReadScalar(const ConfigKey& key, const rapidjson::Value& json,
                              const std::string& path, ConfigNode::Value& out) {
  const std::string type_problem = "expected " + Expected(key) + ", got " + JsonTypeName(json);
  switch (key.type()) {
    case ConfigType::kString:
    case ConfigType::kSecretPath:
    case ConfigType::kEnum: {
      if (!json.IsString()) return Problem(path, type_problem);
      std::string text(json.GetString(), json.GetStringLength());
      if (key.type() == ConfigType::kSecretPath && LooksLikeInlineSecret(text)) {
        return Problem(path, "looks like the secret itself; give the path of a file that holds it");
      }
      if (key.type() == ConfigType::kEnum) {
        bool allowed = false;
        for (const std::string& a : key.allowed()) allowed = allowed || a == text;
        if (!allowed) {
          return Problem(path, QuoteForMessage(text) + " is not one of " +
                                   JoinAllowed(key.allowed()) + DidYouMean(text, key.allowed()));
        }
      }
      out.text = std::move(text);
      break;
    }
    case ConfigType::kInteger: {
      const std::string range =
          std::to_string(key.int_min()) + ".." + std::to_string(key.int_max());
      if (json.IsInt64()) {
        const std::int64_t v = json.GetInt64();
        if (v < key.int_min() || v > key.int_max()) {
          return Problem(path, std::to_string(v) + " is out of range " + range);
        }
        out.integer = v;
      } else if (json.IsUint64()) {
        return Problem(path, std::to_string(json.GetUint64()) + " is out of range " + range);
      } else {
        return Problem(path, type_problem);
      }
      break;
    }
    case ConfigType::kNumber: {
      if (!json.IsNumber()) return Problem(path, type_problem);
      const double v = json.GetDouble();
      if (v < key.number_min() || v > key.number_max()) {
        return Problem(path, FormatNumber(v) + " is out of range " +
                                 FormatNumber(key.number_min()) + ".." +
                                 FormatNumber(key.number_max()));
      }
      out.number = v;
      break;
    }
    case ConfigType::kBoolean:
      if (!json.IsBool()) return Problem(path, type_problem);
      out.boolean = json.GetBool();
      break;
    default:
      return Problem(path, "unsupported type in schema (a bug in config_schema.cpp)");
  }
  out.present = true;
}

void ConfigLoader::ReadStringList(const rapidjson::Value& json, const std::string& path,
                                  ConfigNode::Value& out) {
  bool ok = true;
  out.list.clear();
  for (rapidjson::SizeType i = 0; i < json.Size(); ++i) {
    const rapidjson::Value& item = json[i];
    if (!item.IsString()) {
      Problem(path + "[" + std::to_string(i) + "]",
              std::string("expected a string, got ") + JsonTypeName(item));
      ok = false;
      continue;
    }
    out.list.emplace_back(item.GetString(), item.GetStringLength());
  }
  out.present = ok;
}

void ConfigLoader::ReadStringMap(const rapidjson::Value& json, const std::string& path,
                                 ConfigNode::Value& out) {
  bool ok = true;
  out.map.clear();
  for (auto m = json.MemberBegin(); m != json.MemberEnd(); ++m) {
    std::string name(m->name.GetString(), m->name.GetStringLength());
    const std::string entry = path + "[" + QuoteForMessage(name) + "]";
    if (!m->value.IsString()) {
      Problem(entry, std::string("expected a string, got ") + JsonTypeName(m->value));
      ok = false;
      continue;
    }
    std::string value(m->value.GetString(), m->value.GetStringLength());
    if (!out.map.emplace(std::move(name), std::move(value)).second) {
      Problem(entry, "key given twice (the later one would silently win)");
      ok = false;
    }
  }
  out.present = ok;
}

void ConfigLoader::ReadObjectArray(const ConfigKey& key, const rapidjson::Value& json,
                                   const std::string& path, ConfigNode::Value& out) {
  const std::string element_schema = key.path() + "[]";
  out.nodes.clear();
  for (rapidjson::SizeType i = 0; i < json.Size(); ++i) {
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    const rapidjson::Value& item = json[i];
    if (!item.IsObject()) {
      Problem(element_path, std::string("expected an object, got ") + JsonTypeName(item));
      continue;
    }
    ConfigNode& node = out.nodes.emplace_back();
    node.path_ = element_path;
    BuildObject(&item, element_schema, node);
  }
  out.present = true;
  CheckUnique(key, out);
}

void ConfigLoader::CheckUnique(const ConfigKey& array_key, const ConfigNode::Value& array) {
  for (const ConfigKey* key : schema_.ChildrenOf(array_key.path() + "[]")) {
    if (!key->unique_in_array()) continue;
    std::map<std::string, const ConfigNode*, std::less<>> first;
    for (const ConfigNode& element : array.nodes) {
      auto it = element.values_.find(key->name());
      if (it == element.values_.end() || !it->second.present) continue;
      auto [at, inserted] = first.emplace(it->second.text, &element);
      if (!inserted) {
        Problem(JoinPath(element.path_, key->name()),
                QuoteForMessage(it->second.text) + " is also the " + std::string(key->name()) +
                    " of " + at->second->path_);
      }
    }
  }
}

void ConfigLoader::RunChecks(const ConfigNode& root, const ConfigNode& node,
                             std::string_view schema_path) {
  for (const ConfigKey* key : schema_.ChildrenOf(schema_path)) {
    auto it = node.values_.find(key->name());
    if (it == node.values_.end()) continue;
    const ConfigNode::Value& value = it->second;
    if (value.present) {
      for (const ConfigValidator& validator : key->validators()) {
        ConfigCheckContext context(root, node, it->first, problems_);
        validator(context);
      }
    }
    if (key->type() == ConfigType::kObject && !value.nodes.empty()) {
      RunChecks(root, value.nodes[0], key->path());
    } else if (key->type() == ConfigType::kObjectArray) {
      const std::string element_schema = key->path() + "[]";
      for (const ConfigNode& element : value.nodes) RunChecks(root, element, element_schema);
    }
  }
}

Result<Config> ConfigLoader::Load(std::string_view json_text, const ConfigSchema& schema,
                                  std::string_view origin) {
  const std::string prefix = origin.empty() ? std::string() : std::string(origin) + ":";
  rapidjson::Document doc;
  // Iterative parsing: a deeply nested file cannot exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      json_text.data(), json_text.size());
  if (doc.HasParseError()) {
    const auto [line, column] = LineAndColumn(json_text, doc.GetErrorOffset());
    return Status::InvalidArgument(
        prefix + std::to_string(line) + ":" + std::to_string(column) +
        ": JSON syntax error: " + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  std::vector<std::string> problems;
  Config config;
  config.origin_ = std::string(origin);
  if (!doc.IsObject()) {
    problems.push_back(std::string("(top level): expected an object, got ") + JsonTypeName(doc));
  } else {
    ConfigLoader loader(schema, problems);
    loader.BuildObject(&doc, "", config.root_);
    loader.RunChecks(config.root_, config.root_, "");
  }
  if (problems.empty()) return config;
  std::string message;
  for (const std::string& p : problems) {
    if (!message.empty()) message += '\n';
    if (!prefix.empty()) message += prefix + " ";
    message += p;
  }
  return Status::InvalidArgument(std::move(message));
}

Result<Config> LoadConfig(std::string_view json_text, const ConfigSchema& schema,
                          std::string_view origin) {
  // The boundary of RapidJSON and of the schema's validators: nothing thrown gets past here.
  try {
    return ConfigLoader::Load(json_text, schema, origin);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory while reading the configuration");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("configuration check failed: ") + e.what());
  }
}

Result<Config> LoadConfigFile(const std::string& path, const ConfigSchema& schema) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileBytes) {
      return Status::InvalidArgument(path + ": larger than " + std::to_string(kMaxConfigFileBytes) +
                                     " bytes; not a configuration file");
    }
  }
  if (in.bad()) return Status::Unavailable("error reading " + path);
  return LoadConfig(text, schema, path);
}

void ConfigLoader::CheckDefault(const ConfigSchema& schema, const ConfigKey& key,
                                std::vector<std::string>& problems) {
  rapidjson::Document doc;
  doc.Parse(key.default_json().data(), key.default_json().size());
  if (doc.HasParseError()) {
    problems.push_back(key.path() + ": default is not JSON");
    return;
  }
  ConfigLoader loader(schema, problems);
  ConfigNode::Value value;
  loader.ReadValue(key, doc, key.path() + " (default)", value);
}

Status ConfigSchema::SelfCheck() const {
  std::vector<std::string> problems;
  std::set<std::string, std::less<>> seen;
  for (const ConfigKey& key : keys_) {
    const std::string& path = key.path();
    auto problem = [&](std::string_view what) {
      problems.push_back(path + ": " + std::string(what));
    };
    if (!seen.insert(path).second) problem("declared twice");
    for (char c : key.name()) {
      // Upper case only where the domain spells it so (status_for_R names OBX-11 "R").
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_')) {
        problem("key names are [A-Za-z0-9_]");
        break;
      }
    }
    const std::string_view parent = key.parent_path();
    if (!parent.empty()) {
      const bool element = parent.size() > 2 && parent.substr(parent.size() - 2) == "[]";
      const ConfigKey* holder = Find(element ? parent.substr(0, parent.size() - 2) : parent);
      const ConfigType wanted = element ? ConfigType::kObjectArray : ConfigType::kObject;
      if (holder == nullptr || holder->type() != wanted) {
        problem("its parent is not declared as " + std::string(ConfigTypeName(wanted)));
      }
      if (key.unique_in_array() && !element) problem("unique, but not inside an array");
    }
    if (key.help().empty() || key.help().back() != '.') problem("help must be a sentence");
    if (key.type() == ConfigType::kInteger && key.int_min() > key.int_max()) problem("min > max");
    if (key.type() == ConfigType::kNumber && key.number_min() > key.number_max()) {
      problem("min > max");
    }
    if (key.type() == ConfigType::kEnum && key.allowed().empty()) problem("no allowed values");
    if (key.required() && !key.default_json().empty()) problem("both required and defaulted");
    if (key.unique_in_array() && key.type() != ConfigType::kString &&
        key.type() != ConfigType::kEnum) {
      problem("only string keys can be unique");
    }
    if (!key.default_json().empty()) ConfigLoader::CheckDefault(*this, key, problems);
  }
  if (problems.empty()) return Status::Ok();
  std::string message = "configuration schema:";
  for (const std::string& p : problems) message += "\n" + p;
  return Status::Internal(std::move(message));
}

}  // namespace fhirbridge
