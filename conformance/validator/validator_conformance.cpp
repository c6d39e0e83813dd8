// Scores fhir-profiles/validator against the HL7 FHIR validator test cases (R4 subset in
// ../shared/data/fhir/validator-r4: the HL7 Java validator's expected OperationOutcomes).
//
//   validator_conformance [--data DIR] [--all] [--case NAME] [--verbose]
//                         [--min-verdict N] [--min-exact N]
//
// For every case (by default only those that need no FHIR package, terminology server or
// external profile) and every step (base; profile when the case has one), prints our error count
// next to the expected one, then the totals: verdict agreement (valid = no error/fatal issue)
// and exact error-count agreement, per case (a case agrees when all its steps agree). With
// --min-verdict / --min-exact it exits 1 when a total falls below the ratchet.

#include <rapidjson/document.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fhir-profiles/validator/validator.h"
#include "fhir-profiles/validator/xml_reader.h"

namespace fv = fhirbridge::validator;

namespace {

struct Args {
  std::string data = std::string(FHIRBRIDGE_SHARED_DIR) + "/data/fhir/validator-r4";
  bool all = false;
  bool verbose = false;
  std::string only;
  int min_verdict = -1;
  int min_exact = -1;
};

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// The expected error count of one step: an outcome file's error+fatal issues, or the legacy
// inline {"errorCount": n}. -1 when the expectation is missing.
int ExpectedErrors(const Args& args, const rapidjson::Value& java) {
  if (java.IsObject()) {
    auto it = java.FindMember("errorCount");
    return it != java.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : -1;
  }
  if (!java.IsString()) return -1;
  std::string text;
  if (!ReadFile(args.data + "/files/outcomes/" + java.GetString(), text)) return -1;
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  if (doc.HasParseError() || !doc.IsObject()) return -1;
  int n = 0;
  if (!doc.HasMember("issue")) return 0;  // an OperationOutcome without issues: all OK
  for (const auto& i : doc["issue"].GetArray()) {
    std::string s = Str(i, "severity");
    if (s == "error" || s == "fatal") ++n;
  }
  return n;
}

bool NeedsExternal(const rapidjson::Value& c) {
  if (c.HasMember("packages")) return true;
  if (Str(c, "module") == "tx") return true;
  auto p = c.FindMember("profile");
  if (p != c.MemberEnd() && p->value.IsObject()) {
    std::string src = Str(p->value, "source");
    if (src.rfind("http", 0) == 0) return true;
  }
  return false;
}

struct Score {
  int cases = 0, verdict = 0, exact = 0, unscored = 0;
};

// One case: load its conformance resources, run its steps, print a line per step.
void RunCase(const Args& args, const rapidjson::Value& c, const fv::Validator& reader,
             Score& score) {
  std::string name = Str(c, "name");
  std::vector<std::string> files;
  for (const char* key : {"supporting", "profiles"}) {
    auto it = c.FindMember(key);
    if (it != c.MemberEnd() && it->value.IsArray())
      for (const auto& f : it->value.GetArray()) files.push_back(f.GetString());
  }
  std::string profile_file;
  const rapidjson::Value* profile_java = nullptr;
  std::vector<std::string> profile_files;  // loaded for the profile step only
  if (auto p = c.FindMember("profile"); p != c.MemberEnd() && p->value.IsObject()) {
    profile_file = Str(p->value, "source");
    if (p->value.HasMember("java")) profile_java = &p->value["java"];
    files.push_back(profile_file);
    if (auto s = p->value.FindMember("supporting"); s != p->value.MemberEnd() && s->value.IsArray())
      for (const auto& f : s->value.GetArray()) profile_files.push_back(f.GetString());
  }
  std::string profile_url;
  std::string load_problem;
  auto make = [&](bool profile_step) -> std::unique_ptr<fv::Validator> {
    auto defs = fv::Definitions::Embedded();
    std::vector<std::string> all = files;
    if (profile_step) all.insert(all.end(), profile_files.begin(), profile_files.end());
    for (const std::string& f : all) {
      std::string text;
      if (!ReadFile(args.data + "/files/" + f, text)) continue;
      auto json = fv::ToJsonText(text, reader);
      if (!json.ok()) {
        load_problem = f + ": " + json.status().message();
        continue;
      }
      fhirbridge::Status s = (*defs)->AddJson(*json, f);
      if (!s.ok()) load_problem = s.message();
      if (f == profile_file) {
        rapidjson::Document d;
        d.Parse(json->c_str());
        profile_url = Str(d, "url");
      }
    }
    auto v = fv::Validator::Create(std::move(*defs));
    if (!v.ok()) {
      load_problem = v.status().message();
      return nullptr;
    }
    return std::move(*v);
  };
  std::string instance;
  ReadFile(args.data + "/files/" + Str(c, "file"), instance);
  std::size_t first = instance.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  bool xml = first != std::string::npos && instance[first] == '<';
  fv::ValidationOptions options;
  options.security_checks = c.HasMember("security-checks");
  bool all_verdict = true, all_exact = true, any = false;
  auto step = [&](const char* label, const rapidjson::Value* java, bool with_profile) {
    int expected = java ? ExpectedErrors(args, *java) : -1;
    fv::ValidationOptions o = options;
    if (with_profile && !profile_url.empty()) o.profiles.push_back(profile_url);
    if (with_profile) {
      auto p = c.FindMember("profile");
      o.assume_valid_rest_references = p->value.HasMember("assumeValidRestReferences");
    }
    std::unique_ptr<fv::Validator> validator = make(with_profile);
    if (!validator) {
      std::cout << name << "\t" << label << "\tsetup failed: " << load_problem << "\n";
      all_verdict = all_exact = false;
      return;
    }
    fv::Outcome out =
        xml ? validator->ValidateXml(instance, o) : validator->ValidateJson(instance, o);
    int ours = static_cast<int>(out.ErrorCount());
    std::cout << name << "\t" << label << "\tours " << ours << "\texpected "
              << (expected < 0 ? std::string("-") : std::to_string(expected));
    if (expected >= 0) {
      any = true;
      bool verdict = (ours == 0) == (expected == 0);
      all_verdict &= verdict;
      all_exact &= ours == expected;
      std::cout << (ours == expected ? "\tOK" : verdict ? "\tcount" : "\tVERDICT");
    }
    if (!load_problem.empty()) std::cout << "\t(load: " << load_problem << ")";
    std::cout << "\n";
    if (args.verbose)
      for (const auto& i : out.issues)
        if (i.severity <= fhirbridge::DataIssue::Severity::kWarning)
          std::cout << "    " << fhirbridge::SeverityCode(i.severity) << " " << i.code << " "
                    << i.location << " | " << i.text << "\n";
  };
  step("base", c.HasMember("java") ? &c["java"] : nullptr, false);
  if (!profile_file.empty()) step("profile", profile_java, true);
  if (!any) {
    ++score.unscored;
    return;
  }
  ++score.cases;
  score.verdict += all_verdict;
  score.exact += all_exact;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--data")
      args.data = next();
    else if (a == "--all")
      args.all = true;
    else if (a == "--verbose")
      args.verbose = true;
    else if (a == "--case")
      args.only = next();
    else if (a == "--min-verdict")
      args.min_verdict = std::stoi(next());
    else if (a == "--min-exact")
      args.min_exact = std::stoi(next());
    else {
      std::cerr << "usage: validator_conformance [--data DIR] [--all] [--case NAME] [--verbose] "
                   "[--min-verdict N] [--min-exact N]\n";
      return 2;
    }
  }
  std::string manifest;
  if (!ReadFile(args.data + "/manifest-r4-subset.json", manifest)) {
    std::cerr << "validator_conformance: cannot read " << args.data << "/manifest-r4-subset.json\n";
    return 2;
  }
  rapidjson::Document m;
  m.Parse(manifest.c_str());
  auto base = fv::Definitions::Embedded();
  if (!base.ok()) return 2;
  auto reader = fv::Validator::Create(std::move(*base));
  if (!reader.ok()) return 2;
  Score score;
  int selected = 0;
  for (const auto& c : m["test-cases"].GetArray()) {
    if (!args.only.empty() && Str(c, "name") != args.only) continue;
    if (!args.all && NeedsExternal(c)) continue;
    ++selected;
    RunCase(args, c, **reader, score);
  }
  std::printf("\n%d cases (%d without an expected outcome); of the %d scored:\n", selected,
              score.unscored, score.cases);
  std::printf("verdict agreement      %d/%d (%.1f%%)\n", score.verdict, score.cases,
              score.cases ? 100.0 * score.verdict / score.cases : 0.0);
  std::printf("exact error-count      %d/%d (%.1f%%)\n", score.exact, score.cases,
              score.cases ? 100.0 * score.exact / score.cases : 0.0);
  if (score.verdict < args.min_verdict || score.exact < args.min_exact) {
    std::printf("below the ratchet (verdict >= %d, exact >= %d)\n", args.min_verdict,
                args.min_exact);
    return 1;
  }
  return 0;
}
