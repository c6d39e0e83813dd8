#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "connectors/hl7v2/framing.h"
#include "engine/app/commands.h"
#include "engine/app/json_source_options.h"
#include "engine/app/mapping_options.h"
#include "fhirbridge/config.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/phd_mapper.h"
#include "mappers/sdc_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::app {

namespace {

constexpr const char* kConvertUsage =
    "usage: fhirbridge convert [--format hl7v2|phd|sdc|json] [--config FILE] [--source NAME]\n"
    "                          [--mdib FILE (sdc: the MDIB a metric report refers to)]\n"
    "                          [--assume-timezone ZONE] [FILE|-]\n";

struct ConvertArgs {
  std::string format = "hl7v2";
  std::string config;
  std::string source;
  std::string zone;
  std::string input = "-";
  std::string mdib;  ///< --mdib: for --format sdc, the MDIB a metric report refers to
};

// Returns an error message, or "" when the arguments are valid.
std::string ParseArgs(const std::vector<std::string>& args, ConvertArgs& out) {
  bool have_input = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& into) -> bool {
      if (i + 1 >= args.size()) return false;
      into = args[++i];
      return true;
    };
    if (a == "--mdib") {
      if (!value(out.mdib)) return a + " needs a value";
    } else if (a == "--format" || a == "--config" || a == "--source" || a == "--assume-timezone") {
      std::string& into = a == "--format"   ? out.format
                          : a == "--config" ? out.config
                          : a == "--source" ? out.source
                                            : out.zone;
      if (!value(into)) return a + " needs a value";
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      return "unknown option " + a;
    } else if (have_input) {
      return "more than one input file";
    } else {
      out.input = a;
      have_input = true;
    }
  }
  if (!out.mdib.empty() && out.format != "sdc") return "--mdib is for --format sdc";
  if (out.format == "json" && out.config.empty())
    return "--format json needs --config (the source's mapping file comes from it)";
  if (out.format != "hl7v2" && out.format != "phd" && out.format != "sdc" && out.format != "json")
    return "--format " + out.format +
           " is not available in this build (formats: hl7v2, phd, sdc, json)";
  return {};
}

// The mapping options for this run: the named (or only) source of the configuration file, or
// the defaults; --assume-timezone and --source apply on top.
Result<mappers::Pcd01Options> OptionsFor(const ConvertArgs& args) {
  mappers::Pcd01Options options;
  if (!args.config.empty()) {
    Result<Config> config = LoadConfigFile(args.config, DefaultConfigSchema());
    if (!config.ok()) return config.status();
    const std::vector<ConfigNode>& sources = config->root().Array("sources");
    const ConfigNode* chosen = nullptr;
    std::string names;
    for (const ConfigNode& s : sources) {
      names += (names.empty() ? "" : ", ") + s.GetString("name");
      if (args.source.empty() ? sources.size() == 1 : s.GetString("name") == args.source)
        chosen = &s;
    }
    if (chosen == nullptr) {
      return Status::InvalidArgument(
          args.source.empty()
              ? args.config + " declares " + std::to_string(sources.size()) +
                    " sources: name one with --source (" + names + ")"
              : args.config + " has no source \"" + args.source + "\" (sources: " + names + ")");
    }
    Result<mappers::Pcd01Options> from_config = Pcd01OptionsFor(*chosen);
    if (!from_config.ok()) return from_config.status();
    options = std::move(from_config).value();
  } else if (!args.source.empty()) {
    options.source_name = args.source;
  }
  if (!args.zone.empty()) {
    Result<std::shared_ptr<const TimeZone>> zone = LoadZone(args.zone);
    if (!zone.ok()) return zone.status().WithContext("--assume-timezone");
    options.assume_timezone = *zone;
  }
  return options;
}

