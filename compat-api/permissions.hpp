// Discord's permission algorithm, as the compat API applies it to every read and write.
//
//   base    = @everyone role permissions | permissions of every role the member has
//             guild owner or ADMINISTRATOR in base -> every permission, overwrites ignored
//   channel = base, then the channel's overwrites in Discord's order:
//             @everyone overwrite (deny, then allow), all the member's role overwrites combined (deny, then
//             allow), then the member's own overwrite (deny, then allow).
//             Threads take their parent channel's overwrites.
//   implicit: no VIEW_CHANNEL -> nothing in that channel;
//             no SEND_MESSAGES (SEND_MESSAGES_IN_THREADS in a thread) -> no SEND_TTS_MESSAGES, MENTION_EVERYONE,
//             EMBED_LINKS, ATTACH_FILES either;
//             a timed-out member keeps only VIEW_CHANNEL and READ_MESSAGE_HISTORY.
//
// Roles imported without permissions (DiscordChatExporter exports carry none) are treated like this:
//   @everyone without permissions -> kDefaultEveryonePermissions (what Discord gives @everyone in a new server);
//   any other role without permissions -> 0 (it adds nothing; an import never invents privileges).
//
// The pure functions below take plain values, so the rules are testable without a store; PermissionsIn*
// read what they need from the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/model.hpp"
#include "store/status.hpp"

namespace ferry {
class Store;
}

