// MESSAGE_UPDATE: Discord sends the whole edited message. MESSAGE_CONTENT rules apply.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageUpdate(ServerContext& ctx, const Message& m) { detail::PublishMessage(ctx, m, "MESSAGE_UPDATE"); }

}  // namespace ferry::compat::dispatch
