#pragma once

// The `fhirbridge` subcommands. Each takes its arguments (without the subcommand name) and its
// streams, and returns the process exit status, so tests can run them in-process.

#include <iosfwd>
#include <string>
#include <vector>

namespace fhirbridge::app {

/// fhirbridge convert [--format hl7v2] [--config FILE] [--source NAME] [--assume-timezone ZONE]
/// [FILE|-]: one FHIR transaction Bundle per input message as NDJSON; a message that cannot be
/// converted gives an OperationOutcome line in its place and exit status 1. Warnings go to `err`.
int RunConvert(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
               std::ostream& err);

/// fhirbridge check-config FILE: 0 when valid, 1 with every problem listed on `err`.
int RunCheckConfig(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// fhirbridge config-docs: prints docs/configuration.md as generated from the schema.
int RunConfigDocs(std::ostream& out);

/// Dispatches argv to a subcommand.
int RunCli(int argc, char** argv);

}  // namespace fhirbridge::app
