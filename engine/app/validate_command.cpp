// fhirbridge validate [--load FILE]... [--profile URL]... FILE|-
// FHIR JSON or XML in, an OperationOutcome out; exit 0 when no issue is an error or fatal.

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "engine/app/commands.h"
#include "fhir-profiles/validator/validator.h"
#include "fhir-profiles/validator/xml_reader.h"

namespace fhirbridge::app {

namespace {

constexpr const char* kValidateUsage =
    "usage: fhirbridge validate [--load FILE]... [--profile URL]... [--security-checks] FILE|-\n";
constexpr std::size_t kMaxInputBytes = 64u << 20;  // one resource or Bundle to validate

struct ValidateArgs {
  std::vector<std::string> loads;
  std::vector<std::string> profiles;
  bool security_checks = false;
  std::string input;
};

std::string ParseValidateArgs(const std::vector<std::string>& args, ValidateArgs& out) {
  bool have_input = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--load" || a == "--profile") {
      if (i + 1 >= args.size()) return a + " needs a value";
      (a == "--load" ? out.loads : out.profiles).push_back(args[++i]);
    } else if (a == "--security-checks") {
      out.security_checks = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return "unknown option " + a;
    } else if (have_input) {
      return "more than one input file";
    } else {
      out.input = a;
      have_input = true;
    }
  }
  if (!have_input) return "no input (FILE or - for standard input)";
  return {};
}

Result<std::string> ReadAll(const std::string& name, std::istream& in) {
  std::string text;
  if (name == "-") {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    std::ifstream f(name, std::ios::binary);
    if (!f) return Status::NotFound("cannot open " + name);
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  if (text.size() > kMaxInputBytes)
    return Status::ResourceExhausted(name + " is larger than " + std::to_string(kMaxInputBytes) +
                                     " bytes");
  return text;
}

// XML when the first non-blank character (after a UTF-8 BOM) is '<'.
bool LooksLikeXml(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '<';
}

}  // namespace

int RunValidate(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                std::ostream& err) {
  ValidateArgs parsed;
  std::string problem = ParseValidateArgs(args, parsed);
  if (!problem.empty()) {
    err << "fhirbridge validate: " << problem << "\n" << kValidateUsage;
    return 2;
  }
  Result<std::unique_ptr<validator::Definitions>> defs = validator::Definitions::Embedded();
  if (!defs.ok()) {
    err << "fhirbridge validate: " << defs.status().message() << "\n";
    return 2;
  }
  // XML conformance resources are read with the structures of the base definitions.
  std::unique_ptr<validator::Validator> reader;
  for (const std::string& file : parsed.loads) {
    Result<std::string> text = ReadAll(file, in);
    if (text.ok() && LooksLikeXml(*text)) {
      if (!reader) {
        auto base = validator::Definitions::Embedded();
        auto created = base.ok() ? validator::Validator::Create(std::move(*base))
                                 : Result<std::unique_ptr<validator::Validator>>(base.status());
        if (!created.ok()) {
          err << "fhirbridge validate: " << created.status().message() << "\n";
          return 2;
        }
        reader = std::move(*created);
      }
      text = validator::ToJsonText(*text, *reader);
    }
    Status s = text.ok() ? (*defs)->AddJson(*text, file) : text.status();
    if (!s.ok()) {
      err << "fhirbridge validate: --load " << s.message() << "\n";
      return 2;
    }
  }
  Result<std::unique_ptr<validator::Validator>> v = validator::Validator::Create(std::move(*defs));
  if (!v.ok()) {
    err << "fhirbridge validate: " << v.status().message() << "\n";
    return 2;
  }
  for (const std::string& url : parsed.profiles) {
    if ((*v)->ForUrl(url) == nullptr) {
      err << "fhirbridge validate: unknown profile " << url << " (load it with --load)\n";
      return 2;
    }
  }
  Result<std::string> text = ReadAll(parsed.input, in);
  if (!text.ok()) {
    err << "fhirbridge validate: " << text.status().message() << "\n";
    return 2;
  }
  validator::ValidationOptions options;
  options.profiles = parsed.profiles;
  options.security_checks = parsed.security_checks;
  validator::Outcome outcome =
      LooksLikeXml(*text) ? (*v)->ValidateXml(*text, options) : (*v)->ValidateJson(*text, options);
  out << outcome.ToJson() << "\n";
  return outcome.HasErrors() ? 1 : 0;
}

}  // namespace fhirbridge::app
