# Turns mlir-tblgen's dialect documentation (INPUT) into docs/dialect.md
# (OUTPUT): our header instead of tblgen's, and no [TOC] marker, which only
# the MLIR website renders.
file(READ ${INPUT} body)
string(REGEX REPLACE "^<!--[^\n]*-->\n" "" body "${body}")
string(REPLACE "[TOC]\n\n" "" body "${body}")
file(WRITE ${OUTPUT}
"<!-- Generated from dialects/lmc/IR/*.td by the build (target update-dialect-doc); edit the .td files, not this one. -->\n"
"${body}")
