#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <vector>

#include "cli/command.hpp"

namespace ferry::cli {
namespace {

struct Entry {
  std::string path, description;
  Setup setup;
};

std::vector<Entry>& Entries() {
  static std::vector<Entry> entries;
  return entries;
}

std::atomic<bool> g_interrupted{false};
bool g_json = false;

void OnSignal(int) { g_interrupted = true; }

std::vector<std::string> Words(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : path) {
    if (c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

Registrar::Registrar(const std::string& path, const std::string& description, Setup setup) {
  Entries().push_back({path, description, std::move(setup)});
}

bool InterruptRequested() { return g_interrupted.load(); }
bool JsonOutput() { return g_json; }

int Main(int argc, char** argv) {
  CLI::App app{"ferry — move a Discord community's history and bots to a new home"};
  app.set_version_flag("--version", std::string("ferry ") + FERRY_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  // Shorter paths first so groups exist before their children.
  auto entries = Entries();
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return Words(a.path).size() < Words(b.path).size() ||
           (Words(a.path).size() == Words(b.path).size() && a.path < b.path);
  });
  std::map<std::string, CLI::App*> groups;
  std::map<CLI::App*, Action> actions;
  std::map<CLI::App*, std::shared_ptr<Action>> deferred;
  for (auto& e : entries) {
    auto words = Words(e.path);
    CLI::App* parent = &app;
    std::string key;
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      key += (key.empty() ? "" : " ") + words[i];
      auto it = groups.find(key);
      if (it == groups.end()) {
        CLI::App* g = parent->add_subcommand(words[i], words[i] + " commands");
        g->require_subcommand(1);
        it = groups.emplace(key, g).first;
      }
      parent = it->second;
    }
    CLI::App* sub = nullptr;
    auto existing = groups.find(e.path);
    if (existing != groups.end()) {
      sub = existing->second;
      sub->description(e.description);
      sub->require_subcommand(0, 1);
    } else {
      sub = parent->add_subcommand(words.back(), e.description);
      groups.emplace(e.path, sub);
    }
    actions[sub] = e.setup(*sub);
  }
  // A group that registered an action of its own (e.g. `import PATH...`) must allow zero subcommands.
  for (auto& [path, g] : groups) {
    if (actions.count(g) && !g->get_subcommands({}).empty()) g->require_subcommand(0, 1);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::CallForVersion& e) {
    app.exit(e);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  // The deepest parsed subcommand with an action runs.
  CLI::App* cur = &app;
  CLI::App* chosen = nullptr;
  while (true) {
    if (actions.count(cur)) chosen = cur;
    auto subs = cur->get_subcommands();
    if (subs.empty()) break;
    cur = subs.front();
  }
  if (!chosen) {
    std::fprintf(stderr, "%s\n", cur->help().c_str());
    return kExitUsage;
  }
  return actions[chosen]();
}

}  // namespace ferry::cli

int main(int argc, char** argv) {
  // Logs go to stderr so stdout stays machine-readable (tokens, --json summaries).
  auto logger = spdlog::stderr_color_mt("ferry");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%^%l%$: %v");
  if (const char* lvl = std::getenv("FERRY_LOG")) spdlog::set_level(spdlog::level::from_str(lvl));
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--json") ferry::cli::g_json = true;
  std::signal(SIGINT, ferry::cli::OnSignal);
  std::signal(SIGTERM, ferry::cli::OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return ferry::cli::Main(argc, argv);
}
