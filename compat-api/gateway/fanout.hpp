// Gateway event fan-out: the ONE interface every dispatch goes through. The embedded implementation
// (gateway/hub.*) delivers in-process to the gateway sessions of this server; an external broker (NATS, Redis)
// can implement the same interface later so several servers share events.
//
// Delivery contract:
//  - Publish() is called on the server thread, never blocks, and returns before anything is sent.
//  - Each session receives the events it is entitled to in publish order, with its own sequence numbers.
//  - Who receives an event:
//      guild_id != 0  → sessions whose bot is a member of that guild (and whose IDENTIFY shard owns it);
//      guild_id == 0  → sessions whose bot user is in user_ids (DMs, user-level events);
//      intents != 0   → and the session identified with at least one of these intent bits;
//      channel_id != 0 → and the bot can view that channel (ServerContext::can_view_channel; threads follow
//                        their parent channel's permissions).
//  - message_content: d is a message (or contains one at the top level). Sessions without the
//    MESSAGE_CONTENT intent get content "", embeds [], attachments [], components [] (and no poll) — unless the
//    bot is the author, is in mentioned_user_ids, or the message is in a DM (guild_id == 0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/model.hpp"

namespace ferry::compat {

// Gateway intent bits (Discord's names and values).
namespace intents {
constexpr std::uint64_t kGuilds = 1ull << 0;
constexpr std::uint64_t kGuildMembers = 1ull << 1;          // privileged
constexpr std::uint64_t kGuildModeration = 1ull << 2;
constexpr std::uint64_t kGuildExpressions = 1ull << 3;
constexpr std::uint64_t kGuildIntegrations = 1ull << 4;
constexpr std::uint64_t kGuildWebhooks = 1ull << 5;
constexpr std::uint64_t kGuildInvites = 1ull << 6;
constexpr std::uint64_t kGuildVoiceStates = 1ull << 7;
constexpr std::uint64_t kGuildPresences = 1ull << 8;        // privileged
constexpr std::uint64_t kGuildMessages = 1ull << 9;
constexpr std::uint64_t kGuildMessageReactions = 1ull << 10;
constexpr std::uint64_t kGuildMessageTyping = 1ull << 11;
constexpr std::uint64_t kDirectMessages = 1ull << 12;
constexpr std::uint64_t kDirectMessageReactions = 1ull << 13;
constexpr std::uint64_t kDirectMessageTyping = 1ull << 14;
constexpr std::uint64_t kMessageContent = 1ull << 15;       // privileged
constexpr std::uint64_t kGuildScheduledEvents = 1ull << 16;
constexpr std::uint64_t kAutoModerationConfiguration = 1ull << 20;
constexpr std::uint64_t kAutoModerationExecution = 1ull << 21;
constexpr std::uint64_t kGuildMessagePolls = 1ull << 24;
constexpr std::uint64_t kDirectMessagePolls = 1ull << 25;
constexpr std::uint64_t kPrivileged = kGuildMembers | kGuildPresences | kMessageContent;
// Every bit Discord defines; IDENTIFY with any other bit closes 4013.
constexpr std::uint64_t kAll = (1ull << 26) - 1 - (1ull << 17) - (1ull << 18) - (1ull << 19) - (1ull << 22) - (1ull << 23);
}  // namespace intents

struct DispatchEvent {
  std::string t;                              // "MESSAGE_CREATE"
  Json d;                                     // payload, ids as strings
  Snowflake guild_id = 0;                     // see the delivery contract above
  Snowflake channel_id = 0;
  std::vector<Snowflake> user_ids;            // recipients when guild_id == 0
  std::uint64_t intents = 0;                  // any-of; 0 = sent regardless of intents
  bool message_content = false;               // strip content fields for sessions without MESSAGE_CONTENT
  Snowflake author_id = 0;                    // message author (exempt from stripping)
  std::vector<Snowflake> mentioned_user_ids;  // mentioned users (exempt from stripping)
};

class Fanout {
 public:
  virtual ~Fanout() = default;
  virtual void Publish(DispatchEvent event) = 0;
  // False when no receiver could get an event routed to `guild_id` (or, for guild_id 0, to `user_ids`):
  // builders then skip rendering a payload nobody would see. True when unsure.
  virtual bool MayDeliver(Snowflake guild_id, const std::vector<Snowflake>& user_ids) const { return true; }
};

// A Fanout that keeps what it is given: for unit tests of REST handlers and dispatch builders.
class RecordingFanout : public Fanout {
 public:
  void Publish(DispatchEvent event) override { events.push_back(std::move(event)); }
  std::vector<DispatchEvent> events;
};

}  // namespace ferry::compat