namespace ferry::compat {

using Permissions = std::uint64_t;

// Bit values and names as in Discord's documentation ("Bitwise Permission Flags").
namespace perm {
constexpr Permissions kCreateInstantInvite = 1ULL << 0;
constexpr Permissions kKickMembers = 1ULL << 1;
constexpr Permissions kBanMembers = 1ULL << 2;
constexpr Permissions kAdministrator = 1ULL << 3;
constexpr Permissions kManageChannels = 1ULL << 4;
constexpr Permissions kManageGuild = 1ULL << 5;
constexpr Permissions kAddReactions = 1ULL << 6;
constexpr Permissions kViewAuditLog = 1ULL << 7;
constexpr Permissions kPrioritySpeaker = 1ULL << 8;
constexpr Permissions kStream = 1ULL << 9;
constexpr Permissions kViewChannel = 1ULL << 10;
constexpr Permissions kSendMessages = 1ULL << 11;
constexpr Permissions kSendTtsMessages = 1ULL << 12;
constexpr Permissions kManageMessages = 1ULL << 13;
constexpr Permissions kEmbedLinks = 1ULL << 14;
constexpr Permissions kAttachFiles = 1ULL << 15;
constexpr Permissions kReadMessageHistory = 1ULL << 16;
constexpr Permissions kMentionEveryone = 1ULL << 17;
constexpr Permissions kUseExternalEmojis = 1ULL << 18;
constexpr Permissions kViewGuildInsights = 1ULL << 19;
constexpr Permissions kConnect = 1ULL << 20;
constexpr Permissions kSpeak = 1ULL << 21;
constexpr Permissions kMuteMembers = 1ULL << 22;
constexpr Permissions kDeafenMembers = 1ULL << 23;
constexpr Permissions kMoveMembers = 1ULL << 24;
constexpr Permissions kUseVad = 1ULL << 25;
constexpr Permissions kChangeNickname = 1ULL << 26;
constexpr Permissions kManageNicknames = 1ULL << 27;
constexpr Permissions kManageRoles = 1ULL << 28;
constexpr Permissions kManageWebhooks = 1ULL << 29;
constexpr Permissions kManageGuildExpressions = 1ULL << 30;
constexpr Permissions kUseApplicationCommands = 1ULL << 31;
constexpr Permissions kRequestToSpeak = 1ULL << 32;
constexpr Permissions kManageEvents = 1ULL << 33;
constexpr Permissions kManageThreads = 1ULL << 34;
constexpr Permissions kCreatePublicThreads = 1ULL << 35;
constexpr Permissions kCreatePrivateThreads = 1ULL << 36;
constexpr Permissions kUseExternalStickers = 1ULL << 37;
constexpr Permissions kSendMessagesInThreads = 1ULL << 38;
constexpr Permissions kUseEmbeddedActivities = 1ULL << 39;
constexpr Permissions kModerateMembers = 1ULL << 40;
constexpr Permissions kViewCreatorMonetizationAnalytics = 1ULL << 41;
constexpr Permissions kUseSoundboard = 1ULL << 42;
constexpr Permissions kCreateGuildExpressions = 1ULL << 43;
constexpr Permissions kCreateEvents = 1ULL << 44;
constexpr Permissions kUseExternalSounds = 1ULL << 45;
constexpr Permissions kSendVoiceMessages = 1ULL << 46;
constexpr Permissions kSendPolls = 1ULL << 49;
constexpr Permissions kUseExternalApps = 1ULL << 50;
constexpr Permissions kPinMessages = 1ULL << 51;
}  // namespace perm

// Every documented permission bit. ADMINISTRATOR and guild owners get exactly this.
constexpr Permissions kAllPermissions =
    ((1ULL << 47) - 1) | perm::kSendPolls | perm::kUseExternalApps | perm::kPinMessages;

// Discord's @everyone set for a newly created server (API v10): view channels, create invites, change
// nickname, send messages (also in threads), create public/private threads, embed links, attach files, add
// reactions, external emojis and stickers, mention @everyone, read history, application commands, voice
// (connect, speak, video, voice activity, request to speak, soundboard, external sounds, voice messages),
// activities, create expressions/events, polls, external apps. Given to imported @everyone roles whose
// permissions the source did not carry, so imported communities behave like the Discord server did by default.
constexpr Permissions kDefaultEveryonePermissions =
    perm::kCreateInstantInvite | perm::kAddReactions | perm::kStream | perm::kViewChannel | perm::kSendMessages |
    perm::kEmbedLinks | perm::kAttachFiles | perm::kReadMessageHistory | perm::kMentionEveryone |
    perm::kUseExternalEmojis | perm::kConnect | perm::kSpeak | perm::kUseVad | perm::kChangeNickname |
    perm::kUseApplicationCommands | perm::kRequestToSpeak | perm::kCreatePublicThreads |
    perm::kCreatePrivateThreads | perm::kUseExternalStickers | perm::kSendMessagesInThreads |
    perm::kUseEmbeddedActivities | perm::kUseSoundboard | perm::kCreateGuildExpressions | perm::kCreateEvents |
    perm::kUseExternalSounds | perm::kSendVoiceMessages | perm::kSendPolls | perm::kUseExternalApps;

// What a recipient may do in a DM or group DM (there are no roles or overwrites there).
constexpr Permissions kDmRecipientPermissions =
    perm::kViewChannel | perm::kSendMessages | perm::kEmbedLinks | perm::kAttachFiles |
    perm::kReadMessageHistory | perm::kAddReactions | perm::kUseExternalEmojis | perm::kUseExternalStickers |
    perm::kSendVoiceMessages | perm::kSendPolls | perm::kUseApplicationCommands | perm::kPinMessages;

// The permissions of the named bit, e.g. "SEND_MESSAGES"; nullopt for an unknown name.
std::optional<Permissions> PermissionByName(const std::string& name);
// Names of the set bits, lowest first (for error messages and logs).
std::vector<std::string> PermissionNames(Permissions p);

// A role's effective permission bits under the rules above.
Permissions RolePermissions(const Role& role);

// Guild-level permissions of a member. `member_role_ids` may contain ids that are not in `roles` (deleted
// roles): they add nothing.
Permissions ComputeBasePermissions(Snowflake guild_id, std::optional<Snowflake> owner_id,
                                   const std::vector<Role>& roles, Snowflake user_id,
                                   const std::vector<Snowflake>& member_role_ids);

// Channel-level permissions from the base ones. `overwrites` are the channel's (the parent's for a thread).
// `is_thread` selects SEND_MESSAGES_IN_THREADS as the bit that the send-dependent implicit rule keys on.
Permissions ComputeChannelPermissions(Permissions base, Snowflake guild_id, const std::vector<Overwrite>& overwrites,
                                      Snowflake user_id, const std::vector<Snowflake>& member_role_ids,
                                      bool is_thread = false, bool timed_out = false);

// Store-backed: permissions of `user_id` in a guild. NotFound if the guild is unknown; a user who is not a
// member gets 0 (not an error) so callers answer 403, as Discord does for non-members.
Status PermissionsInGuild(Store& store, Snowflake guild_id, Snowflake user_id, Permissions* out);
// Permissions of `user_id` in a channel (guild channel, thread or DM). NotFound if the channel is unknown.
Status PermissionsInChannel(Store& store, const Channel& channel, Snowflake user_id, Permissions* out);
Status PermissionsInChannel(Store& store, Snowflake channel_id, Snowflake user_id, Permissions* out);

// True when every bit of `needed` is in `have`.
inline bool Has(Permissions have, Permissions needed) { return (have & needed) == needed; }

}  // namespace ferry::compat
