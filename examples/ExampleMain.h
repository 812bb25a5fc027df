//===- ExampleMain.h - the main() of the C++ example models -----*- C++ -*-===//
//
// Each example declares its model with the builder; this writes the module
// (to stdout, or to the file after -o) with lmc compile's guarantees: errors
// on stderr with exit code 1 and no output file.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_EXAMPLES_EXAMPLEMAIN_H
#define LMC_EXAMPLES_EXAMPLEMAIN_H

#include "frontend/ModelBuilder.h"

#include "llvm/ADT/STLFunctionalExtras.h"

int runExample(int argc, char **argv, llvm::StringRef modelName,
               llvm::function_ref<void(lmc::frontend::ModelBuilder &)> declare);

#endif // LMC_EXAMPLES_EXAMPLEMAIN_H