Result<std::string> ReadInput(const std::string& name, std::istream& in) {
  if (name == "-") return std::string(std::istreambuf_iterator<char>(in), {});
  std::ifstream file(name, std::ios::binary);
  if (!file) return Status::NotFound("cannot read " + name);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string Context(std::size_t index, std::string_view control_id) {
  std::string c = "message " + std::to_string(index);
  if (!control_id.empty()) {
    c += " (MSH-10 ";
    c += control_id;
    c += ')';
  }
  return c;
}

// The receive time of every APDU of a capture (which keeps none): the file's modification time,
// or now for stdin (docs/connector-phd.md).
std::int64_t CaptureTimeUs(const std::string& name) {
  using namespace std::chrono;
  std::error_code ec;
  if (name != "-") {
    const auto t = std::filesystem::last_write_time(name, ec);
    if (!ec) return duration_cast<microseconds>(file_clock::to_sys(t).time_since_epoch()).count();
  }
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// --format phd: the input is a captured agent->manager APDU stream, replayed through a manager
// session; one Bundle per scan report.
int ConvertPhd(const ConvertArgs& args, const mappers::Terminology& terms,
               const mappers::Pcd01Options& options, const std::string& input, std::ostream& out,
               std::ostream& err) {
  const mappers::PhdMapper mapper(terms, PhdOptionsFor(options));
  const std::vector<mappers::Mapped> results = mapper.MapStream(input, CaptureTimeUs(args.input));
  int status = 0;
  for (const mappers::Mapped& mapped : results) {
    if (mapped.ok()) {
      out << mapped.bundle << '\n';
      for (const DataIssue& issue : mapped.issues) {
        err << "convert: " << mapped.control_id << ": " << SeverityCode(issue.severity) << " at "
            << issue.location << ": " << issue.text << "\n";
      }
    } else {
      out << mappers::RenderOperationOutcome(mapped.issues, mapped.control_id) << '\n';
      status = 1;
    }
  }
  if (results.empty()) {
    err << "convert: the input holds no measurement report\n";
    status = 1;
  }
  out.flush();
  return status;
}

// --format sdc: the input is one SDC document (docs/connector-sdc.md); a metric report needs
// --mdib, the MDIB whose descriptors it refers to. One Bundle, or an OperationOutcome.
int ConvertSdc(const ConvertArgs& args, const mappers::Terminology& terms,
               const mappers::Pcd01Options& options, const std::string& input, std::ostream& out,
               std::ostream& err) {
  mappers::SdcOptions sdc;
  sdc.source_name = options.source_name;
  sdc.status_for_valid = options.status_for_r;
  sdc.deliver_test_data = options.deliver_test_data;
  sdc.observation_identifier_system = options.observation_identifier_system;
  std::optional<sdc::SdcDocument> mdib;
  if (!args.mdib.empty()) {
    std::ifstream file(args.mdib, std::ios::binary);
    if (!file) {
      err << "convert: cannot read " << args.mdib << "\n";
      return 2;
    }
    const std::string text(std::istreambuf_iterator<char>(file), {});
    Result<sdc::SdcDocument> read = sdc::ReadSdcDocument(text, sdc.limits);
    if (!read.ok() || read->kind != sdc::SdcDocument::Kind::kMdib) {
      err << "convert: --mdib " << args.mdib << ": "
          << (read.ok() ? std::string("not an MDIB") : read.status().message()) << "\n";
      return 2;
    }
    mdib = std::move(read).value();
  }
  const MapOutput mapped =
      mappers::SdcMapper(terms, std::move(sdc)).Map(input, mdib ? &*mdib : nullptr);
  const std::string context = "SDC document " + args.input;
  if (mapped.result != MapOutput::Result::kMapped) {
    out << RenderOperationOutcome(mapped.issues, context) << '\n';
    out.flush();
    return 1;
  }
  out << mapped.bundle << '\n';
  for (const DataIssue& issue : mapped.issues) {
    err << "convert: " << context << ": " << SeverityCode(issue.severity) << " at "
        << issue.location << ": " << issue.text << "\n";
  }
  out.flush();
  return 0;
}

}  // namespace

int RunConvert(const std::vector<std::string>& argv, std::istream& in, std::ostream& out,
               std::ostream& err) {
  ConvertArgs args;
  if (std::string problem = ParseArgs(argv, args); !problem.empty()) {
    err << "convert: " << problem << "\n" << kConvertUsage;
    return 2;
  }
  Result<mappers::Pcd01Options> options = OptionsFor(args);
  if (!options.ok()) {
    err << "convert: " << options.status().message() << "\n";
    return 2;
  }
  Result<mappers::Terminology> terms = mappers::Terminology::LoadBuiltin();
  if (!terms.ok()) {
    err << "convert: terminology tables: " << terms.status().message() << "\n";
    return 2;
  }
  Result<std::string> input = ReadInput(args.input, in);
  if (!input.ok()) {
    err << "convert: " << input.status().message() << "\n";
    return 2;
  }
  if (args.format == "phd") return ConvertPhd(args, *terms, *options, *input, out, err);
  if (args.format == "sdc") return ConvertSdc(args, *terms, *options, *input, out, err);
  if (args.format == "json")
    return ConvertJson(args.config, options->source_name, args.zone, *input, out, err);
  const mappers::Pcd01Mapper mapper(*terms, std::move(options).value());
  // Messages and framing problems, merged by their offset so each problem prints in its place.
  const hl7v2::SplitResult split = hl7v2::SplitMessagesReporting(*input);
  int status = 0;
  std::size_t index = 0;
  std::size_t next_problem = 0;
  auto report_problems_before = [&](std::size_t offset) {
    for (; next_problem < split.problems.size() && split.problems[next_problem].offset < offset;
         ++next_problem) {
      const hl7v2::FramingProblem& p = split.problems[next_problem];
      out << mappers::RenderOperationOutcome(
                 {DataIssue::Error("structure", "byte " + std::to_string(p.offset), p.reason)},
                 "input bytes " + std::to_string(p.offset) + "-" +
                     std::to_string(p.offset + p.length))
          << '\n';
      status = 1;
    }
  };
  for (std::string_view message : split.messages) {
    report_problems_before(static_cast<std::size_t>(message.data() - input->data()));
    const mappers::Mapped mapped = mapper.Map(message);
    const std::string context = Context(++index, mapped.control_id);
    if (mapped.ok()) {
      out << mapped.bundle << '\n';
      for (const DataIssue& issue : mapped.issues) {
        err << "convert: " << context << ": " << SeverityCode(issue.severity) << " at "
            << (issue.location.empty() ? std::string("message") : issue.location) << ": "
            << issue.text << "\n";
      }
    } else {
      out << mappers::RenderOperationOutcome(mapped.issues, context) << '\n';
      status = 1;
    }
  }
  report_problems_before(input->size() + 1);
  if (split.messages.empty() && split.problems.empty()) {
    err << "convert: the input holds no message\n";
    status = 1;
  }
  out.flush();
  return status;
}

}  // namespace fhirbridge::app
