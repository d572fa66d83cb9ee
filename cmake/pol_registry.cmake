# Write the model registry (sim/pol.h's pol_registry[]) from the policy
# sources the build found, so that adding a model is adding its pol_*.c and
# nothing else in the code: every line of the form
#     const struct pol_ops pol_NAME_ops = {
# in those files becomes one entry.  Entries are sorted by symbol, which
# keeps the table the same however the files were listed.
# Invoked as: cmake -DOUT=file.c -DFILES="a.c|b.c" -P pol_registry.cmake
string(REPLACE "|" ";" FILES "${FILES}")
set(syms "")
foreach(f ${FILES})
  file(STRINGS ${f} defs REGEX "^const struct pol_ops pol_[a-z0-9_]+_ops = {$")
  foreach(d ${defs})
    string(REGEX REPLACE "^const struct pol_ops (pol_[a-z0-9_]+_ops) = {$" "\\1"
           sym "${d}")
    list(APPEND syms ${sym})
  endforeach()
endforeach()
list(SORT syms)
set(src "/* Generated from the policy sources by cmake/pol_registry.cmake. */\n")
string(APPEND src "#include <stddef.h>\n\n#include \"sim/pol.h\"\n\n")
set(table "")
foreach(s ${syms})
  string(APPEND src "extern const struct pol_ops ${s};\n")
  string(APPEND table "\t&${s},\n")
endforeach()
string(APPEND src "\nconst struct pol_ops *const pol_registry[] = {\n${table}\tNULL\n};\n")
file(WRITE ${OUT} "${src}")
