#include "compat-api/permissions.hpp"

#include <algorithm>
#include <utility>

#include "store/store.hpp"
#include "store/timestamp.hpp"

namespace ferry::compat {
namespace {

constexpr std::pair<const char*, Permissions> kNames[] = {
    {"CREATE_INSTANT_INVITE", perm::kCreateInstantInvite},
    {"KICK_MEMBERS", perm::kKickMembers},
    {"BAN_MEMBERS", perm::kBanMembers},
    {"ADMINISTRATOR", perm::kAdministrator},
    {"MANAGE_CHANNELS", perm::kManageChannels},
    {"MANAGE_GUILD", perm::kManageGuild},
    {"ADD_REACTIONS", perm::kAddReactions},
    {"VIEW_AUDIT_LOG", perm::kViewAuditLog},
    {"PRIORITY_SPEAKER", perm::kPrioritySpeaker},
    {"STREAM", perm::kStream},
    {"VIEW_CHANNEL", perm::kViewChannel},
    {"SEND_MESSAGES", perm::kSendMessages},
    {"SEND_TTS_MESSAGES", perm::kSendTtsMessages},
    {"MANAGE_MESSAGES", perm::kManageMessages},
    {"EMBED_LINKS", perm::kEmbedLinks},
    {"ATTACH_FILES", perm::kAttachFiles},
    {"READ_MESSAGE_HISTORY", perm::kReadMessageHistory},
    {"MENTION_EVERYONE", perm::kMentionEveryone},
    {"USE_EXTERNAL_EMOJIS", perm::kUseExternalEmojis},
    {"VIEW_GUILD_INSIGHTS", perm::kViewGuildInsights},
    {"CONNECT", perm::kConnect},
    {"SPEAK", perm::kSpeak},
    {"MUTE_MEMBERS", perm::kMuteMembers},
    {"DEAFEN_MEMBERS", perm::kDeafenMembers},
    {"MOVE_MEMBERS", perm::kMoveMembers},
    {"USE_VAD", perm::kUseVad},
    {"CHANGE_NICKNAME", perm::kChangeNickname},
    {"MANAGE_NICKNAMES", perm::kManageNicknames},
    {"MANAGE_ROLES", perm::kManageRoles},
    {"MANAGE_WEBHOOKS", perm::kManageWebhooks},
    {"MANAGE_GUILD_EXPRESSIONS", perm::kManageGuildExpressions},
    {"USE_APPLICATION_COMMANDS", perm::kUseApplicationCommands},
    {"REQUEST_TO_SPEAK", perm::kRequestToSpeak},
    {"MANAGE_EVENTS", perm::kManageEvents},
    {"MANAGE_THREADS", perm::kManageThreads},
    {"CREATE_PUBLIC_THREADS", perm::kCreatePublicThreads},
    {"CREATE_PRIVATE_THREADS", perm::kCreatePrivateThreads},
    {"USE_EXTERNAL_STICKERS", perm::kUseExternalStickers},
    {"SEND_MESSAGES_IN_THREADS", perm::kSendMessagesInThreads},
    {"USE_EMBEDDED_ACTIVITIES", perm::kUseEmbeddedActivities},
    {"MODERATE_MEMBERS", perm::kModerateMembers},
    {"VIEW_CREATOR_MONETIZATION_ANALYTICS", perm::kViewCreatorMonetizationAnalytics},
    {"USE_SOUNDBOARD", perm::kUseSoundboard},
    {"CREATE_GUILD_EXPRESSIONS", perm::kCreateGuildExpressions},
    {"CREATE_EVENTS", perm::kCreateEvents},
    {"USE_EXTERNAL_SOUNDS", perm::kUseExternalSounds},
    {"SEND_VOICE_MESSAGES", perm::kSendVoiceMessages},
    {"SEND_POLLS", perm::kSendPolls},
    {"USE_EXTERNAL_APPS", perm::kUseExternalApps},
    {"PIN_MESSAGES", perm::kPinMessages},
};

bool Contains(const std::vector<Snowflake>& ids, Snowflake id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Discord stores a timeout as `communication_disabled_until`; imports keep it in the member's extra.
bool IsTimedOut(const Member& m) {
  auto it = m.extra.find("communication_disabled_until");
  if (it == m.extra.end() || !it->is_string()) return false;
  auto until = ParseTimestampMs(it->get<std::string>());
  return until && *until > NowMs();
}

}  // namespace

std::optional<Permissions> PermissionByName(const std::string& name) {
  for (const auto& [n, bit] : kNames)
    if (name == n) return bit;
  return std::nullopt;
}

std::vector<std::string> PermissionNames(Permissions p) {
  std::vector<std::string> out;
  for (const auto& [n, bit] : kNames)
    if (p & bit) out.emplace_back(n);
  return out;
}

Permissions RolePermissions(const Role& role) {
  if (role.permissions) return *role.permissions;
  return role.id == role.guild_id ? kDefaultEveryonePermissions : 0;
}

Permissions ComputeBasePermissions(Snowflake guild_id, std::optional<Snowflake> owner_id,
                                   const std::vector<Role>& roles, Snowflake user_id,
                                   const std::vector<Snowflake>& member_role_ids) {
  if (owner_id && *owner_id == user_id && user_id != 0) return kAllPermissions;
  Permissions p = 0;
  bool everyone_seen = false;
  for (const Role& r : roles) {
    if (r.id == guild_id) {
      everyone_seen = true;
      p |= RolePermissions(r);
    } else if (Contains(member_role_ids, r.id)) {
      p |= RolePermissions(r);
    }
  }
  // A guild imported without an @everyone row still behaves like a fresh Discord server.
  if (!everyone_seen) p |= kDefaultEveryonePermissions;
  if (p & perm::kAdministrator) return kAllPermissions;
  return p;
}

Permissions ComputeChannelPermissions(Permissions base, Snowflake guild_id, const std::vector<Overwrite>& overwrites,
                                      Snowflake user_id, const std::vector<Snowflake>& member_role_ids,
                                      bool is_thread, bool timed_out) {
  if (base & perm::kAdministrator) return kAllPermissions;
  Permissions p = base;
  for (const Overwrite& o : overwrites) {
    if (o.type == 0 && o.id == guild_id) {
      p &= ~o.deny;
      p |= o.allow;
    }
  }
  // Role overwrites are combined before being applied, so one role's deny never beats another role's allow.
  Permissions role_allow = 0, role_deny = 0;
  for (const Overwrite& o : overwrites) {
    if (o.type == 0 && o.id != guild_id && Contains(member_role_ids, o.id)) {
      role_allow |= o.allow;
      role_deny |= o.deny;
    }
  }
  p &= ~role_deny;
  p |= role_allow;
  for (const Overwrite& o : overwrites) {
    if (o.type == 1 && o.id == user_id) {
      p &= ~o.deny;
      p |= o.allow;
    }
  }
  if (timed_out) p &= (perm::kViewChannel | perm::kReadMessageHistory);
  if (!(p & perm::kViewChannel)) return 0;
  const Permissions send_bit = is_thread ? perm::kSendMessagesInThreads : perm::kSendMessages;
  if (!(p & send_bit))
    p &= ~(perm::kSendTtsMessages | perm::kMentionEveryone | perm::kEmbedLinks | perm::kAttachFiles);
  return p;
}

Status PermissionsInGuild(Store& store, Snowflake guild_id, Snowflake user_id, Permissions* out) {
  *out = 0;
  Guild g;
  FERRY_RETURN_IF_ERROR(store.GetGuild(guild_id, &g));
  Member m;
  Status st = store.GetMember(guild_id, user_id, &m);
  if (st.IsNotFound()) {
    // The owner keeps every right even if the import never listed them as a member.
    if (g.owner_id && *g.owner_id == user_id) *out = kAllPermissions;
    return Status::Ok();
  }
  FERRY_RETURN_IF_ERROR(st);
  std::vector<Role> roles;
  FERRY_RETURN_IF_ERROR(store.ListRoles(guild_id, &roles));
  *out = ComputeBasePermissions(guild_id, g.owner_id, roles, user_id, m.role_ids.value_or(std::vector<Snowflake>{}));
  if (IsTimedOut(m) && !(*out & perm::kAdministrator))
    *out &= (perm::kViewChannel | perm::kReadMessageHistory);
  return Status::Ok();
}

Status PermissionsInChannel(Store& store, const Channel& channel, Snowflake user_id, Permissions* out) {
  *out = 0;
  if (!channel.guild_id || *channel.guild_id == 0) {
    if (Contains(channel.recipient_ids, user_id) || (channel.owner_id && *channel.owner_id == user_id))
      *out = kDmRecipientPermissions;
    return Status::Ok();
  }
  const Snowflake guild_id = *channel.guild_id;
  Guild g;
  FERRY_RETURN_IF_ERROR(store.GetGuild(guild_id, &g));
  Member m;
  Status st = store.GetMember(guild_id, user_id, &m);
  if (st.IsNotFound()) {
    if (g.owner_id && *g.owner_id == user_id) *out = kAllPermissions;
    return Status::Ok();
  }
  FERRY_RETURN_IF_ERROR(st);
  std::vector<Role> roles;
  FERRY_RETURN_IF_ERROR(store.ListRoles(guild_id, &roles));
  const std::vector<Snowflake> member_roles = m.role_ids.value_or(std::vector<Snowflake>{});
  Permissions base = ComputeBasePermissions(guild_id, g.owner_id, roles, user_id, member_roles);
  if (base & perm::kAdministrator) {
    *out = kAllPermissions;
    return Status::Ok();
  }

  const bool is_thread = IsThreadType(channel.type);
  std::vector<Overwrite> overwrites;
  if (is_thread && channel.parent_id) {
    Channel parent;
    Status ps = store.GetChannel(*channel.parent_id, &parent);
    if (ps.ok()) overwrites = parent.overwrites.value_or(std::vector<Overwrite>{});
    else if (!ps.IsNotFound()) return ps;
  } else {
    overwrites = channel.overwrites.value_or(std::vector<Overwrite>{});
  }
  Permissions p = ComputeChannelPermissions(base, guild_id, overwrites, user_id, member_roles, is_thread, IsTimedOut(m));

  // A private thread is visible only to its members and to those who manage threads.
  if (channel.type == kPrivateThread && p && !(p & perm::kManageThreads) && channel.owner_id != user_id) {
    std::vector<std::pair<Snowflake, std::int64_t>> members;
    FERRY_RETURN_IF_ERROR(store.ListThreadMembers(channel.id, &members));
    bool joined = std::any_of(members.begin(), members.end(), [&](const auto& e) { return e.first == user_id; });
    if (!joined) p = 0;
  }
  *out = p;
  return Status::Ok();
}

Status PermissionsInChannel(Store& store, Snowflake channel_id, Snowflake user_id, Permissions* out) {
  Channel c;
  FERRY_RETURN_IF_ERROR(store.GetChannel(channel_id, &c));
  return PermissionsInChannel(store, c, user_id, out);
}

}  // namespace ferry::compat
