#include "conformance/fhirpath/fhirpath_suite.h"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <pugixml.hpp>

#include "fhir-profiles/fhirpath/expression.h"
#include "fhir-profiles/fhirpath/fhir_xml.h"
#include "fhir-profiles/fhirpath/output.h"

namespace fhirbridge::conformance {

namespace {

using fhirpath::Collection;
using fhirpath::Item;

struct Expected {
  std::string type;  ///< empty: the suite gives no type
  std::string value;
};

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The parsed inputs, each read once.
class Inputs {
 public:
  explicit Inputs(std::string dir) : dir_(std::move(dir)) {}

  const rapidjson::Document* Get(const std::string& name, std::string& error) {
    auto it = docs_.find(name);
    if (it != docs_.end()) return it->second.get();
    auto doc = std::make_unique<rapidjson::Document>();
    std::optional<std::string> text = ReadFile(dir_ + "/input/" + name);
    std::string stem = name.substr(0, name.rfind('.'));
    if (!text) text = ReadFile(dir_ + "/input-json-from-fhirpathjs/" + stem + ".json");
    if (!text) {
      error = "cannot read input " + name;
      return nullptr;
    }
    Status s = text->find_first_not_of(" \t\r\n\xEF\xBB\xBF") != std::string::npos &&
                       (*text)[text->find_first_not_of(" \t\r\n\xEF\xBB\xBF")] == '<'
                   ? fhirpath::FhirXmlToJson(*text, *doc)
                   : fhirpath::ParseFhirJson(*text, *doc);
    if (!s.ok()) {
      error = name + ": " + s.message();
      return nullptr;
    }
    return (docs_[name] = std::move(doc)).get();
  }

 private:
  std::string dir_;
  std::map<std::string, std::unique_ptr<rapidjson::Document>> docs_;
};

std::string Describe(const std::vector<Expected>& expected) {
  std::string out = "[";
  for (size_t i = 0; i < expected.size(); ++i) {
    if (i > 0) out += ", ";
    out += (expected[i].type.empty() ? "?" : expected[i].type) + " " + expected[i].value;
  }
  return out + "]";
}

bool ItemMatches(const Item& item, const Expected& e) {
  if (!e.type.empty() && fhirpath::TypeName(item) != e.type) return false;
  return fhirpath::OutputForm(item) == e.value;
}

bool Matches(const Collection& got, const std::vector<Expected>& expected, bool ordered) {
  if (got.size() != expected.size()) return false;
  if (ordered) {
    for (size_t i = 0; i < got.size(); ++i) {
      if (!ItemMatches(got[i], expected[i])) return false;
    }
    return true;
  }
  std::vector<bool> used(expected.size(), false);
  for (const Item& item : got) {
    bool found = false;
    for (size_t j = 0; j < expected.size() && !found; ++j) {
      if (!used[j] && ItemMatches(item, expected[j])) used[j] = found = true;
    }
    if (!found) return false;
  }
  return true;
}

// A predicate test reads the result as a Boolean: empty is false, one Boolean is itself,
// anything else is true.
Collection AsPredicate(const Collection& r) {
  bool value = !r.empty();
  if (r.size() == 1) {
    std::optional<Item> v = fhirpath::ToSystem(r[0]);
    if (v && v->kind() == fhirpath::ItemKind::kBoolean) value = v->boolean();
  }
  return Collection{Item::Boolean(value)};
}

FhirpathTestResult RunTest(const pugi::xml_node& test, const std::string& group, Inputs& inputs) {
  FhirpathTestResult r;
  r.group = group;
  r.name = test.attribute("name").value();
  pugi::xml_node expr = test.child("expression");
  r.expression = expr.text().get();
  const std::string invalid = expr.attribute("invalid").value();
  std::vector<Expected> expected;
  for (pugi::xml_node o : test.children("output")) {
    expected.push_back({o.attribute("type").value(), o.text().get()});
  }
  r.expected = invalid.empty() ? Describe(expected) : "error (" + invalid + ")";

  const rapidjson::Document* doc = nullptr;
  const std::string input = test.attribute("inputfile").value();
  if (!input.empty()) {
    std::string error;
    doc = inputs.Get(input, error);
    if (doc == nullptr) {
      r.actual = error;
      return r;
    }
  }
  fhirpath::ParseOptions options;
  if (doc != nullptr) {
    if (const fhirpath::TypeInfo* t = fhirpath::ResourceType(*doc)) options.context_type = t->name;
  }
  options.check_ordered_functions = test.attribute("checkOrderedFunctions").as_bool(false);
  Result<fhirpath::Expression> parsed = fhirpath::Expression::Parse(r.expression, options);
  Result<Collection> result =
      parsed.ok() ? parsed->Evaluate(fhirpath::Subject(doc)) : Result<Collection>(parsed.status());
  if (!result.ok()) {
    r.actual = "error: " + result.status().message();
    r.passed = !invalid.empty();
    return r;
  }
  Collection got = test.attribute("predicate").as_bool(false) ? AsPredicate(*result) : *result;
  r.actual = fhirpath::CollectionToJson(got);
  r.passed = invalid.empty() &&
             Matches(got, expected, std::string(test.attribute("ordered").value()) != "false");
  return r;
}

}  // namespace

Result<std::vector<FhirpathTestResult>> RunFhirpathSuite(const std::string& suite_dir) {
  pugi::xml_document doc;
  const std::string path = suite_dir + "/tests-fhir-r4.xml";
  pugi::xml_parse_result parsed = doc.load_file(path.c_str());
  if (!parsed) return Status::NotFound("cannot read " + path + ": " + parsed.description());
  Inputs inputs(suite_dir);
  std::vector<FhirpathTestResult> results;
  for (pugi::xml_node group : doc.child("tests").children("group")) {
    for (pugi::xml_node test : group.children("test")) {
      results.push_back(RunTest(test, group.attribute("name").value(), inputs));
    }
  }
  return results;
}

}  // namespace fhirbridge::conformance
