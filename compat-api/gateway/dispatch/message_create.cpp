// MESSAGE_CREATE: the full message (with member for guild messages). MESSAGE_CONTENT rules apply.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageCreate(ServerContext& ctx, const Message& m, const Channel* channel, const Json* rendered) {
  detail::PublishMessage(ctx, m, "MESSAGE_CREATE", channel, rendered);
}

}  // namespace ferry::compat::dispatch
