/*
 * version.h - which cowsim this is: the project's version and, in a git
 * checkout, the commit it was built from (`git describe --always --dirty
 * --tags`), e.g. "0.3-g2787db2-dirty".  `cowsim --version` prints it and
 * every stored run records it, so a result says which code made it.
 *
 * The text is written at every build (cmake/version.cmake), not at
 * configure time, so a commit made after `cmake -S . -B build` is seen by
 * the next `cmake --build`.
 */
#ifndef COWSIM_VERSION_H
#define COWSIM_VERSION_H

/* The version string; static, never NULL. */
const char *cowsim_version(void);

#endif
