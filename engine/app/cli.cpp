#include <iostream>
#include <string>
#include <vector>

#include "engine/app/commands.h"
#include "fhirbridge/config.h"

namespace fhirbridge::app {

namespace {

constexpr const char* kUsage =
    "usage: fhirbridge <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [--config FILE]  run the service (sources, store, pipeline, admin API) until\n"
    "                      SIGTERM/SIGINT; without --config on the embedded defaults\n"
    "  convert [--format hl7v2] [--config FILE] [--source NAME] [--assume-timezone ZONE] "
    "[FILE|-]\n"
    "                      one FHIR transaction Bundle per input message, NDJSON on stdout\n"
    "  validate [--load FILE]... [--profile URL]... FILE|-\n"
    "                      validate FHIR JSON or XML; prints an OperationOutcome\n"
    "  fhirpath [--input FILE|-] [--] EXPRESSION\n"
    "                      evaluate FHIRPath on a FHIR JSON or XML resource; JSON result\n"
    "  check-config FILE   validate a configuration; lists every problem\n"
    "  deadletter list|show|reprocess|discard --config FILE [ID...]\n"
    "                      the dead-letter queue: list, show the OperationOutcome, deliver\n"
    "                      again after a fix, or close without delivering\n"
    "  audit export --config FILE [--since T] [--until T] [--patient ID] [--post URL]\n"
    "                      the audit trail as FHIR R4 AuditEvents, NDJSON on stdout\n"
    "  audit verify --config FILE [--public-key FILE]\n"
    "                      walk the audit hash chain; names the first altered entry\n"
    "  config-docs         print docs/configuration.md, generated from the settings table\n"
    "  version             print the version\n";

}  // namespace

int RunCheckConfig(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() != 1) {
    err << "usage: fhirbridge check-config FILE\n";
    return 2;
  }
  Result<Config> config = LoadConfigFile(args[0], DefaultConfigSchema());
  if (!config.ok()) {
    err << config.status().message() << "\n";
    return 1;
  }
  out << args[0] << ": OK\n";
  return 0;
}

int RunConfigDocs(std::ostream& out) {
  out << DefaultConfigSchema().Markdown();
  return 0;
}

int RunCli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "run") return RunService(args, std::cerr);
  if (command == "convert") return RunConvert(args, std::cin, std::cout, std::cerr);
  if (command == "validate") return RunValidate(args, std::cin, std::cout, std::cerr);
  if (command == "fhirpath") return RunFhirpath(args, std::cin, std::cout, std::cerr);
  if (command == "check-config") return RunCheckConfig(args, std::cout, std::cerr);
  if (command == "deadletter") return RunDeadLetter(args, std::cout, std::cerr);
  if (command == "audit") return RunAudit(args, std::cout, std::cerr);
  if (command == "config-docs") return RunConfigDocs(std::cout);
  if (command == "version" || command == "--version") {
    std::cout << "fhirbridge " << FHIRBRIDGE_VERSION << "\n";
    return 0;
  }
  std::cerr << "fhirbridge: unknown command '" << command << "'\n" << kUsage;
  return 2;
}

}  // namespace fhirbridge::app
