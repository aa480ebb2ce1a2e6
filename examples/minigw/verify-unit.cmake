# ctest minigw.systemd_verify: systemd-analyze verify on the generated
# unit, with ExecStart pointed at the built binary (verify checks that
# the executable exists).
file(READ ${UNIT} text)
string(REGEX REPLACE "(ExecStart[A-Za-z]*=)[^ \n]*minigw" "\\1${BIN}" text "${text}")
get_filename_component(dir ${UNIT} DIRECTORY)
file(MAKE_DIRECTORY ${dir}/verify)
file(WRITE ${dir}/verify/minigw.service "${text}")
# Documentation= names the man pages: verify runs man(1) on them.
file(COPY ${SRC}/minigw.8 DESTINATION ${dir}/verify/man/man8)
file(COPY ${SRC}/minigw.conf.5 DESTINATION ${dir}/verify/man/man5)
execute_process(COMMAND ${CMAKE_COMMAND} -E env MANPATH=${dir}/verify/man
  ${ANALYZE} verify ${dir}/verify/minigw.service
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
# Only complaints about our unit count (the host's other units may be odd).
string(REGEX MATCHALL "[^\n]*minigw.service[^\n]*" ours "${err}")
if(NOT rc EQUAL 0 OR ours)
  message(FATAL_ERROR "systemd-analyze verify failed: ${ours}")
endif()
