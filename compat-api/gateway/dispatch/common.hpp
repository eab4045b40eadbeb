// Routing helpers shared by the dispatch builders in this folder (not for use outside it).
#pragma once

#include <string>

#include "compat-api/context.hpp"
#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/gateway/fanout.hpp"
#include "compat-api/objects.hpp"

namespace ferry::compat::dispatch::detail {

inline bool InGuild(const Channel& c) { return c.guild_id && *c.guild_id; }

// An event about something in `channel`: guild channels go to the guild's sessions that can view the
// channel and have `guild_intent`; DMs go to the recipients' sessions with `dm_intent`.
inline DispatchEvent ForChannel(const Channel& c, std::string t, Json d, std::uint64_t guild_intent,
                                std::uint64_t dm_intent) {
  DispatchEvent ev;
  ev.t = std::move(t);
  ev.d = std::move(d);
  if (InGuild(c)) {
    ev.guild_id = *c.guild_id;
    ev.channel_id = c.id;
    ev.intents = guild_intent;
  } else {
    ev.user_ids = c.recipient_ids;
    ev.intents = dm_intent;
  }
  return ev;
}

// Adds "guild_id" when the channel is in a guild (Discord omits the key in DMs).
inline void AddGuildId(Json& d, const Channel& c) {
  if (InGuild(c)) d["guild_id"] = objects::Id(*c.guild_id);
}

inline Channel ChannelOf(ServerContext& ctx, Snowflake channel_id) {
  Channel c;
  if (!ctx.store.GetChannel(channel_id, &c).ok()) c.id = channel_id;
  return c;
}

// MESSAGE_CREATE and MESSAGE_UPDATE carry the same payload (the whole message) under the same routing rules:
// channel visibility, GUILD_MESSAGES / DIRECT_MESSAGES, and MESSAGE_CONTENT stripping except for the author
// and mentioned users.
// `channel` and `rendered` (MessageJson of m) may be given when the caller has them already.
inline void PublishMessage(ServerContext& ctx, const Message& m, const char* type, const Channel* channel = nullptr,
                           const Json* rendered = nullptr) {
  Channel loaded;
  if (!channel) loaded = ChannelOf(ctx, m.channel_id);
  const Channel& c = channel ? *channel : loaded;
  if (!ctx.fanout.MayDeliver(InGuild(c) ? *c.guild_id : 0, c.recipient_ids)) return;
  Json d;
  if (rendered) {
    d = *rendered;
  } else {
    Message msg = m;
    if (!msg.guild_id && InGuild(c)) msg.guild_id = c.guild_id;
    d = objects::MessageJson(ctx, msg);
  }
  auto ev = ForChannel(c, type, std::move(d), intents::kGuildMessages, intents::kDirectMessages);
  ev.message_content = true;
  ev.author_id = m.author_id.value_or(0);
  if (m.mention_user_ids) ev.mentioned_user_ids = *m.mention_user_ids;
  ctx.fanout.Publish(std::move(ev));
}

}  // namespace ferry::compat::dispatch::detail
