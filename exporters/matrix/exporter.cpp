#include "exporters/matrix/exporter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "exporters/matrix/format.hpp"
#include "store/snowflake.hpp"
#include "store/timestamp.hpp"

namespace ferry::matrix {

std::string TxnId(const std::string& kind, Snowflake message_id, const std::string& part) {
  std::string t = "ferry." + kind + "." + std::to_string(message_id);
  if (!part.empty()) t += "." + part;
  return t;
}

Json MatrixExportSummary::ToJson() const {
  Json j = {{"status", complete() ? "complete" : (interrupted ? "interrupted" : "incomplete")},
            {"messages", messages},
            {"sent", sent},
            {"skipped", skipped_existing + skipped_other},
            {"skipped_existing", skipped_existing},
            {"skipped_other", skipped_other},
            {"failed", failed},
            {"events", events},
            {"reactions", reactions},
            {"uploads", uploads},
            {"media_missing", media_missing},
            {"rooms", rooms},
            {"rooms_created", rooms_created},
            {"ghosts_registered", ghosts_registered},
            {"private_threads_skipped", private_threads_skipped},
            {"requests", requests},
            {"rate_limited", rate_limited},
            {"retries", retries},
            {"elapsed_ms", elapsed_ms}};
  if (!fatal.empty()) j["fatal"] = fatal;
  Json f = Json::array();
  for (const auto& x : failures) f.push_back({{"discord_id", x.discord_id}, {"what", x.what}, {"answer", x.answer}});
  j["failures"] = f;
  if (!plan.is_null()) j["plan"] = plan;
  return j;
}

namespace {

constexpr std::uint64_t kAdministrator = 1ULL << 3;
constexpr std::uint64_t kModeratorBits = (1ULL << 1) | (1ULL << 2) | (1ULL << 4) | (1ULL << 5) | (1ULL << 13) |
                                         (1ULL << 28) | (1ULL << 40);
constexpr std::uint64_t kViewChannel = 1ULL << 10;
constexpr std::size_t kMaxPowerUsers = 1000;  // keeps m.room.power_levels well under the 64 KiB event limit

std::string Hex64(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string HumanSize(std::int64_t n) {
  char buf[32];
  if (n >= 1 << 20) std::snprintf(buf, sizeof buf, "%.1f MB", n / 1048576.0);
  else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.1f KB", n / 1024.0);
  else std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(n));
  return buf;
}

std::string MsgtypeFor(const std::string& content_type, const std::string& filename) {
  std::string ct = content_type;
  if (ct.empty()) {
    std::string ext = filename.substr(filename.find_last_of('.') == std::string::npos ? filename.size() : filename.find_last_of('.') + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "gif" || ext == "webp") ct = "image/";
    else if (ext == "mp4" || ext == "webm" || ext == "mov") ct = "video/";
    else if (ext == "mp3" || ext == "ogg" || ext == "wav" || ext == "flac" || ext == "m4a") ct = "audio/";
  }
  if (ct.rfind("image/", 0) == 0) return "m.image";
  if (ct.rfind("video/", 0) == 0) return "m.video";
  if (ct.rfind("audio/", 0) == 0) return "m.audio";
  return "m.file";
}

std::string GuessMime(const std::string& filename) {
  std::string ext = filename.substr(filename.find_last_of('.') == std::string::npos ? filename.size() : filename.find_last_of('.') + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  static const std::map<std::string, std::string> m = {
      {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
      {"webp", "image/webp"}, {"mp4", "video/mp4"}, {"webm", "video/webm"}, {"mov", "video/quicktime"},
      {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"}, {"wav", "audio/wav"}, {"txt", "text/plain"},
      {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"json", "application/json"}};
  auto it = m.find(ext);
  return it == m.end() ? "application/octet-stream" : it->second;
}

// A fatal condition stops every worker: the homeserver is gone, the token was revoked, or the user asked.
struct Fatal {
  std::atomic<bool> set{false};
  std::mutex mu;
  Status status;
  void Raise(const Status& s) {
    std::lock_guard<std::mutex> l(mu);
    if (!set) {
      status = s;
      set = true;
    }
  }
};

struct RoomPlan {
  Channel channel;                 // the channel (or category / guild placeholder for spaces)
  std::vector<Channel> threads;    // public threads and forum posts, sent into this room
  Snowflake guild_id = 0;
  bool is_space = false;
  bool is_private = false;
  std::string key;                 // mapping key: "space:<guild>" or "room:<channel>"
  std::string alias_local;
  std::string parent_room;         // the space it belongs to
  std::string room_id;             // filled in phase 1
  bool existed = false;            // created by an earlier run: re-read its end before sending
  std::int64_t total = 0;          // messages in scope
};

struct GhostState {
  std::mutex mu;
  bool done = false;
  bool failed = false;
  std::string error;
};

class Exporter {
 public:
  Exporter(Store* store, const MatrixExportOptions& o, Progress* progress, MatrixExportSummary* s)
      : store_(store), o_(o), progress_(progress), sum_(s) {
    target_ = "matrix:" + o.server_name;
    bot_ = "@" + o.registration.sender_localpart + ":" + o.server_name;
  }

  Status Run() {
    auto start = std::chrono::steady_clock::now();
    FERRY_RETURN_IF_ERROR(Plan());
    if (o_.dry_run) return DryRun();
    std::unique_ptr<MatrixClient> mx;
    FERRY_RETURN_IF_ERROR(NewClient(&mx));
    FERRY_RETURN_IF_ERROR(CheckServer(*mx));
    Status st = CreateRooms(*mx);
    if (!st.ok()) {
      if (st.code() == Status::Code::kInterrupted) sum_->interrupted = true;
      else sum_->fatal = st.message();
    } else {
      SendAll();
    }
    sum_->requests = counters_.requests;
    sum_->rate_limited = counters_.rate_limited;
    sum_->retries = counters_.retries;
    sum_->elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    progress_->Finish();
    return Status::Ok();
  }

 private:
  // ---- store access (one thread at a time) ----------------------------------------------------------
  bool GetMap(const std::string& key, std::string* value) {
    std::lock_guard<std::mutex> l(store_mu_);
    return store_->GetMapping(target_, key, value).ok() && !value->empty();
  }
  Status PutMap(const std::string& key, const std::string& value) {
    std::lock_guard<std::mutex> l(store_mu_);
    return store_->PutMapping(target_, key, value);
  }
  std::optional<User> GetUser(Snowflake id) {
    std::lock_guard<std::mutex> l(users_mu_);
    auto it = users_.find(id);
    if (it != users_.end()) return it->second;
    User u;
    Status st;
    {
      std::lock_guard<std::mutex> sl(store_mu_);
      st = store_->GetUser(id, &u);
    }
    if (!st.ok()) {
      u = User();
      u.id = id;
    }
    if (users_.size() > 100000) users_.clear();  // bound memory on huge guilds; it is only a cache
    users_[id] = u;
    return u;
  }

  std::string Ghost(Snowflake user) const { return "@" + o_.user_prefix + std::to_string(user) + ":" + o_.server_name; }

  static std::string DisplayName(const User& u) {
    if (u.global_name && !u.global_name->empty()) return *u.global_name;
    if (u.username && !u.username->empty()) return *u.username;
    return std::to_string(u.id);
  }

  void Fail(const std::string& id, const std::string& what, const std::string& answer) {
    std::lock_guard<std::mutex> l(sum_mu_);
    sum_->failed++;
    if (sum_->failures.size() < 200) sum_->failures.push_back({id, what, answer});
    Note("failed: Discord " + id + ": " + what + ": " + answer);
  }

  // Progress objects are single-threaded; every worker goes through here.
  void Note(const std::string& line) {
    std::lock_guard<std::mutex> l(progress_mu_);
    progress_->Note(line);
  }

  Status NewClient(std::unique_ptr<MatrixClient>* out) {
    std::unique_ptr<HttpClient> http;
    FERRY_RETURN_IF_ERROR(HttpClient::Create(o_.homeserver, o_.http, &http));
    *out = std::make_unique<MatrixClient>(std::move(http), o_.registration.as_token, o_.retry, &counters_, o_.cancelled);
    return Status::Ok();
  }

  // ---- planning (store only) --------------------------------------------------------------------------
  Status Plan() {
    std::vector<Guild> guilds;
    if (o_.guild_ids.empty()) {
      FERRY_RETURN_IF_ERROR(store_->ListGuilds(&guilds));
      if (guilds.empty()) return Status::NotFound(store_->path() + ": the store holds no guild to export");
    } else {
      for (Snowflake id : o_.guild_ids) {
        Guild g;
        Status st = store_->GetGuild(id, &g);
        if (!st.ok()) return Status::NotFound("--guild " + std::to_string(id) + ": not in the store " + store_->path());
        guilds.push_back(g);
      }
    }
    std::set<Snowflake> wanted(o_.channel_ids.begin(), o_.channel_ids.end());
    std::set<Snowflake> matched;
    for (const Guild& g : guilds) {
      std::vector<Channel> channels;
      FERRY_RETURN_IF_ERROR(store_->ListChannels(g.id, &channels));
      for (const auto& c : channels) {
        channel_names_[c.id] = c.name.value_or(std::to_string(c.id));
      }
      std::vector<Role> roles;
      FERRY_RETURN_IF_ERROR(store_->ListRoles(g.id, &roles));
      for (const auto& r : roles) role_names_[r.id] = r.name.value_or(std::to_string(r.id));
      Json power = PowerUsers(g, roles);

      RoomPlan space;
      space.is_space = true;
      space.guild_id = g.id;
      space.channel.id = g.id;
      space.channel.name = g.name.value_or("Discord server " + std::to_string(g.id));
      space.key = "space:" + std::to_string(g.id);
      space.alias_local = o_.user_prefix + std::to_string(g.id);
      std::size_t space_index = rooms_.size();
      rooms_.push_back(space);
      power_[g.id] = power;
      icon_[g.id] = g.icon_sha256.value_or("");

      std::map<Snowflake, std::vector<Channel>> threads_by_parent;
      std::map<Snowflake, Channel> categories;
      std::vector<Channel> rooms;
      for (const auto& c : channels) {
        if (c.type == kGuildCategory) categories[c.id] = c;
        else if (IsThreadType(c.type)) threads_by_parent[c.parent_id.value_or(0)].push_back(c);
        else if (c.type != kDm && c.type != kGroupDm) rooms.push_back(c);
      }
      std::set<Snowflake> used_categories;
      std::vector<RoomPlan> channel_plans;
      for (const auto& c : rooms) {
        bool selected = wanted.empty() || wanted.count(c.id);
        std::vector<Channel> threads;
        for (const auto& t : threads_by_parent[c.id]) {
          if (!wanted.empty() && !selected && !wanted.count(t.id)) continue;
          if (!wanted.empty() && wanted.count(t.id)) matched.insert(t.id);
          if (t.type == kPrivateThread) {
            sum_->private_threads_skipped++;
            continue;
          }
          threads.push_back(t);
        }
        if (!selected && threads.empty()) continue;
        if (selected) matched.insert(c.id);
        RoomPlan rp;
        rp.channel = c;
        rp.threads = threads;
        rp.guild_id = g.id;
        rp.key = "room:" + std::to_string(c.id);
        rp.alias_local = o_.user_prefix + std::to_string(c.id);
        rp.is_private = IsPrivate(c, g.id);
        FERRY_RETURN_IF_ERROR(CountRoom(&rp));
        bool texty = c.type == kGuildText || c.type == kGuildAnnouncement || c.type == kGuildForum ||
                     c.type == kGuildMedia;
        if (!texty && rp.total == 0) continue;
        if (c.parent_id && categories.count(*c.parent_id)) used_categories.insert(*c.parent_id);
        channel_plans.push_back(std::move(rp));
      }
      for (Snowflake cat : used_categories) {
        RoomPlan rp;
        rp.is_space = true;
        rp.guild_id = g.id;
        rp.channel = categories[cat];
        rp.key = "room:" + std::to_string(cat);
        rp.alias_local = o_.user_prefix + std::to_string(cat);
        rp.is_private = IsPrivate(rp.channel, g.id);
        rooms_.push_back(rp);
      }
      for (auto& rp : channel_plans) rooms_.push_back(std::move(rp));
      (void)space_index;
    }
    for (Snowflake id : wanted)
      if (!matched.count(id))
        return Status::NotFound("--channel " + std::to_string(id) + ": no such channel or thread in the selected guild(s)");
    for (const auto& rp : rooms_) sum_->messages += rp.total;
    sum_->rooms = static_cast<std::int64_t>(rooms_.size());
    return Status::Ok();
  }

  static bool IsPrivate(const Channel& c, Snowflake guild_id) {
    if (!c.overwrites) return false;
    for (const auto& ow : *c.overwrites)
      if (ow.type == 0 && ow.id == guild_id && (ow.deny & kViewChannel)) return true;
    return false;
  }

  Status CountRoom(RoomPlan* rp) {
    std::int64_t n = 0;
    FERRY_RETURN_IF_ERROR(store_->CountMessages(rp->channel.id, &n));
    rp->total = n;
    for (const auto& t : rp->threads) {
      FERRY_RETURN_IF_ERROR(store_->CountMessages(t.id, &n));
      rp->total += n;
    }
    return Status::Ok();
  }

  Json PowerUsers(const Guild& g, const std::vector<Role>& roles) {
    std::set<Snowflake> admin, mod;
    for (const auto& r : roles) {
      if (!r.permissions) continue;
      if (*r.permissions & kAdministrator) admin.insert(r.id);
      else if (*r.permissions & kModeratorBits) mod.insert(r.id);
    }
    Json users = Json::object();
    users[bot_] = 100;
    if (g.owner_id) users[Ghost(*g.owner_id)] = 100;
    if (admin.empty() && mod.empty()) return users;
    Snowflake after = 0;
    while (users.size() < kMaxPowerUsers) {
      std::vector<Member> page;
      if (!store_->ListMembers(g.id, after, 500, &page).ok() || page.empty()) break;
      for (const auto& m : page) {
        after = m.user_id;
        if (!m.role_ids) continue;
        int level = 0;
        for (Snowflake r : *m.role_ids) {
          if (admin.count(r)) level = 100;
          else if (mod.count(r) && level < 50) level = 50;
        }
        if (level && !users.contains(Ghost(m.user_id))) users[Ghost(m.user_id)] = level;
        if (users.size() >= kMaxPowerUsers) break;
      }
    }
    return users;
  }

  // ---- dry run ----------------------------------------------------------------------------------------
  Status DryRun() {
    Json plan = {{"rooms", Json::array()}};
    std::unordered_set<Snowflake> authors;
    std::int64_t to_send = 0, already = 0, attachments = 0, missing = 0, reactions = 0;
    for (const auto& rp : rooms_) {
      std::string existing;
      bool exists = GetMap(rp.key, &existing);
      Json r = {{"kind", rp.is_space ? "space" : "room"}, {"id", std::to_string(rp.channel.id)},
                {"name", rp.channel.name.value_or("")}, {"private", rp.is_private},
                {"room_id", exists ? Json(existing) : Json(nullptr)}, {"messages", rp.total},
                {"threads", rp.threads.size()}};
      std::int64_t room_send = 0;
      std::vector<Snowflake> sources;
      if (!rp.is_space) sources.push_back(rp.channel.id);
      for (const auto& t : rp.threads) sources.push_back(t.id);
      for (Snowflake ch : sources) {
        FERRY_RETURN_IF_ERROR(store_->ForEachMessage(ch, [&](const Message& m) {
          std::string v;
          if (store_->GetMapping(target_, "msg:" + std::to_string(m.id), &v).ok() && !v.empty()) {
            ++already;
            return true;
          }
          ++room_send;
          if (m.author_id) authors.insert(*m.author_id);
          if (m.attachments)
            for (const auto& a : *m.attachments) {
              ++attachments;
              if (!a.sha256 || store_->BlobPath(*a.sha256).empty()) ++missing;
            }
          if (m.reactions)
            for (const auto& re : *m.reactions) {
              reactions += re.count;
              for (Snowflake u : re.user_ids) authors.insert(u);
            }
          return true;
        }));
      }
      r["to_send"] = room_send;
      to_send += room_send;
      plan["rooms"].push_back(r);
    }
    std::int64_t new_ghosts = 0;
    for (Snowflake u : authors) {
      std::string v;
      if (!(store_->GetMapping(target_, "user:" + std::to_string(u), &v).ok() && !v.empty())) ++new_ghosts;
    }
    plan["homeserver"] = o_.homeserver;
    plan["server_name"] = o_.server_name;
    plan["to_send"] = to_send;
    plan["already_sent"] = already;
    plan["ghosts"] = authors.size();
    plan["ghosts_to_register"] = new_ghosts;
    plan["ghost_example"] = Ghost(1234567890123456789ULL);
    plan["attachments"] = attachments;
    plan["attachments_missing"] = missing;
    plan["reactions"] = reactions;
    sum_->plan = plan;
    sum_->skipped_existing = already;
    return Status::Ok();
  }

  // ---- phase 1: server check, spaces and rooms ------------------------------------------------------------
  Status CheckServer(MatrixClient& mx) {
    MxResponse r;
    Status st = mx.Call("GET", "/_matrix/client/versions", {}, nullptr, &r);
    if (!st.ok()) return Status::IoError(o_.homeserver + ": " + st.message());
    if (!r.ok() || !r.json.is_object() || !r.json.contains("versions"))
      return Status::InvalidInput(o_.homeserver + " does not answer /_matrix/client/versions like a Matrix homeserver (" +
                                  r.Describe() + ")");
    bool has_ts = false;
    for (const auto& v : r.json["versions"]) {
      if (!v.is_string()) continue;
      std::string s = v.get<std::string>();
      if (s.rfind("v1.", 0) == 0 && std::atoi(s.c_str() + 3) >= 3) has_ts = true;
    }
    if (!has_ts)
      progress_->Note("warning: the homeserver does not advertise spec v1.3+; it may ignore `ts` (original times)");
    st = mx.Call("GET", "/_matrix/client/v3/account/whoami", {}, nullptr, &r);
    if (!st.ok()) return Status::IoError(o_.homeserver + ": " + st.message());
    if (!r.ok())
      return Status::PermissionDenied(o_.homeserver + " refused the registration's as_token (" + r.Describe() +
                                      "); is the registration file listed in the homeserver's config "
                                      "(Synapse: app_service_config_files) and the homeserver restarted?");
    std::string who = r.json.value("user_id", "");
    if (who != bot_)
      return Status::InvalidInput("the as_token belongs to " + who + ", but the registration's sender is " + bot_ +
                                  "; check --server-name (" + o_.server_name + ")");
    return Status::Ok();
  }

  Status EnsureRoom(MatrixClient& mx, RoomPlan* rp) {
    std::string id;
    if (GetMap(rp->key, &id)) {
      rp->room_id = id;
      rp->existed = true;
      return Status::Ok();
    }
    Json body = Json::object();
    body["preset"] = rp->is_private ? "private_chat" : "public_chat";
    body["visibility"] = "private";  // not published in the server's room directory
    body["name"] = rp->channel.name.value_or(std::to_string(rp->channel.id));
    if (rp->channel.topic && !rp->channel.topic->empty()) body["topic"] = *rp->channel.topic;
    body["room_alias_name"] = rp->alias_local;
    Json initial = Json::array();
    initial.push_back({{"type", "m.room.history_visibility"}, {"state_key", ""}, {"content", {{"history_visibility", "shared"}}}});
    if (!rp->parent_room.empty())
      initial.push_back({{"type", "m.space.parent"}, {"state_key", rp->parent_room},
                         {"content", {{"via", {o_.server_name}}, {"canonical", true}}}});
    Json pl = {{"users", power_[rp->guild_id]}, {"users_default", 0}, {"events_default", rp->is_space ? 100 : 0},
               {"state_default", 50}, {"invite", 50}, {"kick", 50}, {"ban", 50}, {"redact", 50},
               {"events", {{"m.room.name", 50}, {"m.room.power_levels", 100}, {"m.room.history_visibility", 100},
                           {"m.room.tombstone", 100}, {"m.room.pinned_events", 50}, {"m.space.child", 50},
                           {"m.room.avatar", 50}, {"m.room.encryption", 100}, {"m.room.server_acl", 100}}}};
    body["power_level_content_override"] = pl;
    if (rp->is_space) body["creation_content"] = {{"type", "m.space"}};
    if (rp->is_space && rp->channel.id == rp->guild_id && !icon_[rp->guild_id].empty()) {
      std::string mxc;
      Status st = UploadBlob(mx, icon_[rp->guild_id], "icon.png", std::nullopt, &mxc);
      if (!st.ok() && st.code() != Status::Code::kNotFound) return st;
      if (!mxc.empty()) initial.push_back({{"type", "m.room.avatar"}, {"state_key", ""}, {"content", {{"url", mxc}}}});
    }
    body["initial_state"] = initial;
    MxResponse r;
    FERRY_RETURN_IF_ERROR(mx.Call("POST", "/_matrix/client/v3/createRoom", {}, &body, &r));
    if (!r.ok() && r.errcode == "M_ROOM_IN_USE") {
      // An earlier run created the room but was stopped before recording it: adopt the room behind the alias.
      std::string alias = "#" + rp->alias_local + ":" + o_.server_name;
      FERRY_RETURN_IF_ERROR(mx.Call("GET", "/_matrix/client/v3/directory/room/" + UrlEncode(alias), {}, nullptr, &r));
      if (!r.ok())
        return Status::InvalidInput("Discord " + std::to_string(rp->channel.id) + ": alias " + alias +
                                    " is taken but cannot be resolved: " + r.Describe());
      rp->existed = true;
    } else if (!r.ok() && (r.errcode == "M_EXCLUSIVE" || r.errcode == "M_FORBIDDEN" || r.errcode == "M_INVALID_PARAM")) {
      // The alias is outside what this AS may create; without it a rerun after a crash here could create a
      // second room, so say so.
      progress_->Note("warning: cannot reserve alias #" + rp->alias_local + ":" + o_.server_name + " (" + r.Describe() +
                      "); creating the room without it");
      body.erase("room_alias_name");
      FERRY_RETURN_IF_ERROR(mx.Call("POST", "/_matrix/client/v3/createRoom", {}, &body, &r));
    }
    if (!r.ok() || !r.json.is_object() || !r.json.contains("room_id") || !r.json["room_id"].is_string())
      return Status::InvalidInput("Discord " + std::to_string(rp->channel.id) + " (" + rp->channel.name.value_or("") +
                                  "): createRoom failed: " + r.Describe());
    rp->room_id = r.json["room_id"].get<std::string>();
    if (!rp->existed) sum_->rooms_created++;
    return PutMap(rp->key, rp->room_id);
  }

  Status LinkChild(MatrixClient& mx, const RoomPlan& rp) {
    if (rp.parent_room.empty()) return Status::Ok();
    int pos = std::clamp(rp.channel.position.value_or(0), 0, 999999);
    char order[16];
    std::snprintf(order, sizeof order, "%06d", pos);
    Json content = {{"via", {o_.server_name}}, {"order", std::string(order)}};
    MxResponse r;
    FERRY_RETURN_IF_ERROR(mx.Call("PUT", "/_matrix/client/v3/rooms/" + UrlEncode(rp.parent_room) + "/state/m.space.child/" +
                                             UrlEncode(rp.room_id), {}, &content, &r));
    if (!r.ok())
      return Status::InvalidInput("Discord " + std::to_string(rp.channel.id) + ": linking room into its space failed: " +
                                  r.Describe());
    return Status::Ok();
  }

  Status CreateRooms(MatrixClient& mx) {
    std::map<Snowflake, std::string> space_of;  // guild or category id -> room id
    for (auto& rp : rooms_) {
      if (o_.cancelled && o_.cancelled()) return Status::Interrupted("interrupted");
      if (rp.is_space && rp.channel.id != rp.guild_id) rp.parent_room = space_of[rp.guild_id];
      if (!rp.is_space) {
        Snowflake parent = rp.channel.parent_id.value_or(0);
        rp.parent_room = space_of.count(parent) ? space_of[parent] : space_of[rp.guild_id];
      }
      progress_->Update("creating rooms: " + rp.channel.name.value_or(""), 0, 0, 0);
      FERRY_RETURN_IF_ERROR(EnsureRoom(mx, &rp));
      FERRY_RETURN_IF_ERROR(LinkChild(mx, rp));
      if (rp.is_space) space_of[rp.channel.id] = rp.room_id;
      channel_room_[rp.channel.id] = rp.room_id;
      for (const auto& t : rp.threads) channel_room_[t.id] = rp.room_id;
    }
    return Status::Ok();
  }

  // ---- ghosts, membership, media -------------------------------------------------------------------------
  Status UploadBlob(MatrixClient& mx, const std::string& sha, const std::string& filename,
                    const std::optional<std::string>& as_user, std::string* mxc) {
    if (GetMap("media:" + sha, mxc)) return Status::Ok();
    std::string path;
    {
      std::lock_guard<std::mutex> l(store_mu_);
      path = store_->BlobPath(sha);
    }
    if (path.empty() || !std::filesystem::exists(path)) return Status::NotFound("blob " + sha + " is missing");
    MxResponse r;
    FERRY_RETURN_IF_ERROR(mx.Upload(path, GuessMime(filename), filename, as_user, mxc, &r));
    if (!r.ok()) return Status::InvalidInput("upload of " + filename + " failed: " + r.Describe());
    {
      std::lock_guard<std::mutex> l(sum_mu_);
      sum_->uploads++;
    }
    return PutMap("media:" + sha, *mxc);
  }

  // Registers the ghost of a Discord user and sets its profile, once per store.
  Status EnsureGhost(MatrixClient& mx, Snowflake user_id) {
    std::shared_ptr<GhostState> g;
    {
      std::lock_guard<std::mutex> l(ghosts_mu_);
      auto& slot = ghosts_[user_id];
      if (!slot) slot = std::make_shared<GhostState>();
      g = slot;
    }
    std::lock_guard<std::mutex> l(g->mu);
    if (g->done) return Status::Ok();
    if (g->failed) return Status::InvalidInput(g->error);
    std::string v;
    if (GetMap("user:" + std::to_string(user_id), &v)) {
      g->done = true;
      return Status::Ok();
    }
    std::string mxid = Ghost(user_id);
    MxResponse r;
    Json body = {{"type", "m.login.application_service"}, {"username", o_.user_prefix + std::to_string(user_id)},
                 {"inhibit_login", true}};
    FERRY_RETURN_IF_ERROR(mx.Call("POST", "/_matrix/client/v3/register", {}, &body, &r));
    if (!r.ok() && r.errcode != "M_USER_IN_USE") {
      g->failed = true;
      g->error = "registering ghost " + mxid + " failed: " + r.Describe();
      if (r.errcode == "M_EXCLUSIVE")
        g->error += " (the registration's user namespace must cover @" + o_.user_prefix + "<digits>:" + o_.server_name + ")";
      return Status::InvalidInput(g->error);
    }
    if (r.ok()) {
      std::lock_guard<std::mutex> sl(sum_mu_);
      sum_->ghosts_registered++;
    }
    User u = *GetUser(user_id);
    Json dn = {{"displayname", DisplayName(u)}};
    FERRY_RETURN_IF_ERROR(mx.Call("PUT", "/_matrix/client/v3/profile/" + UrlEncode(mxid) + "/displayname",
                                  {{"user_id", mxid}}, &dn, &r));
    if (!r.ok()) Note("warning: display name of " + mxid + ": " + r.Describe());
    if (u.avatar_sha256 && !u.avatar_sha256->empty()) {
      std::string mxc;
      Status st = UploadBlob(mx, *u.avatar_sha256, "avatar.png", mxid, &mxc);
      if (st.code() == Status::Code::kIoError || st.code() == Status::Code::kInterrupted) return st;
      if (!mxc.empty()) {
        Json av = {{"avatar_url", mxc}};
        FERRY_RETURN_IF_ERROR(mx.Call("PUT", "/_matrix/client/v3/profile/" + UrlEncode(mxid) + "/avatar_url",
                                      {{"user_id", mxid}}, &av, &r));
        if (!r.ok()) Note("warning: avatar of " + mxid + ": " + r.Describe());
      }
    }
    FERRY_RETURN_IF_ERROR(PutMap("user:" + std::to_string(user_id), mxid));
    g->done = true;
    return Status::Ok();
  }

  struct RoomRun {
    RoomPlan* plan;
    std::unordered_set<Snowflake> joined;
    std::map<Snowflake, std::string> thread_root;
    std::map<Snowflake, std::string> thread_last;
    std::map<Snowflake, std::string> thread_names;
  };

  Status EnsureJoined(MatrixClient& mx, RoomRun& rr, Snowflake user_id) {
    if (rr.joined.count(user_id)) return Status::Ok();
    std::string key = "join:" + std::to_string(rr.plan->channel.id) + ":" + std::to_string(user_id);
    std::string v;
    if (GetMap(key, &v)) {
      rr.joined.insert(user_id);
      return Status::Ok();
    }
    FERRY_RETURN_IF_ERROR(EnsureGhost(mx, user_id));
    std::string mxid = Ghost(user_id);
    MxResponse r;
    const std::string room = UrlEncode(rr.plan->room_id);
    if (rr.plan->is_private) {
      Json inv = {{"user_id", mxid}};
      FERRY_RETURN_IF_ERROR(mx.Call("POST", "/_matrix/client/v3/rooms/" + room + "/invite", {}, &inv, &r));
      // "already in the room" is the answer a rerun gets; the join below settles it either way.
      if (!r.ok() && r.errcode != "M_FORBIDDEN")
        return Status::InvalidInput("inviting " + mxid + " failed: " + r.Describe());
    }
    Json empty = Json::object();
    FERRY_RETURN_IF_ERROR(mx.Call("POST", "/_matrix/client/v3/join/" + room, {{"user_id", mxid}}, &empty, &r));
    if (!r.ok()) return Status::InvalidInput(mxid + " cannot join " + rr.plan->room_id + ": " + r.Describe());
    rr.joined.insert(user_id);
    return PutMap(key, "1");
  }

  // ---- sending -------------------------------------------------------------------------------------------
  // Sends one event unless an earlier run already did (recorded, or found at the room's end on resume).
  // `record` = write "ev:<txn>" (parts of multi-event messages; single events are recorded by the caller).
  Status SendEvent(MatrixClient& mx, RoomRun& rr, const std::string& type, Json content, const std::string& txn,
                   const std::optional<std::string>& as_user, std::int64_t ts, bool record, std::string* event_id,
                   MxResponse* r) {
    if (GetMap("ev:" + txn, event_id)) return Status::Ok();
    content["org.ferry.txn"] = txn;
    Query q;
    if (as_user) q.push_back({"user_id", *as_user});
    q.push_back({"ts", std::to_string(ts)});
    FERRY_RETURN_IF_ERROR(mx.Call("PUT", "/_matrix/client/v3/rooms/" + UrlEncode(rr.plan->room_id) + "/send/" +
                                             UrlEncode(type) + "/" + UrlEncode(txn), q, &content, r));
    if (!r->ok()) {
      if (r->errcode == "M_DUPLICATE_ANNOTATION") {  // a rerun after the server forgot the txn: already there
        *event_id = "-";
        return record ? PutMap("ev:" + txn, *event_id) : Status::Ok();
      }
      if (r->http == 401) return Status::PermissionDenied("the homeserver stopped accepting the as_token: " + r->Describe());
      return Status::InvalidInput(r->Describe());
    }
    if (!r->json.is_object() || !r->json.contains("event_id") || !r->json["event_id"].is_string())
      return Status::InvalidInput("send answer has no event_id");
    *event_id = r->json["event_id"].get<std::string>();
    {
      std::lock_guard<std::mutex> l(sum_mu_);
      sum_->events++;
    }
    if (record) return PutMap("ev:" + txn, *event_id);
    return Status::Ok();
  }

  // After a crash, the one event whose answer was lost is at the room's end: find it by its txn marker.
  Status RecoverTail(MatrixClient& mx, RoomRun& rr) {
    MxResponse r;
    FERRY_RETURN_IF_ERROR(mx.Call("GET", "/_matrix/client/v3/rooms/" + UrlEncode(rr.plan->room_id) + "/messages",
                                  {{"dir", "b"}, {"limit", "50"}}, nullptr, &r));
    if (!r.ok() || !r.json.is_object() || !r.json.contains("chunk") || !r.json["chunk"].is_array())
      return Status::InvalidInput("reading the end of " + rr.plan->room_id + " failed: " + r.Describe());
    for (const auto& ev : r.json["chunk"]) {
      if (!ev.is_object() || !ev.contains("content") || !ev["content"].is_object()) continue;
      const Json& c = ev["content"];
      if (!c.contains("org.ferry.txn") || !c["org.ferry.txn"].is_string() || !ev.contains("event_id")) continue;
      std::string txn = c["org.ferry.txn"].get<std::string>(), have;
      if (!GetMap("ev:" + txn, &have)) FERRY_RETURN_IF_ERROR(PutMap("ev:" + txn, ev["event_id"].get<std::string>()));
    }
    return Status::Ok();
  }

  std::optional<std::string> ReplyTarget(const Message& m, const RoomRun& rr) {
    if (!m.reference || !m.reference->message_id || m.reference->type != 0) return std::nullopt;
    Snowflake ref_channel = m.reference->channel_id.value_or(m.channel_id);
    auto it = channel_room_.find(ref_channel);
    if (it == channel_room_.end() || it->second != rr.plan->room_id) return std::nullopt;  // other room
    std::string ev;
    if (!GetMap("msg:" + std::to_string(*m.reference->message_id), &ev) || ev == "-") return std::nullopt;
    return ev;
  }

  Status ThreadRoot(MatrixClient& mx, RoomRun& rr, Snowflake thread_id, std::string* root) {
    auto it = rr.thread_root.find(thread_id);
    if (it != rr.thread_root.end()) {
      *root = it->second;
      return Status::Ok();
    }
    if (GetMap("ev:" + TxnId("t", thread_id), root)) {
      rr.thread_root[thread_id] = *root;
      return Status::Ok();
    }
    // A thread started from a message in the parent channel shares that message's id (a forum post's first
    // message shares it too, but lives in the thread itself and cannot be the root).
    Message starter;
    bool in_parent;
    {
      std::lock_guard<std::mutex> l(store_mu_);
      in_parent = store_->GetMessage(rr.plan->channel.id, thread_id, &starter).ok();
    }
    if (in_parent && GetMap("msg:" + std::to_string(thread_id), root) && *root != "-") {
      rr.thread_root[thread_id] = *root;
      return Status::Ok();
    }
    Json c = {{"msgtype", "m.notice"}, {"body", "Thread: " + rr.thread_names[thread_id]},
              {"org.ferry.discord_thread_id", std::to_string(thread_id)}};
    MxResponse r;
    Status st = SendEvent(mx, rr, "m.room.message", c, TxnId("t", thread_id), std::nullopt, SnowflakeTimeMs(thread_id),
                          true, root, &r);
    if (!st.ok()) return st;
    rr.thread_root[thread_id] = *root;
    return Status::Ok();
  }

  Formatted Format(const Message& m) {
    FormatContext ctx;
    ctx.user = [&](Snowflake id) -> std::optional<MentionTarget> {
      auto u = GetUser(id);
      return MentionTarget{Ghost(id), DisplayName(*u)};
    };
    ctx.channel = [&](Snowflake id) -> std::optional<MentionTarget> {
      auto n = channel_names_.find(id);
      if (n == channel_names_.end()) return std::nullopt;
      auto r = channel_room_.find(id);
      return MentionTarget{r == channel_room_.end() ? "" : r->second, n->second};
    };
    ctx.role = [&](Snowflake id) -> std::optional<std::string> {
      auto n = role_names_.find(id);
      if (n == role_names_.end()) return std::nullopt;
      return n->second;
    };
    return FormatDiscordMarkdown(m.content.value_or(""), ctx);
  }

  static std::string EmbedText(const std::vector<Json>& embeds) {
    std::string out;
    for (const auto& e : embeds) {
      if (!e.is_object()) continue;
      std::string part;
      for (const char* k : {"title", "description", "url"})
        if (e.contains(k) && e[k].is_string() && !e[k].get<std::string>().empty())
          part += (part.empty() ? "" : "\n") + e[k].get<std::string>();
      if (e.contains("fields") && e["fields"].is_array())
        for (const auto& f : e["fields"])
          if (f.is_object() && f.contains("name") && f.contains("value") && f["name"].is_string() && f["value"].is_string())
            part += "\n" + f["name"].get<std::string>() + ": " + f["value"].get<std::string>();
      if (!part.empty()) out += (out.empty() ? "" : "\n\n") + part;
    }
    return out;
  }

  // Sends every event of one message. Returns non-ok for a permanent failure of this message (reported by
  // the caller) or for a fatal condition (kIoError, kPermissionDenied, kInterrupted: the caller stops).
  Status SendMessage(MatrixClient& mx, RoomRun& rr, const Message& m, bool* skipped, std::string* what) {
    *skipped = false;
    const std::string id = std::to_string(m.id);
    if (m.type == 6 || m.type == 18 || m.type == 21) {  // pin notice, thread created, thread starter copy
      *skipped = true;
      return Status::Ok();
    }
    bool in_thread = m.channel_id != rr.plan->channel.id;
    std::string content = m.content.value_or("");
    std::vector<Attachment> attachments = m.attachments.value_or(std::vector<Attachment>{});
    std::vector<Sticker> stickers = m.stickers.value_or(std::vector<Sticker>{});
    std::string embed_text = m.embeds ? EmbedText(*m.embeds) : "";
    if (content.empty() && m.type == 7) content = "joined the server.";
    if (content.empty() && attachments.empty() && stickers.empty() && embed_text.empty()) {
      *skipped = true;
      return Status::Ok();
    }

    std::optional<std::string> sender;
    if (m.author_id) {
      *what = "joining the author's ghost";
      FERRY_RETURN_IF_ERROR(EnsureJoined(mx, rr, *m.author_id));
      sender = Ghost(*m.author_id);
    }
    std::int64_t ts = m.timestamp.ms > 0 ? m.timestamp.ms : SnowflakeTimeMs(m.id);

    // Relations shared by every event of the message.
    std::optional<std::string> reply = ReplyTarget(m, rr);
    std::string root;
    if (in_thread) {
      *what = "starting the thread";
      FERRY_RETURN_IF_ERROR(ThreadRoot(mx, rr, m.channel_id, &root));
    }
    auto relate = [&](Json& c) {
      if (in_thread) {
        std::string last = rr.thread_last.count(m.channel_id) ? rr.thread_last[m.channel_id] : root;
        c["m.relates_to"] = {{"rel_type", "m.thread"}, {"event_id", root}, {"is_falling_back", !reply},
                             {"m.in_reply_to", {{"event_id", reply ? *reply : last}}}};
      } else if (reply) {
        c["m.relates_to"] = {{"m.in_reply_to", {{"event_id", *reply}}}};
      }
    };
    auto mark = [&](Json& c) {
      c["org.ferry.discord_message_id"] = id;
      if (m.edited) c["org.ferry.edited_ms"] = m.edited->ms;
    };

    int parts = (!content.empty() || !embed_text.empty() ? 1 : 0) + static_cast<int>(attachments.size()) +
                static_cast<int>(stickers.size()) + (m.edited && !content.empty() ? 1 : 0);
    if (m.reactions)
      for (const auto& re : *m.reactions) parts += static_cast<int>(re.user_ids.size()) + (re.count > static_cast<int>(re.user_ids.size()) ? 1 : 0);
    bool multi = parts > 1;
    std::string main_event;
    std::string main_msgtype;
    Json main_new_content;
    MxResponse r;

    if (!content.empty() || !embed_text.empty()) {
      Json c = Json::object();
      if (!content.empty()) {
        main_msgtype = m.type == 7 ? "m.emote" : "m.text";
        c["msgtype"] = main_msgtype;
        c["body"] = content;
        if (m.content) {
          Formatted f = Format(m);
          if (!f.html.empty()) {
            c["format"] = "org.matrix.custom.html";
            c["formatted_body"] = f.html;
          }
          c["m.mentions"] = {{"user_ids", f.mentioned}};
        }
        if (!embed_text.empty()) c["org.ferry.embeds"] = *m.embeds;
      } else {
        main_msgtype = "m.notice";
        c["msgtype"] = "m.notice";
        c["body"] = embed_text;
      }
      main_new_content = c;
      relate(c);
      mark(c);
      *what = "sending the message";
      FERRY_RETURN_IF_ERROR(SendEvent(mx, rr, "m.room.message", c, TxnId("m", m.id), sender, ts, multi, &main_event, &r));
    }

    for (std::size_t i = 0; i < attachments.size(); ++i) {
      const Attachment& a = attachments[i];
      std::string part = a.id ? std::to_string(a.id) : std::to_string(i);
      std::string mxc;
      Status up = a.sha256 && !a.sha256->empty() ? UploadBlob(mx, *a.sha256, a.filename, sender, &mxc)
                                                : Status::NotFound("not downloaded");
      if (up.code() == Status::Code::kIoError || up.code() == Status::Code::kInterrupted) return up;
      if (!up.ok() && up.code() != Status::Code::kNotFound) {
        *what = "uploading " + a.filename;
        return up;
      }
      Json c;
      std::string txn;
      if (up.ok()) {
        std::string mime = a.content_type.value_or(GuessMime(a.filename));
        c = {{"msgtype", MsgtypeFor(mime, a.filename)}, {"body", a.filename}, {"filename", a.filename}, {"url", mxc}};
        Json info = {{"mimetype", mime}};
        if (a.size) info["size"] = *a.size;
        if (a.width) info["w"] = *a.width;
        if (a.height) info["h"] = *a.height;
        c["info"] = info;
        txn = TxnId("a", m.id, part);
      } else {
        std::string body = "\xF0\x9F\x93\x8E " + a.filename;
        if (a.size) body += " (" + HumanSize(*a.size) + ")";
        body += " \xE2\x80\x94 this attachment was not downloaded before the move, so its file is missing.";
        if (a.url && a.url->rfind("http", 0) == 0) body += "\nOriginal link (probably expired): " + *a.url;
        c = {{"msgtype", "m.notice"}, {"body", body},
             {"org.ferry.missing_attachment", {{"filename", a.filename}, {"size", a.size ? Json(*a.size) : Json(nullptr)}}}};
        txn = TxnId("n", m.id, part);
      }
      relate(c);
      mark(c);
      std::string ev;
      *what = "sending attachment " + a.filename;
      FERRY_RETURN_IF_ERROR(SendEvent(mx, rr, "m.room.message", c, txn, sender, ts, multi, &ev, &r));
      if (!up.ok()) {
        std::lock_guard<std::mutex> l(sum_mu_);
        sum_->media_missing++;
      }
      if (main_event.empty()) main_event = ev;
    }

    for (std::size_t i = 0; i < stickers.size(); ++i) {
      const Sticker& s = stickers[i];
      std::string mxc;
      Status up = s.sha256 && !s.sha256->empty() && s.format != 3 ? UploadBlob(mx, *s.sha256, s.name + ".png", sender, &mxc)
                                                                  : Status::NotFound("no image");
      if (up.code() == Status::Code::kIoError || up.code() == Status::Code::kInterrupted) return up;
      Json c = up.ok() ? Json{{"msgtype", "m.image"}, {"body", "Sticker: " + s.name}, {"url", mxc},
                               {"info", {{"mimetype", s.format == 4 ? "image/gif" : "image/png"}}}}
                       : Json{{"msgtype", "m.notice"}, {"body", "Sticker: " + s.name}};
      relate(c);
      mark(c);
      std::string ev;
      *what = "sending sticker " + s.name;
      FERRY_RETURN_IF_ERROR(SendEvent(mx, rr, "m.room.message", c, TxnId("s", m.id, std::to_string(i)), sender, ts, multi, &ev, &r));
      if (main_event.empty()) main_event = ev;
    }
    if (main_event.empty()) {
      *skipped = true;
      return Status::Ok();
    }

    if (m.edited && !content.empty() && main_msgtype != "m.notice") {
      // The store has only the final text; an m.replace carrying it makes clients show "(edited)" with the
      // time of the last edit.
      Json nc = main_new_content;
      nc.erase("m.mentions");
      Json c = {{"msgtype", main_msgtype}, {"body", "* " + content}, {"m.new_content", nc},
                {"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", main_event}}},
                {"m.mentions", Json::object()}};
      if (nc.contains("formatted_body")) {
        c["format"] = "org.matrix.custom.html";
        c["formatted_body"] = "* " + nc["formatted_body"].get<std::string>();
      }
      std::string ev;
      *what = "marking the message edited";
      std::int64_t ets = std::max(ts, m.edited->ms);
      FERRY_RETURN_IF_ERROR(SendEvent(mx, rr, "m.room.message", c, TxnId("e", m.id), sender, ets, multi, &ev, &r));
    }

    if (m.reactions) {
      for (const auto& re : *m.reactions) {
        std::string key = re.emoji.id ? ":" + re.emoji.name + ":" : re.emoji.name;
        if (key.empty() || key == "::") continue;
        std::string ek = Hex64(re.emoji.Key());
        for (Snowflake u : re.user_ids) {
          *what = "reacting " + key + " as " + std::to_string(u);
          FERRY_RETURN_IF_ERROR(EnsureJoined(mx, rr, u));
          Json c = {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", main_event}, {"key", key}}}};
          std::string ev;
          FERRY_RETURN_IF_ERROR(SendEvent(mx, rr, "m.reaction", c, TxnId("r", m.id, ek + "." + std::to_string(u)), Ghost(u),
                                          ts, multi, &ev, &r));
          std::lock_guard<std::mutex> l(sum_mu_);
          sum_->reactions++;
        }
        int rest = re.count - static_cast<int>(re.user_ids.size());
        if (rest > 0) {
          // Reactors the export did not list: one annotation by the bridge bot, with how many it stands for.
          Json c = {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", main_event}, {"key", key}}},
                    {"org.ferry.count", rest}, {"org.ferry.note", std::to_string(rest) + " Discord user(s) reacted " + key}};
          std::string ev;
          *what = "reacting " + key + " for unlisted users";
          FERRY_RETURN_IF_ERROR(SendEvent(mx, rr, "m.reaction", c, TxnId("r", m.id, ek + ".rest"), std::nullopt, ts, multi, &ev, &r));
          std::lock_guard<std::mutex> l(sum_mu_);
          sum_->reactions++;
        }
      }
    }
    if (in_thread) rr.thread_last[m.channel_id] = main_event;
    return PutMap("msg:" + id, main_event);
  }

  // Pages through one channel's messages oldest first, in constant memory.
  struct Source {
    Snowflake channel = 0;
    std::vector<Message> buf;
    std::size_t idx = 0;
    Snowflake after = 0;
    bool exhausted = false;
  };

  Status Refill(Source& s) {
    if (s.exhausted || s.idx < s.buf.size()) return Status::Ok();
    MessageQuery q;
    q.channel_id = s.channel;
    q.after = s.after;
    q.limit = 100;
    s.buf.clear();
    s.idx = 0;
    {
      std::lock_guard<std::mutex> l(store_mu_);
      FERRY_RETURN_IF_ERROR(store_->ListMessages(q, &s.buf));
    }
    std::sort(s.buf.begin(), s.buf.end(), [](const Message& a, const Message& b) { return a.id < b.id; });
    while (!s.buf.empty() && s.buf.front().id <= s.after) s.buf.erase(s.buf.begin());
    if (s.buf.empty()) s.exhausted = true;
    else s.after = s.buf.back().id;
    return Status::Ok();
  }

  Status ExportRoom(MatrixClient& mx, RoomPlan& rp) {
    RoomRun rr;
    rr.plan = &rp;
    for (const auto& t : rp.threads) rr.thread_names[t.id] = t.name.value_or(std::to_string(t.id));
    if (rp.existed) FERRY_RETURN_IF_ERROR(RecoverTail(mx, rr));
    std::vector<Source> sources;
    auto add = [&](Snowflake ch) {
      Source s;
      s.channel = ch;
      sources.push_back(std::move(s));
    };
    add(rp.channel.id);
    for (const auto& t : rp.threads) add(t.id);
    std::int64_t done = 0, sent_here = 0;
    auto started = std::chrono::steady_clock::now();
    const std::string label = "#" + rp.channel.name.value_or(std::to_string(rp.channel.id));
    while (true) {
      if (fatal_.set) return Status::Ok();
      if (o_.cancelled && o_.cancelled()) return Status::Interrupted("interrupted");
      Source* next = nullptr;
      for (auto& s : sources) {
        FERRY_RETURN_IF_ERROR(Refill(s));
        if (!s.exhausted && (!next || s.buf[s.idx].id < next->buf[next->idx].id)) next = &s;
      }
      if (!next) break;
      const Message m = std::move(next->buf[next->idx++]);
      ++done;
      std::string have;
      if (GetMap("msg:" + std::to_string(m.id), &have)) {
        std::lock_guard<std::mutex> l(sum_mu_);
        sum_->skipped_existing++;
      } else {
        bool skipped = false;
        std::string what;
        Status st = SendMessage(mx, rr, m, &skipped, &what);
        if (st.code() == Status::Code::kIoError || st.code() == Status::Code::kPermissionDenied ||
            st.code() == Status::Code::kInterrupted || st.code() == Status::Code::kStoreError)
          return st;
        if (!st.ok()) {
          Fail(std::to_string(m.id), label + ": " + what, st.message());
        } else {
          if (skipped) FERRY_RETURN_IF_ERROR(PutMap("msg:" + std::to_string(m.id), "-"));  // settled: nothing to send
          std::lock_guard<std::mutex> l(sum_mu_);
          if (skipped) sum_->skipped_other++;
          else { sum_->sent++; ++sent_here; }
        }
      }
      ReportProgress(label, done, rp.total, started);
    }
    FERRY_RETURN_IF_ERROR(Pins(mx, rr, sources));
    double secs = std::max(0.001, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    char line[256];
    std::snprintf(line, sizeof line, "%s: %lld sent of %lld in %.1fs (%.0f msg/s)", label.c_str(),
                  static_cast<long long>(sent_here), static_cast<long long>(rp.total), secs, sent_here / secs);
    Note(line);
    return Status::Ok();
  }

  Status Pins(MatrixClient& mx, RoomRun& rr, const std::vector<Source>& sources) {
    std::vector<Message> pinned;
    for (const auto& s : sources) {
      std::vector<Message> p;
      std::lock_guard<std::mutex> l(store_mu_);
      FERRY_RETURN_IF_ERROR(store_->ListPinned(s.channel, &p));
      pinned.insert(pinned.end(), p.begin(), p.end());
    }
    if (pinned.empty()) return Status::Ok();
    std::sort(pinned.begin(), pinned.end(), [](const Message& a, const Message& b) { return a.id < b.id; });
    Json ids = Json::array();
    std::int64_t ts = 0;
    for (const auto& m : pinned) {
      std::string ev;
      if (GetMap("msg:" + std::to_string(m.id), &ev) && ev != "-") {
        ids.push_back(ev);
        ts = std::max(ts, m.timestamp.ms);
      }
    }
    if (ids.empty()) return Status::Ok();
    Json c = {{"pinned", ids}};
    MxResponse r;
    FERRY_RETURN_IF_ERROR(mx.Call("PUT", "/_matrix/client/v3/rooms/" + UrlEncode(rr.plan->room_id) + "/state/m.room.pinned_events",
                                  {{"ts", std::to_string(ts)}}, &c, &r));
    if (!r.ok()) Fail(std::to_string(rr.plan->channel.id), "pinning messages in #" + rr.plan->channel.name.value_or(""), r.Describe());
    return Status::Ok();
  }

  void ReportProgress(const std::string& label, std::int64_t done, std::int64_t total,
                      std::chrono::steady_clock::time_point started) {
    std::int64_t all_done = ++progress_done_;
    std::lock_guard<std::mutex> l(progress_mu_);
    double secs = std::max(0.001, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    std::string eta;
    if (done > 0 && done < total) {
      double left = (total - done) / (done / secs);
      char b[96];
      std::snprintf(b, sizeof b, " %lld/%lld ETA %d:%02d", static_cast<long long>(done), static_cast<long long>(total),
                    static_cast<int>(left) / 60, static_cast<int>(left) % 60);
      eta = b;
    }
    progress_->Update(label + eta, all_done, sum_->messages, all_done);
  }

  void SendAll() {
    std::vector<RoomPlan*> work;
    for (auto& rp : rooms_)
      if (!rp.is_space) work.push_back(&rp);
    // Largest rooms first, so the last worker is not left alone with the biggest one.
    std::stable_sort(work.begin(), work.end(), [](RoomPlan* a, RoomPlan* b) { return a->total > b->total; });
    std::atomic<std::size_t> next{0};
    int n = std::max(1, std::min<int>(o_.parallel_rooms, static_cast<int>(work.size())));
    auto worker = [&]() {
      std::unique_ptr<MatrixClient> mx;
      Status st = NewClient(&mx);
      if (!st.ok()) {
        fatal_.Raise(st);
        return;
      }
      while (!fatal_.set) {
        std::size_t i = next++;
        if (i >= work.size()) break;
        st = ExportRoom(*mx, *work[i]);
        if (!st.ok()) fatal_.Raise(st);
      }
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < n; ++i) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    if (fatal_.set) {
      if (fatal_.status.code() == Status::Code::kInterrupted) sum_->interrupted = true;
      else sum_->fatal = fatal_.status.message();
    }
  }

  Store* store_;
  const MatrixExportOptions& o_;
  Progress* progress_;
  MatrixExportSummary* sum_;
  std::string target_, bot_;
  ClientCounters counters_;
  Fatal fatal_;
  std::mutex store_mu_, sum_mu_, users_mu_, ghosts_mu_, progress_mu_;
  std::vector<RoomPlan> rooms_;
  std::map<Snowflake, Json> power_;
  std::map<Snowflake, std::string> icon_;
  std::map<Snowflake, std::string> channel_room_;   // filled in phase 1, read-only afterwards
  std::map<Snowflake, std::string> channel_names_;
  std::map<Snowflake, std::string> role_names_;
  std::unordered_map<Snowflake, User> users_;
  std::map<Snowflake, std::shared_ptr<GhostState>> ghosts_;
  std::atomic<std::int64_t> progress_done_{0};
};

}  // namespace

Status ExportMatrix(Store* store, const MatrixExportOptions& options, Progress* progress, MatrixExportSummary* summary) {
  if (options.server_name.empty()) return Status::InvalidInput("--server-name is required");
  if (options.user_prefix.empty() || options.user_prefix.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._=-/") != std::string::npos)
    return Status::InvalidInput("--user-prefix '" + options.user_prefix +
                                "': Matrix user ids allow only a-z, 0-9 and ._=-/ here");
  if (!options.dry_run) {
    if (options.homeserver.empty()) return Status::InvalidInput("--homeserver is required (or use --dry-run)");
    if (options.registration.as_token.empty()) return Status::InvalidInput("--registration is required (or use --dry-run)");
  }
  if (!options.registration.users.empty()) {
    std::string sample = "@" + options.user_prefix + "1234567890123456789:" + options.server_name;
    if (!InUserNamespace(options.registration, sample))
      return Status::InvalidInput("the registration's user namespace does not cover the ghosts Ferry would create (e.g. " +
                                  sample + "); fix namespaces.users or --user-prefix/--server-name");
  } else if (!options.dry_run) {
    return Status::InvalidInput("the registration has no namespaces.users entry; the homeserver would refuse every ghost");
  }
  *summary = MatrixExportSummary();
  Exporter e(store, options, progress, summary);
  return e.Run();
}

}  // namespace ferry::matrix
