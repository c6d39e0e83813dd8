# fhirbridge_embed_files(<out_var> NAMESPACE <ns> NAME <name> FILES <f1> <f2> ...)
# Turns data files (terminology tables, default configuration) into a generated
# ${CMAKE_CURRENT_BINARY_DIR}/<name>.cpp that defines `std::string_view <ns>::<symbol>()` for each
# file, so the binary needs no data folder at run time. <symbol> is the file name with every
# character that is not alphanumeric replaced by '_' (mdc_terms.tsv -> mdc_terms_tsv). The caller
# declares the functions it uses and adds the path stored in <out_var> to a target's sources.
# The file is regenerated when a data file or the generator script changes.
function(fhirbridge_embed_files out_var)
  cmake_parse_arguments(E "" "NAMESPACE;NAME" "FILES" ${ARGN})
  if(NOT E_NAMESPACE OR NOT E_NAME OR NOT E_FILES)
    message(FATAL_ERROR "fhirbridge_embed_files: NAMESPACE, NAME and FILES are required")
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${E_NAME}.cpp")
  set(script "${CMAKE_SOURCE_DIR}/cmake/embed_files.cmake")
  # Pass the list with '|' between the files: a ';' inside one command argument is not portable
  # across generators and shells.
  string(REPLACE ";" "|" files_arg "${E_FILES}")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} "-DOUT=${out}" "-DNAMESPACE=${E_NAMESPACE}" "-DFILES=${files_arg}" -P "${script}"
    DEPENDS ${E_FILES} "${script}"
    COMMENT "Embedding ${E_NAME}"
    VERBATIM)
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()
