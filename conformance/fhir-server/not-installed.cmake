# Run by the placeholder fhir_server_* tests that conformance/CMakeLists.txt registers when node or
# conformance/fhir-server/node_modules was missing at configure time: fail with the reason.
message(FATAL_ERROR "${FHIR_SERVER_PROBLEM}")
