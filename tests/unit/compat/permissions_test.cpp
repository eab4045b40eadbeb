// Discord's permission algorithm as a table: each row is a guild setup, a member, a channel's overwrites and
// the bits that must (and must not) come out.
#include "compat-api/permissions.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace ferry::compat {
namespace {

constexpr Snowflake kGuild = 100;
constexpr Snowflake kOwner = 1;
constexpr Snowflake kUser = 2;
constexpr Snowflake kModRole = 200;
constexpr Snowflake kMutedRole = 201;
constexpr Snowflake kAdminRole = 202;
constexpr Snowflake kHelperRole = 203;

Role MakeRole(Snowflake id, std::optional<Permissions> p) {
  Role r;
  r.id = id;
  r.guild_id = kGuild;
  r.permissions = p;
  return r;
}

Overwrite RoleOw(Snowflake id, Permissions allow, Permissions deny) { return Overwrite{id, 0, allow, deny}; }
Overwrite MemberOw(Snowflake id, Permissions allow, Permissions deny) { return Overwrite{id, 1, allow, deny}; }

struct Case {
  std::string name;
  std::vector<Role> roles;
  Snowflake user = kUser;
  std::vector<Snowflake> member_roles;
  std::vector<Overwrite> overwrites;
  bool is_thread = false;
  bool timed_out = false;
  Permissions must_have = 0;
  Permissions must_lack = 0;
  std::optional<Permissions> exact;
};

using namespace perm;
const Permissions kEveryoneBasic = kViewChannel | kSendMessages | kReadMessageHistory | kAddReactions | kEmbedLinks |
                                   kAttachFiles | kMentionEveryone | kSendTtsMessages | kSendMessagesInThreads;

std::vector<Case> Cases() {
  return {
      {"everyone only", {MakeRole(kGuild, kEveryoneBasic)}, kUser, {}, {}, false, false, kEveryoneBasic, kManageMessages,
       kEveryoneBasic},
      {"role permissions add to everyone", {MakeRole(kGuild, kViewChannel), MakeRole(kModRole, kManageMessages)},
       kUser, {kModRole}, {}, false, false, kViewChannel | kManageMessages, kSendMessages, std::nullopt},
      {"role the member lacks adds nothing", {MakeRole(kGuild, kViewChannel), MakeRole(kModRole, kManageMessages)},
       kUser, {}, {}, false, false, kViewChannel, kManageMessages, kViewChannel},
      {"unknown role id on member adds nothing", {MakeRole(kGuild, kViewChannel)}, kUser, {999}, {}, false, false,
       kViewChannel, 0, kViewChannel},
      {"administrator gets everything", {MakeRole(kGuild, kViewChannel), MakeRole(kAdminRole, kAdministrator)}, kUser,
       {kAdminRole}, {}, false, false, kAllPermissions, 0, kAllPermissions},
      {"administrator ignores overwrites", {MakeRole(kGuild, 0), MakeRole(kAdminRole, kAdministrator)}, kUser,
       {kAdminRole}, {RoleOw(kGuild, 0, kViewChannel), MemberOw(kUser, 0, kAllPermissions)}, false, false,
       kAllPermissions, 0, kAllPermissions},
      {"administrator on everyone gives all", {MakeRole(kGuild, kAdministrator)}, kUser, {}, {}, false, false,
       kAllPermissions, 0, kAllPermissions},
      {"owner gets everything even with no roles", {MakeRole(kGuild, 0)}, kOwner, {}, {RoleOw(kGuild, 0, kViewChannel)},
       false, false, kAllPermissions, 0, kAllPermissions},
      {"everyone overwrite denies send", {MakeRole(kGuild, kEveryoneBasic)}, kUser, {},
       {RoleOw(kGuild, 0, kSendMessages)}, false, false, kViewChannel | kReadMessageHistory,
       kSendMessages | kEmbedLinks | kAttachFiles | kMentionEveryone | kSendTtsMessages, std::nullopt},
      {"everyone overwrite allows manage", {MakeRole(kGuild, kViewChannel)}, kUser, {},
       {RoleOw(kGuild, kManageMessages, 0)}, false, false, kViewChannel | kManageMessages, 0, std::nullopt},
      {"role allow beats everyone deny", {MakeRole(kGuild, kEveryoneBasic), MakeRole(kHelperRole, 0)}, kUser,
       {kHelperRole}, {RoleOw(kGuild, 0, kSendMessages), RoleOw(kHelperRole, kSendMessages, 0)}, false, false,
       kSendMessages | kEmbedLinks, 0, std::nullopt},
      {"role overwrites combine: allow of one beats deny of another",
       {MakeRole(kGuild, kEveryoneBasic), MakeRole(kMutedRole, 0), MakeRole(kHelperRole, 0)}, kUser,
       {kMutedRole, kHelperRole}, {RoleOw(kHelperRole, kSendMessages, 0), RoleOw(kMutedRole, 0, kSendMessages)},
       false, false, kSendMessages, 0, std::nullopt},
      {"role deny applies when no role allows", {MakeRole(kGuild, kEveryoneBasic), MakeRole(kMutedRole, 0)}, kUser,
       {kMutedRole}, {RoleOw(kMutedRole, 0, kSendMessages | kAddReactions)}, false, false, kViewChannel,
       kSendMessages | kAddReactions | kAttachFiles, std::nullopt},
      {"overwrite of a role the member lacks is ignored", {MakeRole(kGuild, kEveryoneBasic), MakeRole(kMutedRole, 0)},
       kUser, {}, {RoleOw(kMutedRole, 0, kSendMessages)}, false, false, kSendMessages, 0, std::nullopt},
      {"member overwrite beats role deny", {MakeRole(kGuild, kEveryoneBasic), MakeRole(kMutedRole, 0)}, kUser,
       {kMutedRole}, {RoleOw(kMutedRole, 0, kSendMessages), MemberOw(kUser, kSendMessages, 0)}, false, false,
       kSendMessages, 0, std::nullopt},
      {"member deny beats role allow", {MakeRole(kGuild, kEveryoneBasic), MakeRole(kHelperRole, 0)}, kUser,
       {kHelperRole}, {RoleOw(kHelperRole, kManageMessages, 0), MemberOw(kUser, 0, kManageMessages)}, false, false,
       kViewChannel, kManageMessages, std::nullopt},
      {"member overwrite of someone else is ignored", {MakeRole(kGuild, kEveryoneBasic)}, kUser, {},
       {MemberOw(kOwner, 0, kSendMessages)}, false, false, kSendMessages, 0, std::nullopt},
      {"role overwrite with a member's id is not a member overwrite", {MakeRole(kGuild, kEveryoneBasic)}, kUser, {},
       {RoleOw(kUser, 0, kSendMessages)}, false, false, kSendMessages, 0, std::nullopt},
      {"no view channel means nothing", {MakeRole(kGuild, kEveryoneBasic | kManageMessages)}, kUser, {},
       {RoleOw(kGuild, 0, kViewChannel)}, false, false, 0, kAllPermissions, Permissions{0}},
      {"member allow restores view", {MakeRole(kGuild, kEveryoneBasic)}, kUser, {},
       {RoleOw(kGuild, 0, kViewChannel), MemberOw(kUser, kViewChannel, 0)}, false, false, kEveryoneBasic, 0,
       std::nullopt},
      {"no send messages strips tts, mention, embed, attach", {MakeRole(kGuild, kEveryoneBasic & ~kSendMessages)},
       kUser, {}, {}, false, false, kViewChannel | kAddReactions,
       kSendTtsMessages | kMentionEveryone | kEmbedLinks | kAttachFiles, std::nullopt},
      {"thread keys send rule on SEND_MESSAGES_IN_THREADS",
       {MakeRole(kGuild, (kEveryoneBasic & ~kSendMessages) | kSendMessagesInThreads)}, kUser, {}, {}, true, false,
       kEmbedLinks | kAttachFiles | kSendMessagesInThreads, kSendMessages, std::nullopt},
      {"thread without SEND_MESSAGES_IN_THREADS loses attach",
       {MakeRole(kGuild, kEveryoneBasic & ~kSendMessagesInThreads)}, kUser, {}, {}, true, false, kViewChannel,
       kAttachFiles | kEmbedLinks, std::nullopt},
      {"timed out keeps only view and history", {MakeRole(kGuild, kEveryoneBasic)}, kUser, {}, {}, false, true,
       kViewChannel | kReadMessageHistory, 0, kViewChannel | kReadMessageHistory},
      {"imported everyone without permissions gets Discord's default", {MakeRole(kGuild, std::nullopt)}, kUser, {},
       {}, false, false, kDefaultEveryonePermissions, kManageMessages | kAdministrator, kDefaultEveryonePermissions},
      {"imported role without permissions adds nothing",
       {MakeRole(kGuild, kViewChannel), MakeRole(kModRole, std::nullopt)}, kUser, {kModRole}, {}, false, false,
       kViewChannel, kManageMessages, kViewChannel},
      {"guild without an everyone row behaves like a new server", {}, kUser, {}, {}, false, false,
       kDefaultEveryonePermissions, kAdministrator, kDefaultEveryonePermissions},
  };
}

class PermissionTable : public ::testing::TestWithParam<Case> {};

TEST_P(PermissionTable, Computes) {
  const Case& c = GetParam();
  Permissions base = ComputeBasePermissions(kGuild, kOwner, c.roles, c.user, c.member_roles);
  Permissions p = ComputeChannelPermissions(base, kGuild, c.overwrites, c.user, c.member_roles, c.is_thread,
                                            c.timed_out);
  EXPECT_TRUE(Has(p, c.must_have)) << "missing: " << ::testing::PrintToString(PermissionNames(c.must_have & ~p));
  EXPECT_EQ(p & c.must_lack, 0u) << "unexpected: " << ::testing::PrintToString(PermissionNames(p & c.must_lack));
  if (c.exact) EXPECT_EQ(p, *c.exact) << ::testing::PrintToString(PermissionNames(p ^ *c.exact));
}

INSTANTIATE_TEST_SUITE_P(Discord, PermissionTable, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string n;
                           for (char ch : info.param.name) n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

TEST(Permissions, BitValuesMatchDiscord) {
  EXPECT_EQ(perm::kAdministrator, 8u);
  EXPECT_EQ(perm::kViewChannel, 1024u);
  EXPECT_EQ(perm::kSendMessages, 2048u);
  EXPECT_EQ(perm::kManageMessages, 8192u);
  EXPECT_EQ(perm::kSendMessagesInThreads, 274877906944u);
  EXPECT_EQ(perm::kPinMessages, 2251799813685248u);
  // The @everyone value Discord's 2022 server template carried is a subset of the default we choose.
  EXPECT_TRUE(Has(kDefaultEveryonePermissions, 1071698660929u));
  EXPECT_FALSE(kDefaultEveryonePermissions & (perm::kAdministrator | perm::kManageMessages | perm::kKickMembers));
}

TEST(Permissions, NamesRoundTrip) {
  EXPECT_EQ(PermissionByName("SEND_MESSAGES"), perm::kSendMessages);
  EXPECT_EQ(PermissionByName("PIN_MESSAGES"), perm::kPinMessages);
  EXPECT_FALSE(PermissionByName("NOT_A_PERMISSION"));
  auto names = PermissionNames(perm::kViewChannel | perm::kAdministrator);
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "ADMINISTRATOR");
  EXPECT_EQ(names[1], "VIEW_CHANNEL");
  for (const auto& n : PermissionNames(kAllPermissions)) EXPECT_TRUE(PermissionByName(n)) << n;
  EXPECT_EQ(PermissionNames(kAllPermissions).size(), 50u);
}

}  // namespace
}  // namespace ferry::compat
