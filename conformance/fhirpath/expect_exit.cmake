# cmake -DBIN=program -DARGS=a|b|c -DEXPECT=status -P expect_exit.cmake
# Runs the program and fails unless it exits with EXPECT and says why on stderr.
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${BIN} ${args} RESULT_VARIABLE status OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(NOT status EQUAL EXPECT)
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT}; stdout: ${out}; stderr: ${err}")
endif()
if(err STREQUAL "")
  message(FATAL_ERROR "no reason on stderr")
endif()
message(STATUS "exit ${status}: ${err}")
