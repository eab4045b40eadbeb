// The files an XMPP export carries besides the data: the loader (shell wrapper + Lua run with Prosody's
// own libraries) and the admin's instructions. Kept in the binary so an export needs no source tree.
#pragma once

#include <string>

namespace ferry::xmpp {

// OUT/load.sh: `load.sh /path/to/prosody.cfg.lua`. Finds Prosody's Lua and library paths from the installed
// prosodyctl, runs ferry-load.lua against that config, then gives database files it created to the owner
// of Prosody's data directory.
std::string LoadScript();

// OUT/ferry-load.lua (see the comments at its top).
std::string LoaderLua();

// OUT/LOAD.md for these domains.
std::string LoadMarkdown(const std::string& domain, const std::string& muc_domain, const std::string& files_url,
                         bool has_credentials);

}  // namespace ferry::xmpp
