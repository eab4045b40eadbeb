// RESUMED: d must be an object (discord.py stores the shard id into it).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

Json Resumed() { return Json::object(); }

}  // namespace ferry::compat::dispatch
