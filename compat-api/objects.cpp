#include "compat-api/objects.hpp"

#include <algorithm>
#include <unordered_map>

#include <openssl/sha.h>

#include "compat-api/permissions.hpp"
#include "compat-api/render_cache.hpp"
#include "store/snowflake.hpp"
#include "store/timestamp.hpp"

namespace ferry::compat::objects {
namespace {

// Characters kept literally in a URL path segment.
bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string EncodeSegment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (Unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// The hash part of a Discord CDN URL (".../avatars/{id}/{hash}.png?size=..."), if the URL is one.
std::string DiscordCdnHash(const std::optional<std::string>& url) {
  if (!url) return {};
  const std::string& u = *url;
  auto slash = u.rfind('/');
  if (slash == std::string::npos) return {};
  std::string last = u.substr(slash + 1);
  auto dot = last.find_first_of(".?");
  std::string hash = last.substr(0, dot);
  std::string body = hash.rfind("a_", 0) == 0 ? hash.substr(2) : hash;
  if (body.size() != 32) return {};
  for (char c : body)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  return hash;
}

std::unordered_map<Snowflake, std::int64_t>& MemberCounts() {
  static std::unordered_map<Snowflake, std::int64_t> counts;
  return counts;
}

}  // namespace

std::string Id(Snowflake id) { return std::to_string(id); }
Json IdOrNull(std::optional<Snowflake> id) { return id && *id ? Json(Id(*id)) : Json(nullptr); }
std::string Time(std::int64_t ms) { return FormatApiTimestamp(ms); }

std::string AttachmentUrl(const ServerContext& ctx, Snowflake channel_id, Snowflake attachment_id,
                          const std::string& filename) {
  return ctx.cdn_base + "/attachments/" + Id(channel_id) + "/" + Id(attachment_id) + "/" +
         EncodeSegment(filename.empty() ? std::string("unknown") : filename);
}

std::string ImageHash(const std::optional<std::string>& sha256) {
  if (!sha256 || sha256->size() < 32) return {};
  return sha256->substr(0, 32);
}

std::int64_t GuildMemberCount(ServerContext& ctx, Snowflake guild_id) {
  auto& counts = MemberCounts();
  auto it = counts.find(guild_id);
  if (it != counts.end()) return it->second;
  std::int64_t n = 0;
  Snowflake after = 0;
  for (;;) {
    std::vector<Member> page;
    if (!ctx.store.ListMembers(guild_id, after, 1000, &page).ok() || page.empty()) break;
    n += static_cast<std::int64_t>(page.size());
    after = page.back().user_id;
    if (page.size() < 1000) break;
  }
  counts[guild_id] = n;
  return n;
}

void AdjustGuildMemberCount(Snowflake guild_id, int delta) {
  auto& counts = MemberCounts();
  auto it = counts.find(guild_id);
  if (it != counts.end()) it->second = std::max<std::int64_t>(0, it->second + delta);
}

Snowflake LastMessageId(ServerContext& ctx, Snowflake channel_id) {
  MessageQuery q;
  q.channel_id = channel_id;
  q.limit = 1;
  std::vector<Message> page;
  if (!ctx.store.ListMessages(q, &page).ok() || page.empty()) return 0;
  return page.front().id;
}

// ---- users ------------------------------------------------------------------------------------------------

Json UserJson(const User& u) {
  std::string hash = ImageHash(u.avatar_sha256);
  if (hash.empty()) hash = DiscordCdnHash(u.avatar_url);
  Json j = {
      {"id", Id(u.id)},
      {"username", u.username ? *u.username : (u.global_name ? *u.global_name : std::string("Deleted User"))},
      {"discriminator", u.discriminator && !u.discriminator->empty() ? *u.discriminator : std::string("0")},
      {"global_name", u.global_name ? Json(*u.global_name) : Json(nullptr)},
      {"avatar", hash.empty() ? Json(nullptr) : Json(hash)},
      {"public_flags", 0},
      {"flags", 0},
      {"banner", nullptr},
      {"accent_color", nullptr},
      {"avatar_decoration_data", nullptr},
      {"primary_guild", nullptr},
  };
  if (u.bot.value_or(false)) j["bot"] = true;
  return j;
}

Json UserJson(ServerContext& ctx, Snowflake id) {
  User u;
  if (ctx.render_cache && ctx.render_cache->active()) {
    const std::optional<User>* hit = ctx.render_cache->FindUser(id);
    if (!hit) {
      std::optional<User> found;
      if (ctx.store.GetUser(id, &u).ok()) found = u;
      ctx.render_cache->PutUser(id, std::move(found));
      hit = ctx.render_cache->FindUser(id);
    }
    if (hit && *hit) return UserJson(**hit);
  } else if (ctx.store.GetUser(id, &u).ok()) {
    return UserJson(u);
  }
  u = User{};
  u.id = id;
  u.username = "Deleted User";
  u.discriminator = "0000";
  return UserJson(u);
}

// ---- members, roles ---------------------------------------------------------------------------------------

Json MemberJson(ServerContext& ctx, const Member& m, bool with_user) {
  Json roles = Json::array();
  if (m.role_ids)
    for (Snowflake r : *m.role_ids)
      if (r != m.guild_id) roles.push_back(Id(r));
  std::int64_t joined = m.joined_at_ms ? *m.joined_at_ms : SnowflakeTimeMs(m.guild_id);
  Json j = {
      {"nick", m.nick ? Json(*m.nick) : Json(nullptr)},
      {"avatar", nullptr},
      {"banner", nullptr},
      {"roles", std::move(roles)},
      {"joined_at", Time(joined)},
      {"premium_since", nullptr},
      {"deaf", false},
      {"mute", false},
      {"flags", 0},
      {"pending", false},
      {"communication_disabled_until", nullptr},
  };
  if (with_user) j["user"] = UserJson(ctx, m.user_id);
  return j;
}

Json RoleJson(const Role& r, std::uint64_t permissions_if_unknown) {
  std::uint64_t perms = r.permissions ? *r.permissions
                        : permissions_if_unknown ? permissions_if_unknown
                                                 : RolePermissions(r);
  std::uint32_t color = r.color.value_or(0);
  Json j = {
      {"id", Id(r.id)},
      {"name", r.name ? *r.name : (r.id == r.guild_id ? std::string("@everyone") : std::string("role"))},
      {"color", color},
      {"colors", {{"primary_color", color}, {"secondary_color", nullptr}, {"tertiary_color", nullptr}}},
      {"hoist", r.hoist.value_or(false)},
      {"icon", nullptr},
      {"unicode_emoji", nullptr},
      {"position", r.position.value_or(0)},
      {"permissions", std::to_string(perms)},
      {"managed", r.managed.value_or(false)},
      {"mentionable", r.mentionable.value_or(false)},
      {"flags", 0},
  };
  if (r.extra.is_object() && r.extra.contains("bot_id") && r.extra["bot_id"].is_string())
    j["tags"] = {{"bot_id", r.extra["bot_id"]}};
  return j;
}

Json OverwriteJson(const Overwrite& o) {
  return {{"id", Id(o.id)}, {"type", o.type}, {"allow", std::to_string(o.allow)}, {"deny", std::to_string(o.deny)}};
}

// ---- channels ---------------------------------------------------------------------------------------------

Json ChannelJson(ServerContext& ctx, const Channel& c, Snowflake viewer_id) {
  Snowflake last = LastMessageId(ctx, c.id);
  Json j = {{"id", Id(c.id)}, {"type", c.type}, {"flags", c.extra.value("flags", 0)},
            {"last_message_id", IdOrNull(last)}};
  if (c.type == kDm || c.type == kGroupDm) {
    Json recipients = Json::array();
    for (Snowflake r : c.recipient_ids)
      if (r != viewer_id || c.recipient_ids.size() == 1) recipients.push_back(UserJson(ctx, r));
    j["recipients"] = std::move(recipients);
    if (c.type == kGroupDm) {
      j["name"] = c.name ? Json(*c.name) : Json(nullptr);
      j["icon"] = nullptr;
      j["owner_id"] = IdOrNull(c.owner_id);
    }
    return j;
  }
  j["guild_id"] = IdOrNull(c.guild_id);
  j["name"] = c.name.value_or("");
  j["parent_id"] = IdOrNull(c.parent_id);
  j["rate_limit_per_user"] = c.rate_limit_per_user.value_or(0);
  if (IsThreadType(c.type)) {
    std::int64_t count = 0;
    ctx.store.CountMessages(c.id, &count);
    std::vector<std::pair<Snowflake, std::int64_t>> members;
    ctx.store.ListThreadMembers(c.id, &members);
    Snowflake owner = c.owner_id.value_or(0);
    if (!owner) {
      MessageQuery q;
      q.channel_id = c.id;
      q.after = 0;
      q.limit = 1;
      std::vector<Message> first;
      if (ctx.store.ListMessages(q, &first).ok() && !first.empty() && first.front().author_id)
        owner = *first.front().author_id;
    }
    int auto_archive = c.extra.value("auto_archive_duration", 1440);
    if (auto_archive != 60 && auto_archive != 1440 && auto_archive != 4320 && auto_archive != 10080)
      auto_archive = 1440;
    std::int64_t created = SnowflakeTimeMs(c.id);
    j["owner_id"] = Id(owner);
    j["message_count"] = count;
    j["total_message_sent"] = count;
    j["member_count"] = std::min<std::int64_t>(50, static_cast<std::int64_t>(members.size()));
    j["thread_metadata"] = {
        {"archived", c.archived.value_or(false)},
        {"auto_archive_duration", auto_archive},
        {"archive_timestamp", Time(c.extra.contains("archive_timestamp_ms") && c.extra["archive_timestamp_ms"].is_number_integer()
                                       ? c.extra["archive_timestamp_ms"].get<std::int64_t>()
                                       : created)},
        {"locked", c.locked.value_or(false)},
        {"create_timestamp", Time(created)},
    };
    if (c.type == kPrivateThread) j["thread_metadata"]["invitable"] = c.extra.value("invitable", true);
    return j;
  }
  j["position"] = c.position.value_or(0);
  Json ow = Json::array();
  if (c.overwrites)
    for (const auto& o : *c.overwrites) ow.push_back(OverwriteJson(o));
  j["permission_overwrites"] = std::move(ow);
  j["nsfw"] = c.nsfw.value_or(false);
  if (c.type == kGuildVoice || c.type == kGuildStageVoice) {
    j["bitrate"] = c.extra.value("bitrate", 64000);
    j["user_limit"] = c.extra.value("user_limit", 0);
    j["rtc_region"] = nullptr;
  }
  if (c.type != kGuildCategory && c.type != kGuildVoice && c.type != kGuildStageVoice)
    j["topic"] = c.topic ? Json(*c.topic) : Json(nullptr);
  if (c.type == kGuildForum || c.type == kGuildMedia) {
    j["available_tags"] = Json::array();
    j["default_reaction_emoji"] = nullptr;
    j["default_sort_order"] = nullptr;
    j["default_forum_layout"] = 0;
  }
  return j;
}

// ---- guilds -----------------------------------------------------------------------------------------------

Json GuildJson(ServerContext& ctx, const Guild& g, bool with_counts) {
  std::vector<Role> roles;
  ctx.store.ListRoles(g.id, &roles);
  Json jroles = Json::array();
  bool everyone = false;
  for (const auto& r : roles) {
    if (r.id == g.id) everyone = true;
    jroles.push_back(RoleJson(r));
  }
  if (!everyone) {
    // A guild imported without its @everyone row: libraries need it (guild.default_role).
    Role r;
    r.id = g.id;
    r.guild_id = g.id;
    r.name = "@everyone";
    r.position = 0;
    jroles.insert(jroles.begin(), RoleJson(r));
  }
  std::string icon = ImageHash(g.icon_sha256);
  if (icon.empty()) icon = DiscordCdnHash(g.icon_url);
  Json j = {
      {"id", Id(g.id)},
      {"name", g.name.value_or("")},
      {"icon", icon.empty() ? Json(nullptr) : Json(icon)},
      {"description", nullptr},
      {"home_header", nullptr},
      {"splash", nullptr},
      {"discovery_splash", nullptr},
      {"features", Json::array()},
      {"banner", nullptr},
      {"owner_id", Id(g.owner_id.value_or(0))},
      {"application_id", nullptr},
      {"region", "deprecated"},
      {"afk_channel_id", nullptr},
      {"afk_timeout", 300},
      {"system_channel_id", nullptr},
      {"system_channel_flags", 0},
      {"widget_enabled", false},
      {"widget_channel_id", nullptr},
      {"verification_level", 0},
      {"roles", std::move(jroles)},
      {"default_message_notifications", 0},
      {"mfa_level", 0},
      {"explicit_content_filter", 0},
      {"max_presences", nullptr},
      {"max_members", 500000},
      {"max_stage_video_channel_users", 50},
      {"max_video_channel_users", 25},
      {"vanity_url_code", nullptr},
      {"premium_tier", 0},
      {"premium_subscription_count", 0},
      {"preferred_locale", "en-US"},
      {"rules_channel_id", nullptr},
      {"safety_alerts_channel_id", nullptr},
      {"public_updates_channel_id", nullptr},
      {"premium_progress_bar_enabled", false},
      {"nsfw", false},
      {"nsfw_level", 0},
      {"emojis", Json::array()},
      {"stickers", Json::array()},
      {"incidents_data", nullptr},
  };
  if (with_counts) {
    std::int64_t n = GuildMemberCount(ctx, g.id);
    j["approximate_member_count"] = n;
    j["approximate_presence_count"] = 0;
  }
  return j;
}

Json GuildCreateJson(ServerContext& ctx, const Guild& g, Snowflake bot_user_id, int member_limit) {
  Json j = GuildJson(ctx, g, false);
  std::vector<Channel> channels;
  ctx.store.ListChannels(g.id, &channels);
  Json jch = Json::array(), jthreads = Json::array();
  for (const auto& c : channels) {
    if (IsThreadType(c.type)) {
      if (!c.archived.value_or(false)) jthreads.push_back(ChannelJson(ctx, c));
    } else {
      jch.push_back(ChannelJson(ctx, c));
    }
  }
  std::int64_t member_count = GuildMemberCount(ctx, g.id);
  Json members = Json::array();
  bool have_bot = false;
  Member bot_member;
  bool bot_is_member = ctx.store.GetMember(g.id, bot_user_id, &bot_member).ok();
  if (member_limit > 0) {
    std::vector<Member> page;
    ctx.store.ListMembers(g.id, 0, member_limit, &page);
    for (const auto& m : page) {
      if (m.user_id == bot_user_id) have_bot = true;
      members.push_back(MemberJson(ctx, m));
    }
  }
  if (bot_is_member && !have_bot) members.push_back(MemberJson(ctx, bot_member));
  j["joined_at"] = Time(bot_is_member && bot_member.joined_at_ms ? *bot_member.joined_at_ms : SnowflakeTimeMs(g.id));
  j["large"] = member_count > 250;
  j["unavailable"] = false;
  j["member_count"] = member_count;
  j["channels"] = std::move(jch);
  j["threads"] = std::move(jthreads);
  j["members"] = std::move(members);
  j["presences"] = Json::array();
  j["voice_states"] = Json::array();
  j["stage_instances"] = Json::array();
  j["guild_scheduled_events"] = Json::array();
  j["soundboard_sounds"] = Json::array();
  j["lazy"] = true;
  j["application_command_counts"] = Json::object();
  return j;
}

// ---- messages ---------------------------------------------------------------------------------------------

Json AttachmentJson(const ServerContext& ctx, Snowflake channel_id, const Attachment& a) {
  std::string url = AttachmentUrl(ctx, channel_id, a.id, a.filename);
  Json j = {{"id", Id(a.id)}, {"filename", a.filename.empty() ? std::string("unknown") : a.filename},
            {"size", a.size.value_or(0)}, {"url", url}, {"proxy_url", url}};
  if (a.content_type) j["content_type"] = *a.content_type;
  if (a.width) j["width"] = *a.width;
  if (a.height) j["height"] = *a.height;
  if (a.extra.is_object()) {
    if (a.extra.contains("description") && a.extra["description"].is_string()) j["description"] = a.extra["description"];
    if (a.extra.contains("flags") && a.extra["flags"].is_number_integer()) j["flags"] = a.extra["flags"];
  }
  return j;
}

Json EmojiJson(const Emoji& e) {
  Json j = {{"id", e.id ? Json(Id(e.id)) : Json(nullptr)}, {"name", e.name}};
  if (e.id) j["animated"] = e.animated;
  return j;
}

Json ReactionJson(const Reaction& r, Snowflake viewer_id) {
  bool me = viewer_id && std::find(r.user_ids.begin(), r.user_ids.end(), viewer_id) != r.user_ids.end();
  int count = std::max<int>(r.count, static_cast<int>(r.user_ids.size()));
  return {{"emoji", EmojiJson(r.emoji)},
          {"count", count},
          {"count_details", {{"burst", 0}, {"normal", count}}},
          {"burst_colors", Json::array()},
          {"me_burst", false},
          {"me", me}};
}

Json MessageJson(ServerContext& ctx, const Message& m, const MessageOptions& opts) {
  Json mentions = Json::array();
  if (m.mention_user_ids)
    for (Snowflake u : *m.mention_user_ids) mentions.push_back(UserJson(ctx, u));
  Json mention_roles = Json::array();
  if (m.mention_role_ids)
    for (Snowflake r : *m.mention_role_ids) mention_roles.push_back(Id(r));
  Json attachments = Json::array();
  if (m.attachments)
    for (const auto& a : *m.attachments) attachments.push_back(AttachmentJson(ctx, m.channel_id, a));
  Json embeds = Json::array();
  if (m.embeds)
    for (const auto& e : *m.embeds) embeds.push_back(e);
  Snowflake author = m.author_id.value_or(0);
  Json j = {
      {"id", Id(m.id)},
      {"type", m.type},
      {"content", m.content.value_or("")},
      {"channel_id", Id(m.channel_id)},
      {"author", UserJson(ctx, author)},
      {"attachments", std::move(attachments)},
      {"embeds", std::move(embeds)},
      {"mentions", std::move(mentions)},
      {"mention_roles", std::move(mention_roles)},
      {"pinned", m.pinned.value_or(false)},
      {"mention_everyone", m.mention_everyone.value_or(false)},
      {"tts", m.tts.value_or(false)},
      {"timestamp", Time(m.timestamp.ms)},
      {"edited_timestamp", m.edited ? Json(Time(m.edited->ms)) : Json(nullptr)},
      {"flags", m.flags},
      {"components", m.extra.is_object() && m.extra.contains("components") && m.extra["components"].is_array()
                         ? m.extra["components"]
                         : Json::array()},
  };
  if (m.guild_id && *m.guild_id) {
    j["guild_id"] = Id(*m.guild_id);
    if (opts.with_member && author) {
      Member mem;
      RenderCache* cache = ctx.render_cache && ctx.render_cache->active() ? ctx.render_cache : nullptr;
      const std::optional<Member>* hit = cache ? cache->FindMember(*m.guild_id, author) : nullptr;
      if (hit) {
        if (*hit) j["member"] = MemberJson(ctx, **hit, false);
      } else if (ctx.store.GetMember(*m.guild_id, author, &mem).ok()) {
        j["member"] = MemberJson(ctx, mem, false);
        if (cache) cache->PutMember(*m.guild_id, author, mem);
      } else if (cache) {
        cache->PutMember(*m.guild_id, author, std::nullopt);
      }
    }
  }
  if (m.reactions && !m.reactions->empty()) {
    Json rs = Json::array();
    for (const auto& r : *m.reactions) rs.push_back(ReactionJson(r, opts.viewer_id));
    j["reactions"] = std::move(rs);
  }
  if (m.stickers && !m.stickers->empty()) {
    Json items = Json::array();
    for (const auto& s : *m.stickers)
      items.push_back({{"id", Id(s.id)}, {"name", s.name}, {"format_type", s.format}});
    j["sticker_items"] = std::move(items);
  }
  if (m.nonce) j["nonce"] = *m.nonce;
  if (m.extra.is_object() && m.extra.contains("webhook_id") && m.extra["webhook_id"].is_string())
    j["webhook_id"] = m.extra["webhook_id"];
  if (m.extra.is_object() && m.extra.contains("application_id") && m.extra["application_id"].is_string())
    j["application_id"] = m.extra["application_id"];
  if (m.reference && (m.reference->message_id || m.reference->channel_id)) {
    Snowflake ref_channel = m.reference->channel_id.value_or(m.channel_id);
    Json ref = {{"type", m.reference->type}, {"channel_id", Id(ref_channel)}};
    if (m.reference->message_id) ref["message_id"] = Id(*m.reference->message_id);
    if (m.reference->guild_id) ref["guild_id"] = Id(*m.reference->guild_id);
    else if (m.guild_id && *m.guild_id) ref["guild_id"] = Id(*m.guild_id);
    j["message_reference"] = std::move(ref);
    // Replies carry the message they answer (null when it is gone), one level deep.
    if (m.type == 19 && opts.with_referenced && m.reference->message_id) {
      Message orig;
      if (ctx.store.GetMessage(ref_channel, *m.reference->message_id, &orig).ok() && !orig.deleted) {
        MessageOptions inner = opts;
        inner.with_referenced = false;
        inner.with_member = false;
        j["referenced_message"] = MessageJson(ctx, orig, inner);
      } else {
        j["referenced_message"] = nullptr;
      }
    }
  }
  return j;
}

std::string MessageText(ServerContext& ctx, const Message& m, Snowflake viewer_id) {
  RenderCache* cache = ctx.render_cache && ctx.render_cache->active() && !m.nonce ? ctx.render_cache : nullptr;
  if (cache)
    if (const std::string* hit = cache->FindMessage(m.id, viewer_id)) return *hit;
  MessageOptions o;
  o.viewer_id = viewer_id;
  std::string text = MessageJson(ctx, m, o).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (cache) cache->PutMessage(m.id, viewer_id, text);
  return text;
}

std::string MessagesArrayText(ServerContext& ctx, const std::vector<Message>& msgs, Snowflake viewer_id) {
  std::vector<std::string> parts;
  parts.reserve(msgs.size());
  std::size_t bytes = 2;
  for (const auto& m : msgs) {
    if (m.deleted) continue;
    parts.push_back(MessageText(ctx, m, viewer_id));
    bytes += parts.back().size() + 1;
  }
  std::string out;
  out.reserve(bytes);
  out.push_back('[');
  for (const auto& p : parts) {
    if (out.size() > 1) out.push_back(',');
    out += p;
  }
  out.push_back(']');
  return out;
}

// ---- applications -----------------------------------------------------------------------------------------

Json ApplicationJson(ServerContext& ctx, const Bot& bot, const User& bot_user) {
  // Application flags: GATEWAY_PRESENCE (1<<12), GATEWAY_GUILD_MEMBERS (1<<14), GATEWAY_MESSAGE_CONTENT (1<<18).
  std::int64_t flags = bot.privileged_intents ? ((1 << 12) | (1 << 14) | (1 << 18)) : 0;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  std::string seed = "ferry-application-" + Id(bot.user_id);
  SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string verify_key;
  for (unsigned char c : digest) {
    verify_key.push_back(hex[c >> 4]);
    verify_key.push_back(hex[c & 15]);
  }
  Json user = UserJson(bot_user);
  // The owner: the owner of the bot's first guild when known (so `is_owner` checks mean the community's
  // owner), else the bot itself.
  Json owner = user;
  for (Snowflake gid : bot.guild_ids) {
    Guild g;
    if (ctx.store.GetGuild(gid, &g).ok() && g.owner_id && *g.owner_id) {
      owner = UserJson(ctx, *g.owner_id);
      break;
    }
  }
  return {
      {"id", Id(bot.user_id)},
      {"name", bot.name},
      {"icon", nullptr},
      {"description", ""},
      {"summary", ""},
      {"type", nullptr},
      {"bot", user},
      {"rpc_origins", Json::array()},
      {"bot_public", false},
      {"bot_require_code_grant", false},
      {"verify_key", verify_key},
      {"flags", flags},
      {"flags_new", std::to_string(flags)},
      {"redirect_uris", Json::array()},
      {"interactions_endpoint_url", nullptr},
      {"role_connections_verification_url", nullptr},
      {"owner", owner},
      {"approximate_guild_count", static_cast<std::int64_t>(bot.guild_ids.size())},
      {"approximate_user_install_count", 0},
      {"approximate_user_authorization_count", 0},
      {"explicit_content_filter", 0},
      {"team", nullptr},
      {"eligible_oauth2_scopes", Json::array()},
      {"tags", Json::array()},
      {"hook", true},
      {"integration_types_config", {{"0", Json::object()}}},
  };
}

}  // namespace ferry::compat::objects
