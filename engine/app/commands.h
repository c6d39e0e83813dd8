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

/// fhirbridge run [--config FILE]: runs the service until SIGTERM/SIGINT (engine/app/registry.cpp
/// builds it from the configuration, or from the embedded defaults without --config). 0 after a
/// clean stop; 1 when the configuration or start-up fails (the reason on `err`).
int RunService(const std::vector<std::string>& args, std::ostream& err);

/// fhirbridge check-config FILE: 0 when valid, 1 with every problem listed on `err`.
int RunCheckConfig(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// fhirbridge config-docs: prints docs/configuration.md as generated from the schema.
int RunConfigDocs(std::ostream& out);

/// fhirbridge validate [--load FILE]... [--profile URL]... [--security-checks] FILE|-: FHIR JSON
/// or XML in, an OperationOutcome on `out`; 0 when no issue is an error or fatal, 1 otherwise,
/// 2 on a usage or set-up problem.
int RunValidate(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                std::ostream& err);

/// fhirbridge fhirpath [--input FILE|-] [--allow-unordered] [--] EXPRESSION: the result as a
/// JSON array of {"type", "value"} items on `out`; 2 with the reason on `err` for an invalid
/// expression or an evaluation error, 1 for an unreadable input. trace() output goes to `err`.
/// Order-dependent functions on children()/descendants() are errors unless --allow-unordered.
int RunFhirpath(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                std::ostream& err);

/// fhirbridge deadletter list|show|reprocess|discard --config FILE ...: the dead-letter queue of
/// the configured store. 0 on success, 1 when an entry could not be shown or changed, 2 on a
/// usage problem. Reprocessing and discarding are audited with the OS user as actor.
int RunDeadLetter(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// fhirbridge audit export|verify --config FILE ...: `export` prints the audit trail as FHIR R4
/// AuditEvents (NDJSON; --since/--until/--patient select), `verify` checks its hash chain.
/// 0 on success, 1 on a store problem (verify: a broken chain), 2 on a usage problem.
int RunAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// fhirbridge audit verify --config FILE [--public-key FILE] [--store PATH]: walks the audit
/// chain; 0 and a summary on `out` when intact, 1 naming the first bad entry on `err`, 2 on a
/// usage or set-up problem.
int RunAuditVerify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// Dispatches argv to a subcommand.
int RunCli(int argc, char** argv);

}  // namespace fhirbridge::app
