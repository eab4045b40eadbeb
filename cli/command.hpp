// Subcommand registry. Each file in cli/ registers its subcommand with a static Registrar, so adding
// `ferry export xmpp` means adding cli/export_xmpp.cpp and nothing else.
//
//   static ferry::cli::Registrar reg("export html", "Write a browsable offline archive",
//       [](CLI::App& app) {
//         auto opts = std::make_shared<Opts>();
//         app.add_option("--store", opts->store)->required();
//         return [opts]() -> int { ...; return kExitOk; };
//       });
//
// The path is the words after `ferry`; missing parent groups ("export") are created on demand. A group may
// also register itself (e.g. "import" taking bare paths) and still have subcommands.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace ferry::cli {

// Exit codes (documented in the README; scripts rely on them).
enum ExitCode : int {
  kExitOk = 0,
  kExitInputFailed = 1,    // some input could not be read/imported/exported; the rest was done
  kExitUsage = 2,          // bad command line (unknown flag, missing argument, bad value)
  kExitStore = 3,          // the store could not be opened: newer version, not a Ferry store, corrupt, unwritable
  kExitInterrupted = 4,    // stopped by a signal; the store is consistent and the same command resumes
  kExitRuntime = 5,        // anything else (network failure, target refused, internal error)
};

using Action = std::function<int()>;
using Setup = std::function<Action(CLI::App& app)>;

struct Registrar {
  Registrar(const std::string& path, const std::string& description, Setup setup);
};

// Parses argv, runs the selected subcommand's action and returns its exit code.
int Main(int argc, char** argv);

// Set by SIGINT/SIGTERM; long jobs check it between batches and stop cleanly.
bool InterruptRequested();

// True when --json was given anywhere: progress and human text stay off stdout.
bool JsonOutput();

}  // namespace ferry::cli
