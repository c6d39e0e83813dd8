// Throughput of the HL7 v2 parser and of the whole PCD-01 conversion, one thread.
//
//   fhirbridge_bench [--seconds S] [--obx N] [--only FIGURE] [--corpus obx|mixed] [--passes P]
//                    [--quick]
//
// Prints, for a corpus of ~30-OBX messages and for a mixed corpus of 5-60 OBX:
//   memchr scan  — a plain memchr for CR over the bytes (the yardstick of the parse target)
//   parse        — hl7v2::Parse (segments and fields indexed, charset validated)
//   convert      — parse + PCD-01 mapping + FHIR JSON serialisation (what `convert` does)
//   validate     — convert, then the Bundle validated against R4 and the vital-signs profiles
//                  (what a mapping worker of `fhirbridge run` does per message)
// Targets (ARCHITECTURE.md): parse >= 1/3 of the memchr scan; convert >= 100,000 messages/s
// for ~30 OBX (~20 Observations, ~18 KB of JSON).

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "conformance/bench/pcd01_corpus.h"
#include "connectors/hl7v2/er7.h"
#include "fhir-profiles/validator/validator.h"
#include "fhirbridge/timezone.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/terminology.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Figure {
  double messages_per_s = 0;
  double mb_per_s = 0;
};

// Which corpus to run ("obx", "mixed"; empty = both), and a fixed number of passes over it
// instead of a duration (0 = by duration): with both, the work is the same from run to run, so
// callgrind counts per message compare between builds.
std::string g_corpus;
std::size_t g_passes = 0;

