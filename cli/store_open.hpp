// Opening the store from a subcommand: one place that turns Status into the documented exit code and a
// message that says what to do.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "store/store.hpp"

namespace ferry::cli {

// Returns kExitOk and sets *out, or prints the reason on stderr and returns kExitStore.
inline int OpenStoreOrExplain(const std::string& path, const OpenOptions& opts, std::unique_ptr<Store>* out) {
  Status st = Store::Open(path, opts, out);
  if (st.ok()) return kExitOk;
  std::fprintf(stderr, "ferry: %s\n", st.ToString().c_str());
  return kExitStore;
}

// For commands that only read: the store must already exist. `opts` may add tuning (ferry serve).
inline int OpenExistingStore(const std::string& path, std::unique_ptr<Store>* out, OpenOptions opts = {}) {
  opts.create_if_missing = false;
  Status st = Store::Open(path, opts, out);
  if (st.ok()) return kExitOk;
  if (st.IsNotFound())
    std::fprintf(stderr, "ferry: store %s does not exist (create one with `ferry import dce PATH --store %s`)\n",
                 path.c_str(), path.c_str());
  else
    std::fprintf(stderr, "ferry: %s\n", st.ToString().c_str());
  return kExitStore;
}

}  // namespace ferry::cli
