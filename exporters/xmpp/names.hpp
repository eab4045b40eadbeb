// Naming rules for the XMPP export: Discord users become account localparts, channels become MUC room
// nodes, display names become MUC nicks. Every rule is deterministic, so a rerun on the same store names
// everything the same way.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace ferry::xmpp {

// Checks a domain given on the command line: DNS labels of [a-z0-9-] (1..63 bytes, no leading or trailing
// hyphen), at most 253 bytes, no trailing dot. Upper case is accepted and lowered in *normalized.
// On failure *why says what is wrong.
bool ValidateDomain(std::string_view domain, std::string* normalized, std::string* why);

// The localpart a username asks for, before collisions: lower-cased ASCII letters, digits, '.', '_' and
// '-' kept; any other run of characters becomes one '_'; leading/trailing '.', '_' and '-' trimmed; at most
// 64 bytes. Empty when nothing usable is left (the caller falls back to "user-<id>").
std::string LocalpartBase(std::string_view username);

// Hands out unique names. Callers ask in a fixed order (ascending snowflake), so the oldest claimant
// keeps the plain name and later ones get "<base>_<discriminator>" (legacy tags) or "<base>_2", "_3", ...
class NameAllocator {
 public:
  // Reserves a name nobody may get (e.g. names the exporter uses itself).
  void Reserve(const std::string& name) { taken_.insert(name); }
  // `alt` is tried after `base` (empty = none); then numbered suffixes.
  std::string Claim(const std::string& base, const std::string& alt = "");
  bool Taken(const std::string& name) const { return taken_.count(name) > 0; }

 private:
  std::set<std::string> taken_;
};

// Room node for a channel or thread name: like LocalpartBase but spaces become '-'; "channel" when empty.
std::string RoomSlug(std::string_view name);

// A MUC nickname from a display name: valid UTF-8, control characters and '/' dropped (a nick is the
// resource of the occupant JID, so it must survive resourceprep), whitespace collapsed, trimmed, at most
// 64 bytes. Empty if nothing printable is left.
std::string NickFromName(std::string_view name);

}  // namespace ferry::xmpp
