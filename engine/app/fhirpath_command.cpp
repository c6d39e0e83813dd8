// fhirbridge fhirpath [--input FILE] [--] EXPRESSION: evaluates a FHIRPath expression against a
// FHIR resource (JSON or XML) and prints the result collection as JSON.

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/app/commands.h"
#include "fhir-profiles/fhirpath/expression.h"
#include "fhir-profiles/fhirpath/fhir_xml.h"
#include "fhir-profiles/fhirpath/output.h"

namespace fhirbridge::app {

namespace {

constexpr const char* kFhirpathUsage =
    "usage: fhirbridge fhirpath [--input FILE|-] [--allow-unordered] [--] EXPRESSION\n";

// Reads FHIR JSON or XML (by its first non-blank character) into `doc`.
Status LoadResource(const std::string& path, std::istream& in, rapidjson::Document& doc) {
  std::stringstream text;
  if (path == "-") {
    text << in.rdbuf();
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) return Status::NotFound("cannot read " + path);
    text << file.rdbuf();
  }
  const std::string content = text.str();
  size_t first = content.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string::npos && content[first] == '<') {
    return fhirpath::FhirXmlToJson(content, doc);
  }
  return fhirpath::ParseFhirJson(content, doc);
}

}  // namespace

int RunFhirpath(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                std::ostream& err) {
  std::string input_path;
  std::string expression;
  bool have_expression = false;
  // Strict by default: order-dependent functions on children()/descendants() are errors.
  bool check_order = true;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      if (i + 2 != args.size()) {
        err << kFhirpathUsage;
        return 2;
      }
      expression = args[i + 1];
      have_expression = true;
      break;
    }
    if (a == "--input" && i + 1 < args.size()) {
      input_path = args[++i];
    } else if (a == "--allow-unordered") {
      check_order = false;
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      err << "fhirbridge fhirpath: unknown option " << a << "\n" << kFhirpathUsage;
      return 2;
    } else if (!have_expression) {
      expression = a;
      have_expression = true;
    } else {
      err << kFhirpathUsage;
      return 2;
    }
  }
  if (!have_expression) {
    err << kFhirpathUsage;
    return 2;
  }
  rapidjson::Document doc;
  fhirpath::ParseOptions options;
  options.check_ordered_functions = check_order;
  fhirpath::Subject subject;
  if (!input_path.empty()) {
    Status loaded = LoadResource(input_path, in, doc);
    if (!loaded.ok()) {
      err << "fhirbridge fhirpath: " << input_path << ": " << loaded.message() << "\n";
      return 1;
    }
    subject.resource = &doc;
    if (const fhirpath::TypeInfo* type = fhirpath::ResourceType(doc))
      options.context_type = type->name;
  }
  Result<fhirpath::Expression> parsed = fhirpath::Expression::Parse(expression, options);
  if (!parsed.ok()) {
    err << "fhirbridge fhirpath: invalid expression: " << parsed.status().message() << "\n";
    return 2;
  }
  // trace() goes to stderr only: stdout carries just the result.
  subject.trace = [&err](std::string_view name, const fhirpath::Collection& items) {
    err << "trace " << name << ": " << fhirpath::CollectionToJson(items) << "\n";
  };
  Result<fhirpath::Collection> result = parsed->Evaluate(subject);
  if (!result.ok()) {
    err << "fhirbridge fhirpath: evaluation error: " << result.status().message() << "\n";
    return 2;
  }
  out << fhirpath::CollectionToJson(*result) << "\n";
  return 0;
}

}  // namespace fhirbridge::app