// Runs `step` over the corpus repeatedly for at least `seconds` (and at most 1e8 messages), or
// g_passes times, and returns the rate. `sink` keeps the compiler from dropping the work.
template <typename Step>
Figure Measure(const std::vector<std::string>& corpus, double seconds, Step step,
               std::size_t& sink) {
  std::size_t bytes_per_pass = 0;
  for (const std::string& m : corpus) bytes_per_pass += m.size();
  std::size_t messages = 0, bytes = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  for (std::size_t pass = 0;
       g_passes != 0 ? pass < g_passes : elapsed < seconds && messages < 100000000; ++pass) {
    for (const std::string& m : corpus) sink += step(m);
    messages += corpus.size();
    bytes += bytes_per_pass;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return {static_cast<double>(messages) / elapsed, static_cast<double>(bytes) / elapsed / 1e6};
}

void Print(const char* name, const Figure& f) {
  std::printf("  %-14s %12.0f messages/s %10.1f MB/s\n", name, f.messages_per_s, f.mb_per_s);
}

// Which figures to measure: all, or one ("scan", "parse", "convert", "validate") for profiling.
std::string g_only;

// The service's validator (embedded R4 definitions and profiles), for the "validate" figure.
const fhirbridge::validator::Validator* g_validator = nullptr;

bool Wanted(const char* name) { return g_only.empty() || g_only == name; }

int Run(const std::vector<std::string>& corpus, const char* title, double seconds,
        const fhirbridge::mappers::Pcd01Mapper& mapper) {
  std::size_t in_bytes = 0, out_bytes = 0, observations = 0, failed = 0;
  for (const std::string& m : corpus) {
    const fhirbridge::mappers::Mapped mapped = mapper.Map(m);
    in_bytes += m.size();
    out_bytes += mapped.bundle.size();
    observations += mapped.observation_count;
    failed += mapped.ok() ? 0 : 1;
  }
  std::printf(
      "%s: %zu messages, %.0f bytes in, %.1f Observations and %.0f bytes of JSON out "
      "per message\n",
      title, corpus.size(), static_cast<double>(in_bytes) / corpus.size(),
      static_cast<double>(observations) / corpus.size(),
      static_cast<double>(out_bytes) / corpus.size());
  if (failed != 0) {
    std::printf("  %zu messages failed to convert: the benchmark corpus is broken\n", failed);
    return 1;
  }
  std::size_t sink = 0;
  Figure scan, parse, convert, validate;
  if (Wanted("scan"))
    scan = Measure(
        corpus, seconds,
        [](const std::string& m) {
          std::size_t segments = 0;
          const char* p = m.data();
          const char* end = p + m.size();
          while ((p = static_cast<const char*>(
                      std::memchr(p, '\r', static_cast<std::size_t>(end - p))))) {
            ++segments;
            ++p;
          }
          return segments;
        },
        sink);
  if (Wanted("parse"))
    parse = Measure(
        corpus, seconds,
        [](const std::string& m) {
          auto parsed = fhirbridge::hl7v2::Parse(m);
          return parsed.ok() ? parsed->segment_count() : 0;
        },
        sink);
  if (Wanted("convert"))
    convert = Measure(
        corpus, seconds, [&](const std::string& m) { return mapper.Map(m).bundle.size(); }, sink);
  if (Wanted("validate"))
    validate = Measure(
        corpus, seconds,
        [&](const std::string& m) {
          const std::string bundle = mapper.Map(m).bundle;
          return g_validator->ValidateJson(bundle, fhirbridge::validator::ValidationOptions{})
              .issues.size();
        },
        sink);
  // A figure left out by --only is not printed: a 0 would read as a measurement.
  if (Wanted("scan")) Print("memchr scan", scan);
  if (Wanted("parse")) Print("parse", parse);
  if (Wanted("convert")) Print("convert", convert);
  if (Wanted("validate")) Print("+ validate", validate);
  if (g_only.empty())
    std::printf("  parse / memchr scan = %.2f (target >= 0.33)\n", parse.mb_per_s / scan.mb_per_s);
  std::printf("  (checksum %zu)\n", sink % 1000);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  int obx = 30;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--obx" && i + 1 < argc) {
      obx = std::atoi(argv[++i]);
    } else if (a == "--only" && i + 1 < argc) {
      g_only = argv[++i];
    } else if (a == "--corpus" && i + 1 < argc) {
      g_corpus = argv[++i];
    } else if (a == "--passes" && i + 1 < argc) {
      g_passes = static_cast<std::size_t>(std::atol(argv[++i]));
    } else if (a == "--quick") {
      seconds = 0.05;
    } else {
      std::fprintf(stderr,
                   "usage: fhirbridge_bench [--seconds S] [--obx N] "
                   "[--only scan|parse|convert|validate] "
                   "[--corpus obx|mixed] [--passes P] [--quick]\n");
      return 2;
    }
  }
  auto terms = fhirbridge::mappers::Terminology::LoadBuiltin();
  if (!terms.ok()) {
    std::fprintf(stderr, "terminology: %s\n", terms.status().ToString().c_str());
    return 1;
  }
  auto definitions = fhirbridge::validator::Definitions::Embedded();
  auto validator = definitions.ok()
                       ? fhirbridge::validator::Validator::Create(std::move(definitions).value())
                       : definitions.status();
  if (!validator.ok()) {
    std::fprintf(stderr, "validator: %s\n", validator.status().ToString().c_str());
    return 1;
  }
  g_validator = validator->get();
  fhirbridge::mappers::Pcd01Options options;
  options.source_name = "bench";
  const fhirbridge::mappers::Pcd01Mapper mapper(*terms, options);
  std::printf("fhirbridge_bench: one thread, %.2f s per figure\n", seconds);
  int status = 0;
  if (g_corpus.empty() || g_corpus == "obx")
    status |= Run(fhirbridge::conformance::MakePcd01Corpus(200, obx, obx),
                  ("PCD-01, " + std::to_string(obx) + " OBX").c_str(), seconds, mapper);
  if (g_corpus.empty() || g_corpus == "mixed")
    status |= Run(fhirbridge::conformance::MakePcd01Corpus(560, 5, 60), "PCD-01, 5-60 OBX mixed",
                  seconds, mapper);
  return status;
}
