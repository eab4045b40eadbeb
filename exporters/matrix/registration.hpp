// The application-service registration file a Matrix homeserver loads (`app_service_config_files` in Synapse).
//
// Ferry reads only what it needs from it: as_token (sent to the homeserver), hs_token (kept, unused: Ferry
// never receives pushes), sender_localpart (the bot that creates rooms) and the user namespace regexes (every
// ghost must fall inside one, or the homeserver refuses to let the AS act as it). Files written by hand or by
// other bridges work as long as they use the YAML subset below: block and flow mappings/sequences, plain,
// 'single' and "double" quoted scalars, comments. Anchors, tags and multi-line block scalars are refused with
// the file name and line.
#pragma once

#include <string>
#include <vector>

#include "store/model.hpp"
#include "store/status.hpp"

namespace ferry::matrix {

struct Namespace {
  bool exclusive = false;
  std::string regex;
};

struct Registration {
  std::string id;
  std::string url;  // empty when null: Ferry needs no push endpoint
  std::string as_token;
  std::string hs_token;
  std::string sender_localpart;
  bool rate_limited = true;  // unknown or true: expect 429s unless the admin set `rate_limited: false`
  std::vector<Namespace> users;
  std::vector<Namespace> aliases;
};

// Parses the YAML subset into JSON. `name` is used in error messages ("ferry-appservice.yaml:7: ...").
Status ParseYamlSubset(const std::string& text, const std::string& name, Json* out);

// Reads and validates a registration file: as_token and sender_localpart are required, regexes must compile.
Status ReadRegistration(const std::string& path, Registration* out);
Status ParseRegistration(const std::string& text, const std::string& name, Registration* out);

// True when `user_id` falls inside one of the user namespaces. Like Synapse, a regex must match from the start
// of the id (Python re.match); patterns with an explicit `$` or ending in `:server` pin the end.
bool InUserNamespace(const Registration& reg, const std::string& user_id);

// Builds a new registration with random tokens for ghosts `@<prefix><digits>:<server_name>`.
Registration NewRegistration(const std::string& server_name, const std::string& user_prefix);
std::string RegistrationYaml(const Registration& reg);

// Writes the file with mode 0600 (it holds secrets); refuses to overwrite an existing file, since replacing
// the tokens would lock out the registration the homeserver already loaded.
Status WriteRegistration(const std::string& path, const Registration& reg);

}  // namespace ferry::matrix
