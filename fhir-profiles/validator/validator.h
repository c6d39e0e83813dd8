#pragma once

// The FHIR R4 profile validator: checks a resource against the base definition of its type, the
// profiles it claims (meta.profile) and the profiles the caller names, and reports every problem
// as an OperationOutcome issue (severity, code, expression, text).
//
// Build one Validator per set of definitions (it compiles every base type up front, profiles on
// first use) and share it: Validate() is const and thread-safe.
//
//   auto defs = Definitions::Embedded();              // R4 + vital signs + our profiles
//   auto validator = Validator::Create(std::move(*defs));
//   Outcome out = (*validator)->Validate(resource_json, {});
//   if (out.HasErrors()) ... out.ToJson() ...

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rapidjson/document.h>

#include "fhir-profiles/validator/definitions.h"
#include "fhir-profiles/validator/structure.h"
#include "fhirbridge/issue.h"
#include "fhirbridge/result.h"

namespace fhirbridge::validator {

/// Evaluates the FHIRPath invariants (ElementDefinition.constraint) the structure walk does not
/// check itself. The FHIRPath engine (fhir-profiles/fhirpath) provides the implementation.
class InvariantEngine {
 public:
  virtual ~InvariantEngine() = default;
  /// True when `invariant` holds on `node` (the element it is declared on) inside `resource`
  /// (the nearest resource) and `root` (the outermost resource, e.g. the Bundle); `node_type` is
  /// the FHIR type of `node` ("Period", or a path such as "Observation.component"); an error when
  /// the expression cannot be evaluated. Must be thread-safe.
  virtual Result<bool> Holds(const Invariant& invariant, const rapidjson::Value& node,
                             std::string_view node_type, const rapidjson::Value& resource,
                             const rapidjson::Value& root) const = 0;
};

struct ValidationOptions {
  std::vector<std::string> profiles;  ///< canonical URLs to validate against, besides meta.profile
  bool security_checks = false;       ///< reject HTML-like markup in strings
  /// Trust that a relative reference (Patient/1) names a resource of that type and check it
  /// against the allowed target types; off: only resolved references are checked.
  bool assume_valid_rest_references = false;
  /// FHIR R4 §8.1.0.1: an Observation whose code is a vital sign (LOINC 8867-4, ...) is also
  /// checked against that vital-signs profile, even when it does not claim it.
  bool vital_signs_by_code = true;
  std::size_t max_depth = 64;     ///< nesting limit (elements and contained resources)
  std::size_t max_issues = 1000;  ///< stop reporting after this many issues
};

/// The result of validating one resource.
struct Outcome {
  DataIssues issues;

  /// True when an issue is an error or fatal.
  bool HasErrors() const;
  std::size_t ErrorCount() const;
  /// The issues as a FHIR OperationOutcome (an "All OK" information issue when there is none).
  std::string ToJson() const;
};

class Validator {
 public:
  /// Compiles the base types of `defs`. Fails when the definitions are inconsistent.
  static Result<std::unique_ptr<Validator>> Create(std::unique_ptr<Definitions> defs);
  ~Validator();

  /// Uses `engine` for the FHIRPath invariants (not owned; must outlive the Validator); null:
  /// only the invariants the walk implements directly are checked. Create() sets the FHIRPath
  /// engine (fhirpath_invariants.h). Call before sharing.
  void SetInvariantEngine(const InvariantEngine* engine) { invariants_ = engine; }

  /// Validates a parsed resource (a Bundle's entries are validated entry by entry).
  Outcome Validate(const rapidjson::Value& resource, const ValidationOptions& options) const;
  /// Parses FHIR JSON and validates it; a syntax error is a fatal issue.
  Outcome ValidateJson(std::string_view json, const ValidationOptions& options) const;
  /// Parses FHIR XML (converted to the JSON form) and validates it.
  Outcome ValidateXml(std::string_view xml, const ValidationOptions& options) const;

  /// The compiled base definition of a type or resource, or null.
  const Structure* ForType(std::string_view type) const;
  /// The compiled StructureDefinition with this canonical URL (compiled on first use), or null.
  const Structure* ForUrl(std::string_view url) const;

  const Definitions& definitions() const { return *defs_; }
  const InvariantEngine* invariant_engine() const { return invariants_; }

  /// What is wrong with a Coding of this system and code against what is loaded (a ValueSet URL
  /// as system, a code a complete CodeSystem lacks, an invalid UCUM code), located relative to
  /// the Coding (".system", ".code"); none when nothing is. Worked out once per pair and kept
  /// (kCodingVerdicts pairs at most): devices send the same codes over and over. Thread-safe.
  std::optional<DataIssue> CheckCoding(std::string_view system, std::string_view code) const;
  static constexpr std::size_t kCodingVerdicts = 65536;

 private:
  explicit Validator(std::unique_ptr<Definitions> defs);

  std::unique_ptr<Definitions> defs_;
  std::unordered_map<std::string, std::unique_ptr<Structure>> types_;  // read-only after Create
  std::unordered_map<const rapidjson::Value*, const Structure*> by_definition_;  // the same
  mutable std::mutex profiles_mutex_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  mutable std::unordered_map<std::string, std::unique_ptr<Structure>, Hash, std::equal_to<>>
      profiles_;
  // Canonical URL (with and without |version) -> compiled base definition, for ForUrl.
  std::unordered_map<std::string, const Structure*, Hash, std::equal_to<>> base_urls_;
  const InvariantEngine* invariants_ = nullptr;
  std::optional<DataIssue> CodingIssue(std::string_view system, std::string_view code) const;
  mutable std::shared_mutex coding_mutex_;
  mutable std::unordered_map<std::string, std::optional<DataIssue>, Hash, std::equal_to<>>
      coding_verdicts_;
};

}  // namespace fhirbridge::validator
