// Shared by `ferry import package` and the bare `ferry import PATH...` (which recognises packages itself).
#pragma once

#include <string>

#include "store/store.hpp"

namespace ferry::cli {

// Imports one package into `store`, prints the human summary unless `json`, fills `summary` (the --json
// object) and returns the exit code for this input.
int RunPackageImport(Store* store, const std::string& path, bool force, bool json, Json* summary);

void PrintPackageHuman(const Json& summary);

}  // namespace ferry::cli
