// Local ValueSet expansion (FHIR R4 §4.9.5 ValueSet.compose): what can be expanded from the
// loaded CodeSystems is; a ValueSet that draws on a code system we do not hold (LOINC, SNOMED CT)
// is marked incomplete, and the validator then does not reject codes it cannot judge.

#include <functional>

#include "fhir-profiles/validator/definitions.h"

namespace fhirbridge::validator {

namespace {

constexpr std::string_view kUcum = "http://unitsofmeasure.org";
constexpr int kMaxImportDepth = 8;  // ValueSets importing ValueSets: bounded, cycles end here

std::string_view Str(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

const rapidjson::Value* Array(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

void AddCode(CodeSet& set, std::string_view system, std::string_view code) {
  std::string key;
  key.append(system).append(1, '|').append(code);
  set.codes.insert(std::move(key));
  set.bare.insert(std::string(code));
}

// Codes of a CodeSystem's concept tree; with `root` set, only that code and its descendants.
void CollectConcepts(const rapidjson::Value& concepts, std::string_view root, bool inside,
                     std::vector<std::string_view>& out) {
  for (const auto& c : concepts.GetArray()) {
    std::string_view code = Str(c, "code");
    bool in = inside || root.empty() || code == root;
    if (in) out.push_back(code);
    if (const rapidjson::Value* sub = Array(c, "concept")) CollectConcepts(*sub, root, in, out);
  }
}

}  // namespace

std::unique_ptr<CodeSet> Definitions::Expand(const rapidjson::Value& vs) const {
  auto set = std::make_unique<CodeSet>();
  set->url = std::string(Str(vs, "url"));
  set->version = std::string(Str(vs, "version"));
  set->name = std::string(Str(vs, "name"));
  set->complete = true;
  auto exp = vs.FindMember("expansion");
  if (exp != vs.MemberEnd()) {
    if (const rapidjson::Value* contains = Array(exp->value, "contains")) {
      for (const auto& c : contains->GetArray()) AddCode(*set, Str(c, "system"), Str(c, "code"));
    }
    return set;
  }
  std::function<void(const rapidjson::Value&, int)> include;
  include = [&](const rapidjson::Value& inc, int depth) {
    std::string_view system = Str(inc, "system");
    if (!system.empty()) {
      if (const rapidjson::Value* concepts = Array(inc, "concept")) {
        for (const auto& c : concepts->GetArray()) AddCode(*set, system, Str(c, "code"));
      } else if (system == kUcum) {
        set->any_ucum = true;
      } else if (const rapidjson::Value* cs = CodeSystem(system)) {
        const rapidjson::Value* tree = Array(*cs, "concept");
        std::string_view root;
        if (const rapidjson::Value* filters = Array(inc, "filter")) {
          for (const auto& f : filters->GetArray()) {
            if (Str(f, "op") == "is-a" || Str(f, "op") == "descendent-of") {
              root = Str(f, "value");
            } else {
              set->complete = false;
            }
          }
        }
        if (Str(*cs, "content") != "complete" && Str(*cs, "content") != "") set->complete = false;
        std::vector<std::string_view> codes;
        if (tree) CollectConcepts(*tree, root, false, codes);
        for (std::string_view c : codes) AddCode(*set, system, c);
      } else {
        set->complete = false;
      }
    }
    if (const rapidjson::Value* imports = Array(inc, "valueSet")) {
      for (const auto& v : imports->GetArray()) {
        if (!v.IsString() || depth >= kMaxImportDepth) {
          set->complete = false;
          continue;
        }
        auto it = value_sets_.find(std::string(CanonicalWithoutVersion(v.GetString())));
        if (it == value_sets_.end()) {
          set->complete = false;
          continue;
        }
        const rapidjson::Value& other = *it->second;
        auto oexp = other.FindMember("expansion");
        if (oexp != other.MemberEnd()) {
          if (const rapidjson::Value* contains = Array(oexp->value, "contains"))
            for (const auto& c : contains->GetArray())
              AddCode(*set, Str(c, "system"), Str(c, "code"));
        } else if (auto comp = other.FindMember("compose"); comp != other.MemberEnd()) {
          if (const rapidjson::Value* incs = Array(comp->value, "include"))
            for (const auto& i : incs->GetArray()) include(i, depth + 1);
        }
      }
    }
  };
  auto compose = vs.FindMember("compose");
  if (compose == vs.MemberEnd()) {
    set->complete = false;
    return set;
  }
  if (const rapidjson::Value* incs = Array(compose->value, "include"))
    for (const auto& i : incs->GetArray()) include(i, 0);
  if (const rapidjson::Value* excs = Array(compose->value, "exclude")) {
    for (const auto& e : excs->GetArray()) {
      std::string_view system = Str(e, "system");
      if (const rapidjson::Value* concepts = Array(e, "concept")) {
        for (const auto& c : concepts->GetArray()) {
          std::string key;
          key.append(system).append(1, '|').append(Str(c, "code"));
          set->codes.erase(key);
          set->bare.erase(std::string(Str(c, "code")));
        }
      }
    }
  }
  return set;
}

}  // namespace fhirbridge::validator
