# Read by CTest (TEST_INCLUDE_FILES) when it loads the tests: registers one CTest test per top-level
# test unit (suite or case) of a Boost.Test binary, so that `ctest -j` runs the slow end-to-end
# cases beside the rest instead of one binary running everything in sequence.
#
# Set by the generated include file: FHIRBRIDGE_TEST_BIN (the binary), FHIRBRIDGE_TEST_NAME (its
# target name, the prefix of every test) and FHIRBRIDGE_TEST_DIR (the working directory).

set(_args --log_level=test_suite --report_level=short)
set(_units "")
if(EXISTS "${FHIRBRIDGE_TEST_BIN}")
  execute_process(COMMAND "${FHIRBRIDGE_TEST_BIN}" --list_content
    OUTPUT_VARIABLE _out ERROR_VARIABLE _list RESULT_VARIABLE _rc)
  if(_rc EQUAL 0)
    # Boost.Test prints the tree on stderr, four spaces per level, "*" after an enabled unit.
    string(REPLACE "\n" ";" _lines "${_list}")
    foreach(_line IN LISTS _lines)
      if(_line MATCHES "^([A-Za-z0-9_]+)\\*")
        list(APPEND _units "${CMAKE_MATCH_1}")
      endif()
    endforeach()
  endif()
endif()

if(_units)
  foreach(_unit IN LISTS _units)
    add_test("${FHIRBRIDGE_TEST_NAME}/${_unit}" "${FHIRBRIDGE_TEST_BIN}" "--run_test=${_unit}" ${_args})
    set_tests_properties("${FHIRBRIDGE_TEST_NAME}/${_unit}" PROPERTIES
      WORKING_DIRECTORY "${FHIRBRIDGE_TEST_DIR}" LABELS "${FHIRBRIDGE_TEST_NAME}")
  endforeach()
else()
  # Not built yet, or it cannot list itself: one test that runs it whole and fails visibly.
  add_test("${FHIRBRIDGE_TEST_NAME}" "${FHIRBRIDGE_TEST_BIN}" ${_args})
  set_tests_properties("${FHIRBRIDGE_TEST_NAME}" PROPERTIES
    WORKING_DIRECTORY "${FHIRBRIDGE_TEST_DIR}" LABELS "${FHIRBRIDGE_TEST_NAME}")
endif()
