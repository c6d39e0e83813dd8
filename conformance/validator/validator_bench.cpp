// Validation throughput, one thread: device-reported vital-sign Observations (as the PCD-01
// mapper writes them) validated against R4, their meta.profile (heartrate, bp, oxygensat) and the
// vital-signs base profile. Prints resources/s; never asserted (a --quick pass runs in CTest).
//
//   validator_bench [--seconds S] [--quick] [--bundle FILE]
//
// --bundle FILE validates that transaction Bundle (one JSON document, e.g. a line of
// `fhirbridge convert`) as the pipeline does: default options, every entry in its Bundle.

#include <rapidjson/document.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fhir-profiles/validator/validator.h"

namespace fv = fhirbridge::validator;

namespace {

// Three shapes the mapper emits most: a heart rate, an SpO2 and a blood-pressure panel.
const char* const kObservations[] = {
    R"({"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/heartrate"]},"identifier":[{"system":"urn:fhirbridge:observation","value":"PAT/0600dc750001/147842/20150122T182656Z"}],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}],"code":{"coding":[{"system":"urn:iso:std:iso:11073:10101","code":"147842","display":"MDC_ECG_HEART_RATE"},{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},"subject":{"reference":"urn:uuid:72e728b4-29c8-8db9-b3bb-b73e089c2b94"},"effectiveDateTime":"2015-01-22T18:26:56+00:00","valueQuantity":{"value":80,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"},"device":{"reference":"urn:uuid:adb99514-a4b5-8dd1-865c-5634dd5c8214"},"referenceRange":[{"text":"50-120"}]})",
    R"({"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/oxygensat"]},"identifier":[{"system":"urn:fhirbridge:observation","value":"PAT/0600dc750001/150456/20150122T182656Z"}],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}],"code":{"coding":[{"system":"urn:iso:std:iso:11073:10101","code":"150456","display":"MDC_PULS_OXIM_SAT_O2"},{"system":"http://loinc.org","code":"2708-6","display":"Oxygen saturation in Arterial blood"},{"system":"http://loinc.org","code":"59408-5","display":"Oxygen saturation in Arterial blood by Pulse oximetry"}]},"subject":{"reference":"urn:uuid:72e728b4-29c8-8db9-b3bb-b73e089c2b94"},"effectiveDateTime":"2015-01-22T18:26:56+00:00","valueQuantity":{"value":98,"unit":"%","system":"http://unitsofmeasure.org","code":"%"},"device":{"reference":"urn:uuid:adb99514-a4b5-8dd1-865c-5634dd5c8214"}})",
    R"({"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/bp"]},"identifier":[{"system":"urn:fhirbridge:observation","value":"PAT/0600dc750001/150020/20150122T182656Z"}],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}],"code":{"coding":[{"system":"urn:iso:std:iso:11073:10101","code":"150020","display":"MDC_PRESS_BLD_NONINV"},{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel with all children optional"}]},"subject":{"reference":"urn:uuid:72e728b4-29c8-8db9-b3bb-b73e089c2b94"},"effectiveDateTime":"2015-01-22T18:26:56+00:00","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic blood pressure"}]},"valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}],"device":{"reference":"urn:uuid:adb99514-a4b5-8dd1-865c-5634dd5c8214"}})",
};

}  // namespace

// Parse + validate one Bundle in a loop; prints Bundles/s and µs per Bundle and per entry.
int BenchBundle(const fv::Validator& validator, const std::string& path, double seconds) {
  std::ifstream in(path, std::ios::binary);
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  rapidjson::Document probe;
  probe.Parse(json.data(), json.size());
  if (probe.HasParseError() || !probe.IsObject() || !probe.HasMember("entry") ||
      !probe["entry"].IsArray()) {
    std::printf("%s: not a JSON Bundle with entries\n", path.c_str());
    return 1;
  }
  const std::size_t entries = probe["entry"].Size();
  const fv::ValidationOptions options;
  std::size_t n = 0, errors = 0;
  std::clock_t cpu0 = std::clock();
  auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int k = 0; k < 16; ++k, ++n) errors += validator.ValidateJson(json, options).ErrorCount();
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  std::printf(
      "Bundle of %zu entries, %zu bytes: %.0f Bundles/s per CPU second, %.1f us per "
      "Bundle, %.2f us per entry (%zu runs, %zu errors)\n",
      entries, json.size(), n / cpu, cpu / n * 1e6, cpu / n * 1e6 / entries, n, errors);
  return 0;
}

int main(int argc, char** argv) {
  double seconds = 3;
  std::string bundle;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      seconds = 0.2;
    else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--bundle") == 0 && i + 1 < argc)
      bundle = argv[++i];
  }
  auto defs = fv::Definitions::Embedded();
  if (!defs.ok()) return 1;
  auto t0 = std::chrono::steady_clock::now();
  auto validator = fv::Validator::Create(std::move(*defs));
  if (!validator.ok()) return 1;
  double setup = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!bundle.empty()) return BenchBundle(**validator, bundle, seconds);
  std::vector<rapidjson::Document> docs(std::size(kObservations));
  for (std::size_t i = 0; i < docs.size(); ++i) docs[i].Parse(kObservations[i]);
  fv::ValidationOptions options;
  options.profiles.push_back("http://hl7.org/fhir/StructureDefinition/vitalsigns");
  // Every sample must be valid, or the figure measures error reporting.
  for (const auto& d : docs) {
    fv::Outcome o = (*validator)->Validate(d, options);
    if (o.HasErrors()) {
      std::printf("sample is not valid: %s\n", o.ToJson().c_str());
      return 1;
    }
  }
  // Figures per second of this thread's CPU time as well as of wall time: on a shared machine
  // the wall-clock rate says more about the neighbours than about the validator.
  auto run = [&](bool parse) {
    std::size_t n = 0, errors = 0;
    std::clock_t cpu0 = std::clock();
    auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
      for (int k = 0; k < 256; ++k, ++n) {
        std::size_t i = n % docs.size();
        if (parse) {
          rapidjson::Document d;
          d.Parse(kObservations[i]);
          errors += (*validator)->Validate(d, options).ErrorCount();
        } else {
          errors += (*validator)->Validate(docs[i], options).ErrorCount();
        }
      }
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    std::printf(
        "%-24s %9.0f Observations/s per CPU second, %9.0f per wall second  (%zu, %zu errors)\n",
        parse ? "parse + validate" : "validate (parsed JSON)", n / cpu, n / elapsed, n, errors);
  };
  std::printf("validator set-up (compile R4 base types): %.0f ms\n", setup * 1000);
  std::printf("R4 + meta.profile (heartrate/oxygensat/bp) + vitalsigns, one thread:\n");
  run(false);
  run(true);
  return 0;
}
