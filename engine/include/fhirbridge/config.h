#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge {

/// What a configuration key holds. Validation, defaults and docs/configuration.md are all driven by
/// it.
enum class ConfigType {
  kString,       ///< any JSON string
  kSecretPath,   ///< a string naming a file that holds a secret; the secret itself is never inline
  kInteger,      ///< a JSON integer within [min, max]
  kNumber,       ///< any JSON number within [min, max]
  kBoolean,      ///< true / false
  kEnum,         ///< one string of a fixed set
  kStringList,   ///< array of strings
  kStringMap,    ///< object of string → string (keys are data, e.g. assigning-authority names)
  kObject,       ///< object whose keys are declared in the schema
  kObjectArray,  ///< array of objects whose keys are declared under `path[]`
};

/// "string", "integer", ... as used in messages and docs.
std::string_view ConfigTypeName(ConfigType type);

class ConfigNode;
class ConfigCheckContext;

/// A custom check on one key, run after the whole file has been read and typed (so it may look at
/// other keys through ConfigCheckContext::root(), e.g. for cross references). Reports through the
/// context; a check that reports nothing passed.
using ConfigValidator = std::function<void(ConfigCheckContext&)>;

/// One declared key: its path, type, default, bounds and help. Built fluently:
///   ConfigKey::Integer("sources[].limits.max_segments", 1, 1000000, "Most segments ...")
///       .DefaultInt(10000)
/// Paths are dot-separated; `name[]` marks the elements of an array of objects.
class ConfigKey {
 public:
  static ConfigKey String(std::string path, std::string help);
  static ConfigKey SecretPath(std::string path, std::string help);
  static ConfigKey Integer(std::string path, std::int64_t min, std::int64_t max, std::string help);
  static ConfigKey Number(std::string path, double min, double max, std::string help);
  static ConfigKey Boolean(std::string path, std::string help);
  static ConfigKey Enum(std::string path, std::vector<std::string> allowed, std::string help);
  static ConfigKey StringList(std::string path, std::string help);
  static ConfigKey StringMap(std::string path, std::string help);
  static ConfigKey Object(std::string path, std::string help);
  static ConfigKey ObjectArray(std::string path, std::string help);

  /// Defaults, given as the value they stand for; stored as JSON text so that the loader reads
  /// them exactly as it reads the file (ConfigSchema::SelfCheck proves each one valid).
  ConfigKey& Default(std::string value);  ///< string, secret path and enum keys
  ConfigKey& DefaultInt(std::int64_t value);
  ConfigKey& DefaultNumber(double value);
  ConfigKey& DefaultBool(bool value);
  ConfigKey& DefaultJson(std::string json);  ///< lists and maps, e.g. "[]"
  ConfigKey& Required();                     ///< must be present in its object
  ConfigKey& UniqueInArray();  ///< string key: no two elements of the enclosing array share a value
  ConfigKey& Check(ConfigValidator validator);  ///< custom check; several may be added

  const std::string& path() const { return path_; }
  ConfigType type() const { return type_; }
  const std::string& help() const { return help_; }
  const std::string& default_json() const { return default_json_; }  ///< empty: no default
  bool required() const { return required_; }
  bool unique_in_array() const { return unique_; }
  std::int64_t int_min() const { return int_min_; }
  std::int64_t int_max() const { return int_max_; }
  double number_min() const { return number_min_; }
  double number_max() const { return number_max_; }
  const std::vector<std::string>& allowed() const { return allowed_; }
  const std::vector<ConfigValidator>& validators() const { return validators_; }

  /// The last path segment without `[]`: "cert" for "sources[].tls.cert".
  std::string_view name() const;
  /// The path of the object holding this key: "sources[].tls" for "sources[].tls.cert", "" at top.
  std::string_view parent_path() const;

 private:
  ConfigKey(std::string path, ConfigType type, std::string help);

  std::string path_;
  ConfigType type_;
  std::string help_;
  std::string default_json_;
  bool required_ = false;
  bool unique_ = false;
  std::int64_t int_min_ = 0;
  std::int64_t int_max_ = 0;
  double number_min_ = 0;
  double number_max_ = 0;
  std::vector<std::string> allowed_;
  std::vector<ConfigValidator> validators_;
};

/// The one table of every configuration key. Validation (LoadConfig), defaults and
/// docs/configuration.md (Markdown) all come from it, so they cannot disagree.
class ConfigSchema {
 public:
  /// `intro_markdown` is the paragraph under the page title of Markdown().
  explicit ConfigSchema(std::string intro_markdown = "");

  ConfigSchema& Add(ConfigKey key);

  const std::vector<ConfigKey>& keys() const { return keys_; }
  const ConfigKey* Find(std::string_view path) const;  ///< null when not declared
  /// The keys declared directly inside the object at `object_path` ("" for the top level,
  /// "sources[]" for an element of sources), in declaration order.
  std::vector<const ConfigKey*> ChildrenOf(std::string_view object_path) const;

