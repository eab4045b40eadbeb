// Helpers shared by the REST resource files in compat-api/rest/: loading a path's objects (404 with
// Discord's code when unknown), permission gates (403 with Discord's code), and reading ids and integers out
// of request bodies the way Discord accepts them (snowflakes as strings or numbers).
//
// Every helper that can fail throws http::ApiError, which the router turns into the response; handlers stay a
// straight line of "load, check, validate, write, dispatch, answer".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compat-api/context.hpp"
#include "compat-api/http/errors.hpp"
#include "compat-api/http/router.hpp"
#include "compat-api/permissions.hpp"
#include "store/model.hpp"

namespace ferry::compat::rest {

// A store failure other than NotFound: logged, answered 500.
[[noreturn]] void ThrowStoreError(const Status& st, std::string_view what);

// ---- loading path objects -------------------------------------------------------------------------------
// 404 with Discord's code when the id is unknown; visibility is the gates' business (403 50001).
// Deleted (tombstoned) messages are 10008 like unknown ones.
Channel LoadChannel(ServerContext& ctx, Snowflake channel_id);
Guild LoadGuild(ServerContext& ctx, Snowflake guild_id);              // 10004
Message LoadMessage(ServerContext& ctx, Snowflake channel_id, Snowflake message_id);  // 10008
User LoadUser(ServerContext& ctx, Snowflake user_id);                 // 10013
// The bot must be a member of the guild: 403 50001 Missing Access otherwise (Discord's answer to a bot asking
// about a guild it is not in). Returns the guild.
Guild LoadGuildForBot(ServerContext& ctx, const http::Request& req, Snowflake guild_id);

// ---- permission gates ------------------------------------------------------------------------------------
// The bot's permissions in the channel (DMs: recipient set or 0).
Permissions ChannelPermissions(ServerContext& ctx, const http::Request& req, const Channel& channel);
// Throws 403 50001 Missing Access when the bot cannot see the channel (no VIEW_CHANNEL, not a DM recipient),
// 403 50013 Missing Permissions when it lacks any bit of `needed`. Returns the computed permissions.
Permissions RequireChannelPermissions(ServerContext& ctx, const http::Request& req, const Channel& channel,
                                      Permissions needed);
// Guild-level gate (roles only, no overwrites).
Permissions RequireGuildPermissions(ServerContext& ctx, const http::Request& req, Snowflake guild_id,
                                    Permissions needed);

// The bit needed to post in this channel: SEND_MESSAGES, or SEND_MESSAGES_IN_THREADS in a thread.
Permissions SendBitFor(const Channel& channel);

// ---- request values --------------------------------------------------------------------------------------
// A snowflake given as a JSON string of digits or a non-negative integer (discord.py sends ints).
std::optional<Snowflake> JsonSnowflake(const Json& v);
// A permission bitfield given as a decimal string or an integer.
std::optional<std::uint64_t> JsonBitfield(const Json& v);
// Integer query parameter within [min, max]; `fallback` when absent. Out of range or not a number adds a
// Discord-style error for `name` to `errors` and returns fallback.
int QueryInt(const http::Request& req, std::string_view name, int fallback, int min, int max, http::FormErrors& errors);
// Snowflake query parameter; not a snowflake adds NUMBER_TYPE_COERCE to `errors`.
std::optional<Snowflake> QuerySnowflake(const http::Request& req, std::string_view name, http::FormErrors& errors);
// "true"/"True"/"1" (discord.py sends Python booleans), "false"/"False"/"0"; absent = fallback.
bool QueryBool(const http::Request& req, std::string_view name, bool fallback, http::FormErrors& errors);

// The body as a JSON object: 50035 with {"_errors": [MODEL_TYPE_CONVERT]} when it is another JSON type.
const Json& JsonObjectBody(http::Request& req);

// Unicode code points in a UTF-8 string (Discord's length limits count characters, not bytes).
std::size_t CharCount(std::string_view utf8);
// True when `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);

// Source of every compat-API write: run 0, "now" (so an API write wins over every earlier import).
Source ApiSource(const ServerContext& ctx);

}  // namespace ferry::compat::rest
