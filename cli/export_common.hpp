// What the file exporters' subcommands share: the exit code for a Status, the failure report (stderr, and
// one JSON object on stdout under --json), and parsing repeatable --guild/--channel id options.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "store/model.hpp"
#include "store/snowflake.hpp"
#include "store/status.hpp"

namespace ferry::cli {

inline int ExportExitCode(const Status& st) {
  using C = Status::Code;
  switch (st.code()) {
    case C::kNotFound: case C::kInvalidInput: return kExitUsage;  // an unknown guild/channel id is a usage error
    case C::kIoError: return kExitInputFailed;                    // e.g. an unwritable output folder
    case C::kInterrupted: return kExitInterrupted;
    case C::kStoreError: case C::kVersionMismatch: return kExitStore;
    default: return kExitRuntime;
  }
}

// Prints "ferry <command>: <msg>" on stderr (and {"ok":false,...} on stdout under --json); returns `code`.
inline int ExportFail(const char* command, bool json, const std::string& msg, int code) {
  std::fprintf(stderr, "ferry %s: %s\n", command, msg.c_str());
  if (json) std::printf("%s\n", nlohmann::json{{"ok", false}, {"error", msg}, {"exit_code", code}}.dump().c_str());
  return code;
}

// Parses every value of a repeatable id option; on a non-snowflake sets *error naming the flag and value.
inline bool ParseIdList(const char* flag, const std::vector<std::string>& values, std::vector<Snowflake>* out,
                        std::string* error) {
  for (const auto& v : values) {
    auto id = ParseSnowflake(v);
    if (!id) {
      *error = std::string(flag) + " " + v + " is not a snowflake id";
      return false;
    }
    out->push_back(*id);
  }
  return true;
}

}  // namespace ferry::cli
