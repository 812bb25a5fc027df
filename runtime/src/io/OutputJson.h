// OutputJson.h - one example's outputs as a JSON object (the lines `lmc run`
// writes): {"<output>": value} with nested arrays following each output's
// shape (a per-example row drops its leading dimension of 1).

#ifndef LMC_RUNTIME_IO_OUTPUTJSON_H
#define LMC_RUNTIME_IO_OUTPUTJSON_H

#include "session/Model.h"

#include <string>

namespace lmc::rt {

std::string outputsToJson(const Plan &plan, const ExampleOutputs &outputs);

} // namespace lmc::rt

#endif // LMC_RUNTIME_IO_OUTPUTJSON_H
