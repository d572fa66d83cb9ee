# What `cmake --install build [--prefix DIR]` puts where (GNUInstallDirs):
#   bin/cowsim
#   share/cowsim/presets/*.ini    the presets, also compiled into cowsim:
#                                 the reference a user copies to start a
#                                 --config or --cost file of their own
#   share/doc/cowsim/             README.md, docs/*.md (the README's links
#                                 into docs/ still resolve)
#   share/man/man1/               cowsim.1, cowsim-VERB.1 per verb, from the
#                                 help texts by help2man (cmake/manpages.sh)
#   bash-completion's completionsdir, or share/bash-completion/completions:
#                                 cowsim (cli/cowsim-completion.bash)
# Every destination is relative to the prefix, so --prefix ~/.local is a
# complete user install; tests/install.sh installs into a temporary prefix
# and checks each file.
include(GNUInstallDirs)

install(TARGETS cowsim)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/configs/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cowsim/presets
        FILES_MATCHING PATTERN "*.ini")
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md")

# bash-completion loads completions/NAME on the first <TAB> after NAME.  Its
# completionsdir is absolute (/usr/share/...); below its own prefix it is
# taken relative, so that another --prefix still holds the whole install
# (and bash-completion also reads ~/.local/share/bash-completion/completions).
pkg_get_variable(BASHCOMP_DIR bash-completion completionsdir)
pkg_get_variable(BASHCOMP_PREFIX bash-completion prefix)
set(dir ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
if(BASHCOMP_DIR)
  set(dir ${BASHCOMP_DIR})
  string(FIND "${BASHCOMP_DIR}" "${BASHCOMP_PREFIX}/" at)
  if(BASHCOMP_PREFIX AND at EQUAL 0)
    string(LENGTH "${BASHCOMP_PREFIX}/" n)
    string(SUBSTRING "${BASHCOMP_DIR}" ${n} -1 dir)
  endif()
endif()
set(COWSIM_BASH_COMPLETION_DIR ${dir} CACHE PATH
    "Where the bash completion of cowsim is installed (relative: under the prefix)")
install(FILES ${CMAKE_SOURCE_DIR}/cli/cowsim-completion.bash
        DESTINATION ${COWSIM_BASH_COMPLETION_DIR} RENAME cowsim)

# The man pages, at every build that changes the binary, when help2man is
# here (Debian: help2man).  Which pages exist is known only once the binary
# runs (one per verb of `cowsim --help`), so the build writes the folder and
# the install takes whatever *.1 it holds.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(COWSIM_MAN ON)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/man.stamp
    COMMAND ${CMAKE_SOURCE_DIR}/cmake/manpages.sh $<TARGET_FILE:cowsim> ${HELP2MAN}
            ${CMAKE_BINARY_DIR}/man ${CMAKE_BINARY_DIR}/version.c
            ${PROJECT_DESCRIPTION}
            ${CMAKE_INSTALL_DATADIR}/cowsim/presets ${CMAKE_INSTALL_DOCDIR}
    COMMAND ${CMAKE_COMMAND} -E touch ${CMAKE_BINARY_DIR}/man.stamp
    DEPENDS cowsim ${CMAKE_SOURCE_DIR}/cmake/manpages.sh
    COMMENT "Writing the man pages from the help texts (help2man)" VERBATIM)
  add_custom_target(cowsim_man ALL DEPENDS ${CMAKE_BINARY_DIR}/man.stamp)
  install(DIRECTORY ${CMAKE_BINARY_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
          FILES_MATCHING PATTERN "*.1" PATTERN help EXCLUDE)
else()
  set(COWSIM_MAN OFF)
  message(WARNING "help2man not found (Debian: apt-get install help2man): "
          "no man pages will be built or installed")
endif()
