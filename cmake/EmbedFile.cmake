# fhirbridge_embed_files(TARGET out_var NAMESPACE ns FILES f1 f2 ...)
# Turns data files (terminology tables, default configuration) into a generated .cpp that defines
# `std::string_view ns::<symbol>()` for each file, so the binary needs no data folder at run time.
function(fhirbridge_embed_files out_var)
  cmake_parse_arguments(E "" "NAMESPACE;NAME" "FILES" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${E_NAME}.cpp")
  set(script "${CMAKE_SOURCE_DIR}/cmake/embed_files.cmake")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} "-DOUT=${out}" "-DNAMESPACE=${E_NAMESPACE}" "-DFILES=${E_FILES}" -P "${script}"
    DEPENDS ${E_FILES} "${script}"
    COMMENT "Embedding ${E_NAME}"
    VERBATIM)
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()