  /// Checks the table itself: well-formed unique paths, declared parents, help present, bounds
  /// ordered, and every default valid for its key. A failure is a bug in the table.
  Status SelfCheck() const;

  /// docs/configuration.md: the intro, then one section per top-level key with a table
  /// key | type | default | help.
  std::string Markdown() const;

 private:
  std::string intro_;
  std::vector<ConfigKey> keys_;
};

/// A JSON object of a validated configuration, with every declared key present: given in the file,
/// filled from its default, or absent (Has() false; readers then get an empty value). Keys may be
/// dotted paths into nested objects: `root.GetString("store.path")`.
/// Reading a key the schema does not declare at that place, or with the wrong type, is a bug in
/// the caller and aborts: the file was validated against the schema, so it cannot be the user's.
class ConfigNode {
 public:
  /// Where this object sits: "" for the top level, "sources[1]", "sources[1].tls".
  const std::string& path() const { return path_; }

  /// True when the key was given in the file or has a default.
  bool Has(std::string_view key) const;

  const std::string& GetString(std::string_view key) const;  ///< string, secret path or enum
  std::int64_t GetInt(std::string_view key) const;
  double GetNumber(std::string_view key) const;  ///< number (or integer) keys
  bool GetBool(std::string_view key) const;
  const std::vector<std::string>& GetStringList(std::string_view key) const;
  const std::map<std::string, std::string, std::less<>>& GetStringMap(std::string_view key) const;
  /// A nested object; when it was not given, an object holding the defaults of its keys.
  const ConfigNode& Object(std::string_view key) const;
  /// The elements of an array of objects; empty when not given.
  const std::vector<ConfigNode>& Array(std::string_view key) const;

 private:
  friend class ConfigLoader;

  struct Value {
    ConfigType type = ConfigType::kString;
    bool present = false;
    std::string text;
    std::int64_t integer = 0;
    double number = 0;
    bool boolean = false;
    std::vector<std::string> list;
    std::map<std::string, std::string, std::less<>> map;
    std::vector<ConfigNode> nodes;  ///< an object: exactly one; an array: its elements
  };

  const Value& Lookup(std::string_view key) const;

  std::string path_;
  std::map<std::string, Value, std::less<>> values_;
};

/// A configuration that passed every check of its schema.
class Config {
 public:
  const ConfigNode& root() const { return root_; }
  const std::string& origin() const { return origin_; }  ///< file name given to LoadConfig

 private:
  friend class ConfigLoader;

  ConfigNode root_;
  std::string origin_;
};

/// What a ConfigValidator sees and reports to.
class ConfigCheckContext {
 public:
  ConfigCheckContext(const ConfigNode& root, const ConfigNode& parent, std::string_view key,
                     std::vector<std::string>& problems)
      : root_(root), parent_(parent), key_(key), problems_(problems) {}

  const ConfigNode& root() const { return root_; }      ///< the whole configuration
  const ConfigNode& parent() const { return parent_; }  ///< the object holding the key
  std::string_view key() const { return key_; }         ///< the key's name within parent()
  std::string path() const;                             ///< "sources[1].assume_timezone"

  /// Reports a problem with the key: "<path>: <what>". `what` must never quote a secret.
  void Problem(std::string_view what);
  /// Reports a problem below the key, e.g. suffix "[2]" gives "routes[0].from[2]: <what>".
  void ProblemAt(std::string_view suffix, std::string_view what);

 private:
  const ConfigNode& root_;
  const ConfigNode& parent_;
  std::string_view key_;
  std::vector<std::string>& problems_;
};

/// Parses `json_text` and checks it against `schema`, reporting every problem at once: JSON syntax
/// (with line:column), unknown keys (with a suggestion), wrong types, bounds, enum values, missing
/// required keys, duplicates, and the schema's custom checks. On failure the Status is
/// InvalidArgument with one "<origin>: <key path>: <problem>" per line. Secret values are never
/// quoted.
Result<Config> LoadConfig(std::string_view json_text, const ConfigSchema& schema,
                          std::string_view origin);

/// Reads the file at `path` and loads it as above, with `path` as the origin. NotFound when the
/// file cannot be read.
Result<Config> LoadConfigFile(const std::string& path, const ConfigSchema& schema);

/// The schema of fhirbridge's configuration file (engine/src/config_schema.cpp).
const ConfigSchema& DefaultConfigSchema();

/// The configuration `run` uses without --config: an MLLP source on 127.0.0.1:2575, the SQLite
/// store under var/, the admin API on 127.0.0.1:8080 and a file destination under var/outbox.
std::string_view EmbeddedDefaultConfig();

/// " (did you mean `x`?)" when one of `candidates` is a close misspelling of `word` (a small edit
/// distance, ignoring case), else "". For messages of loaders and validators.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

/// `text` as a JSON string literal, for quoting values in problems: "Amerca/New_York".
std::string QuoteForMessage(std::string_view text);

}  // namespace fhirbridge
