# Write OUT, a C file defining cowsim_version() (lib/version.h), from
# `git describe` of SRC, at every build, but touch OUT only when the text
# changes, so an unchanged version rebuilds nothing.  Outside a git checkout
# (a release tarball) the version is FALLBACK, the project's own.
execute_process(COMMAND git describe --always --dirty --tags
                WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE v OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR v STREQUAL "")
  set(v "${FALLBACK}")
elseif(v MATCHES "^[0-9a-f]+(-dirty)?$")
  # no tag: the bare commit, after the project's version
  set(v "${FALLBACK}-g${v}")
endif()
set(text "/* Written by cmake/version.cmake at build time: do not edit. */\n#include \"lib/version.h\"\n\nconst char *cowsim_version(void)\n{\n\treturn \"${v}\";\n}\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE ${OUT} "${text}")
