#include "importers/package/package.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "importers/package/layout.hpp"
#include "importers/package/records.hpp"
#include "store/snowflake.hpp"
#include "store/timestamp.hpp"

namespace ferry::package {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMaxChannelJson = 1 << 20;
constexpr std::int64_t kMaxIndexJson = 256LL << 20;
constexpr std::int64_t kMaxGuildJson = 256LL << 20;
constexpr std::int64_t kMaxUserJson = 16LL << 30;  // streamed and filtered: size costs time, not memory
constexpr std::int64_t kMaxAvatar = 16LL << 20;
constexpr std::int64_t kMaxReadme = 1 << 20;
constexpr std::int64_t kMaxMessagesFile = 64LL << 30;  // streamed record by record
constexpr std::size_t kMaxWarnings = 50;
constexpr std::int64_t kDayMs = 86'400'000;

// What a package message can never tell (message fields), and what its channel info lacks.
const Json& MessageLacks() {
  static const Json j = Json::array({"type", "edited", "pinned", "reference", "embeds", "stickers", "reactions",
                                     "mentions", "author_profile", "attachment_size", "attachment_media"});
  return j;
}
const Json& ChannelLacks() {
  static const Json j = Json::array({"topic", "position", "parent_id", "nsfw", "overwrites"});
  return j;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(const void* p, std::size_t n) { EVP_DigestUpdate(ctx_, p, n); }
  void Update(const std::string& s) { Update(s.data(), s.size()); }
  std::string Hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) out += kHex[md[i] >> 4], out += kHex[md[i] & 15];
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string HashString(const std::string& s) {
  Sha256 h;
  h.Update(s);
  return h.Hex();
}

Status HashFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open");
  Sha256 h;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    if (in.gcount() > 0) h.Update(buf, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return Status::IoError(path + ": read error");
  *out = h.Hex();
  return Status::Ok();
}

std::optional<Snowflake> IdFromJson(const Json& j) {
  if (j.is_string()) return ParseSnowflake(j.get<std::string>());
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer() && j.get<std::int64_t>() > 0) return static_cast<Snowflake>(j.get<std::int64_t>());
  return std::nullopt;
}

std::optional<std::string> StrField(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Status ParseSmallJson(EntryStream& in, std::int64_t limit, Json* out) {
  in.set_limit(limit);
  std::string text;
  FERRY_RETURN_IF_ERROR(ReadAll(in, &text));
  try {
    *out = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return Status::InvalidInput(in.name() + ": not valid JSON: " + e.what());
  }
  return Status::Ok();
}

// Keeps only the identity fields of user.json (it can be hundreds of MB of settings, payments, sessions):
// parsing with a filter keeps memory at the size of what is kept.
Status ParseUserJson(EntryStream& in, Json* out) {
  in.set_limit(kMaxUserJson);
  static const std::set<std::string> kKeep = {"id", "username", "global_name", "discriminator", "avatar_hash",
                                              "avatar", "bot", "relationships"};
  EntryStreamBuf buf(in);
  std::istream is(&buf);
  Json::parser_callback_t cb = [](int depth, Json::parse_event_t ev, Json& parsed) {
    if (ev == Json::parse_event_t::key && depth == 1) return kKeep.count(parsed.get<std::string>()) > 0;
    return true;
  };
  try {
    *out = Json::parse(is, cb);
  } catch (const Json::exception& e) {
    if (!in.status().ok()) return in.status();
    return Status::InvalidInput(in.name() + ": not valid JSON: " + e.what());
  }
  if (!in.status().ok()) return in.status();
  if (!out->is_object()) return Status::InvalidInput(in.name() + ": expected an account object");
  return Status::Ok();
}

struct ChannelInfo {
  Json json = Json::object();  // channel.json as given
  std::optional<int> type;
  bool type_is_string = false;
  std::optional<std::string> index_label;
  bool index_label_null = false;
};

class Importer {
 public:
  Importer(Store* store, std::string path, const Options& options, Result* result)
      : store_(store), path_(std::move(path)), opt_(options), result_(result) {
    progress_ = opt_.progress ? opt_.progress : &null_progress_;
  }

  Status Run() {
    FERRY_RETURN_IF_ERROR(Wrap(PackageSource::Open(path_, opt_.limits, &src_)));
    FERRY_RETURN_IF_ERROR(ListEntries());
    layout_ = FindLayout(names_);
    FERRY_RETURN_IF_ERROR(ReadMetadata());
    if (layout_.empty())
      return Status::InvalidInput(path_ + ": not a Discord data package: found no messages folder "
                                  "(index.json + c<id>/channel.json), no servers folder (<id>/guild.json) and no "
                                  "account folder (user.json)");
    DecideOwner();
    DecideSourceTime();
    FillSummaryHeader();

    // Same package imported and finished before: nothing to do (the same input changes nothing).
    if (!opt_.force) {
      std::vector<ImportRun> runs;
      FERRY_RETURN_IF_ERROR(store_->FindRuns("package", path_, &runs));
      for (const auto& r : runs) {
        if (r.sha256 == pkg_sha_ && r.status == "done") {
          result_->already_imported = true;
          result_->run = r;
          result_->summary["status"] = "already_imported";
          result_->summary["run_id"] = r.id;
          result_->summary["counts"] = r.counts;
          return Status::Ok();
        }
      }
    }

    ImportRun& run = result_->run;
    run.kind = "package";
    run.path = path_;
    run.sha256 = pkg_sha_;
    run.size = src_->total_bytes();
    run.mtime = newest_mtime_ms_ / 1000;
    run.tool_version = FERRY_VERSION;
    run.status = "running";
    run.source_time_ms = source_time_ms_;
    run.notes = RunNotes();
    FERRY_RETURN_IF_ERROR(store_->BeginRun(&run));
    // Every write is a gap-filling one (source time 0), whatever the package's own date: the package is the
    // poorer source for every field (no type, edits, reactions, profiles; attachments without size or bytes),
    // so a DCE export of any date must be able to complete and correct its rows, and the union must be the
    // same in either import order. The one thing it has that DCE may lack, raw content, is kept in
    // extra.package.contents. The package's real date is recorded in the run (source_time_ms).
    src_time_.run_id = run.id;
    src_time_.source_time_ms = 0;

    Status st = ImportAll();
    if (st.ok()) st = store_->FlushSearchIndex(progress_);
    run.counts = counts_;
    run.notes = RunNotes();
    if (!st.ok()) run.notes["error"] = st.message();
    run.status = st.ok() ? "done" : (st.code() == Status::Code::kInterrupted ? "interrupted" : "failed");
    run.ended_ms = NowMs();
    Status fin = store_->FinishRun(run);
    result_->summary["run_id"] = run.id;
    result_->summary["status"] = run.status;
    result_->summary["counts"] = counts_;
    result_->summary["warnings"] = warnings_;
    progress_->Finish();
    if (!st.ok()) return st;
    return fin;
  }

 private:
  Status Wrap(Status st) const {
    if (st.ok() || st.message().rfind(path_, 0) == 0) return st;
    switch (st.code()) {
      case Status::Code::kInvalidInput: return Status::InvalidInput(path_ + ": " + st.message());
      case Status::Code::kIoError: return Status::IoError(path_ + ": " + st.message());
      default: return st;
    }
  }

  void Warn(const std::string& w) {
    progress_->Note("warning: " + w);
    if (warnings_.size() < kMaxWarnings) warnings_.push_back(w);
    else if (warnings_.size() == kMaxWarnings) warnings_.push_back("… more warnings not listed");
  }

  void Count(const char* key, std::int64_t n = 1) { counts_[key] = counts_.value(key, std::int64_t{0}) + n; }

  // ---- pass 1: names (safety checks happen here, before anything is written) ------------------------
  Status ListEntries() {
    Sha256 listing;
    FERRY_RETURN_IF_ERROR(Wrap(src_->ForEach([&](const Entry& e, EntryStream&) {
      names_.push_back(e.name);
      entry_mtime_[e.name] = e.mtime_ms;
      listing.Update(e.name + '\0' + std::to_string(e.size) + '\0' + std::to_string(e.mtime_ms) + '\n');
      return Status::Ok();
    })));
    if (src_->is_zip()) FERRY_RETURN_IF_ERROR(HashFile(path_, &pkg_sha_));
    else pkg_sha_ = listing.Hex();
    return Status::Ok();
  }

  // ---- pass 2: the small files (index.json, channel.json, guild.json, user.json, avatar, README) ------
  Status ReadMetadata() {
    std::map<std::string, Snowflake> channel_json_of, guild_json_of;
    for (const auto& [id, ch] : layout_.channels)
      if (!ch.channel_json.empty()) channel_json_of[ch.channel_json] = id;
    for (const auto& [id, name] : layout_.guild_json) guild_json_of[name] = id;

    Json servers_index_candidate;
    Status st = src_->ForEach([&](const Entry& e, EntryStream& in) -> Status {
      if (auto it = channel_json_of.find(e.name); it != channel_json_of.end()) {
        Json j;
        FERRY_RETURN_IF_ERROR(ParseSmallJson(in, kMaxChannelJson, &j));
        if (!j.is_object()) return Status::InvalidInput(e.name + ": expected a channel object");
        auto& info = channels_[it->second];
        info.json = j;
        if (j.contains("type")) {
          info.type = ChannelTypeFromJson(j["type"]);
          info.type_is_string = j["type"].is_string();
          if (!info.type) Warn(e.name + ": unknown channel type " + j["type"].dump() + " (kept in extra)");
        }
        if (auto id = j.contains("id") ? IdFromJson(j["id"]) : std::nullopt; id && *id != it->second)
          Warn(e.name + ": id " + std::to_string(*id) + " differs from its folder; the folder's id is used");
      } else if (auto g = guild_json_of.find(e.name); g != guild_json_of.end()) {
        Json j;
        FERRY_RETURN_IF_ERROR(ParseSmallJson(in, kMaxGuildJson, &j));
        if (j.is_object()) guild_json_[g->second] = j;
      } else if (e.name == layout_.messages_index) {
        FERRY_RETURN_IF_ERROR(ParseSmallJson(in, kMaxIndexJson, &messages_index_));
        if (!messages_index_.is_object()) return Status::InvalidInput(e.name + ": expected an object of channel labels");
      } else if (e.name == layout_.servers_index) {
        FERRY_RETURN_IF_ERROR(ParseSmallJson(in, kMaxIndexJson, &servers_index_candidate));
      } else if (e.name == layout_.user_json) {
        FERRY_RETURN_IF_ERROR(ParseUserJson(in, &user_));
      } else if (e.name == layout_.avatar) {
        in.set_limit(kMaxAvatar);
        FERRY_RETURN_IF_ERROR(ReadAll(in, &avatar_bytes_));
      } else if (e.name == layout_.readme) {
        in.set_limit(kMaxReadme);
        std::string text;
        FERRY_RETURN_IF_ERROR(ReadAll(in, &text));
        readme_is_package_ = text.find("Discord Data Package") != std::string::npos;
      }
      return Status::Ok();
    });
    FERRY_RETURN_IF_ERROR(Wrap(st));
    // An index.json that maps guild ids to names is the servers index even without guild folders.
    if (servers_index_candidate.is_object() && !servers_index_candidate.empty()) {
      bool ok = true;
      for (auto it = servers_index_candidate.begin(); it != servers_index_candidate.end(); ++it)
        ok = ok && ParseSnowflake(it.key()) && (it->is_string() || it->is_null());
      if (ok) {
        servers_index_ = servers_index_candidate;
        if (layout_.servers_dir.empty())
          layout_.servers_dir = layout_.servers_index.substr(0, layout_.servers_index.rfind('/'));
      }
    }
    if (!servers_index_.is_object()) layout_.servers_index.clear();
    if (!user_.is_object() || !user_.contains("id") || !IdFromJson(user_["id"])) {
      if (!layout_.user_json.empty()) Warn(layout_.user_json + ": no account id in it; treating the account as absent");
      user_ = Json();
      layout_.account_dir.clear();
    }
    for (auto it = messages_index_.begin(); messages_index_.is_object() && it != messages_index_.end(); ++it) {
      auto id = ParseSnowflake(it.key());
      if (!id) continue;
      auto& info = channels_[*id];
      if (it->is_string()) info.index_label = it->get<std::string>();
      else if (it->is_null()) info.index_label_null = true;
    }
    return Status::Ok();
  }

  // The package's owner: the account, else the one id every DM channel has among its recipients.
  void DecideOwner() {
    if (user_.is_object()) {
      owner_ = IdFromJson(user_["id"]);
      owner_from_ = "account";
      return;
    }
    std::map<Snowflake, int> seen;
    int dms = 0;
    for (const auto& [id, info] : channels_) {
      if (!info.type || (*info.type != kDm && *info.type != kGroupDm)) continue;
      auto r = info.json.find("recipients");
      if (r == info.json.end() || !r->is_array()) continue;
      ++dms;
      std::set<Snowflake> ids;
      for (const auto& x : *r)
        if (auto v = IdFromJson(x)) ids.insert(*v);
      for (auto v : ids) seen[v]++;
    }
    Snowflake best = 0;
    int best_n = 0, second = 0;
    for (auto [id, n] : seen) {
      if (n > best_n) second = best_n, best_n = n, best = id;
      else if (n > second) second = n;
    }
    if (best && best_n > second) {
      owner_ = best;
      owner_from_ = "dm_recipients";
    } else {
      owner_from_ = "unknown";
      Warn(dms ? "cannot tell the account owner from the DM recipients (no single common id): messages get no author"
               : "no account folder and no DM channels: messages get no author");
    }
  }

  // What moment the package describes: when Discord built it. Zip entry times are that; a folder keeps them
  // when unpacked with its times. Times before 2015 or in the future are ignored.
  void DecideSourceTime() {
    const std::int64_t now = NowMs();
    for (const auto& [name, ms] : entry_mtime_)
      if (ms >= static_cast<std::int64_t>(kDiscordEpochMs) && ms <= now + kDayMs) newest_mtime_ms_ = std::max(newest_mtime_ms_, ms);
    source_time_ms_ = newest_mtime_ms_;
  }

  std::string FolderName(const std::string& full) const {
    if (full.empty()) return "";
    return layout_.root.empty() ? full : full.substr(layout_.root.size() + 1);
  }

  void FillSummaryHeader() {
    Json& s = result_->summary;
    s["kind"] = "package";
    s["path"] = path_;
    s["container"] = src_->is_zip() ? "zip" : "folder";
    s["sha256"] = pkg_sha_;
    Json folders = Json::object();
    if (!layout_.messages_dir.empty()) folders["messages"] = FolderName(layout_.messages_dir);
    if (!layout_.servers_dir.empty()) folders["servers"] = FolderName(layout_.servers_dir);
    if (!layout_.account_dir.empty()) folders["account"] = FolderName(layout_.account_dir);
    s["folders"] = folders;
    if (!layout_.root.empty()) s["root"] = layout_.root;
    Json absent = Json::array();
    if (layout_.messages_dir.empty()) absent.push_back("messages");
    if (layout_.servers_dir.empty()) absent.push_back("servers");
    if (layout_.account_dir.empty()) absent.push_back("account");
    if (!layout_.messages_dir.empty() && layout_.messages_index.empty()) absent.push_back("messages/index.json");
    std::int64_t no_file = 0;
    for (const auto& [id, ch] : layout_.channels) no_file += ch.messages_file.empty();
    if (no_file) absent.push_back(std::to_string(no_file) + " channel folder(s) without a messages file");
    s["absent"] = absent;
    std::set<std::string> eras;
    for (const auto& [id, ch] : layout_.channels) eras.insert(EraOf(ch));
    eras.erase("");
    s["eras"] = Json(std::vector<std::string>(eras.begin(), eras.end()));
    s["owner_id"] = owner_ ? Json(std::to_string(*owner_)) : Json();
    s["owner_from"] = owner_from_;
    s["source_time"] = source_time_ms_ ? Json(FormatApiTimestamp(source_time_ms_)) : Json();
    s["top_folders"] = layout_.top_folders;
  }

  std::string EraOf(const ChannelDir& ch) const {
    if (ch.messages_file.empty()) return "";
    if (ch.csv) return ch.c_prefix ? "B" : "A";
    auto it = channels_.find(ch.id);
    bool str = it != channels_.end() && it->second.type_is_string;
    if (!str) return "C";
    std::string top = FolderName(layout_.messages_dir);
    return top == "messages" ? "D" : "E";
  }

  Json RunNotes() const {
    Json n = Json::object();
    n["source_lacks"] = {{"message", MessageLacks()}, {"channel", ChannelLacks()},
                         {"users", "only the owner and DM partners, by id; names only where the package labels them"}};
    n["not_imported"] = Json::array({"account private data (email, phone, payments, sessions, connections, notes)",
                                     "activity/analytics events", "support tickets", "ads"});
    n["content_format"] = "raw";
    n["attachments"] = "URLs only: media missing (a recorded gap), ids and names from the CDN URLs";
    n["owner_from"] = owner_from_;
    if (owner_) n["owner_id"] = std::to_string(*owner_);
    n["source_time_from"] = source_time_ms_ ? "newest entry time in the package" : "unknown";
    n["merge"] = "gap-filling: rows are written with source time 0, so any DCE export completes and overrides them "
                 "in either import order; raw content kept in extra.package.contents";
    n["absent"] = result_->summary.value("absent", Json::array());
    n["folders"] = result_->summary.value("folders", Json::object());
    n["eras"] = result_->summary.value("eras", Json::array());
    if (leniency_.raw_control_chars || leniency_.missing_commas || leniency_.trailing_commas || leniency_.string_ids)
      n["repaired"] = {{"raw_control_chars", leniency_.raw_control_chars},
                       {"missing_commas", leniency_.missing_commas},
                       {"trailing_commas", leniency_.trailing_commas},
                       {"string_ids", leniency_.string_ids}};
    if (!warnings_.empty()) n["warnings"] = warnings_;
    return n;
  }

  // ---- writes ----------------------------------------------------------------------------------------
  // Users: the package only fills what the store does not know yet (DCE's author data is richer).
  Status FillUser(User u) {
    User cur;
    Status st = store_->GetUser(u.id, &cur);
    if (st.ok()) {
      if (cur.username) u.username.reset();
      if (cur.global_name) u.global_name.reset();
      if (cur.discriminator) u.discriminator.reset();
      if (cur.avatar_url) u.avatar_url.reset();
      if (cur.avatar_sha256) u.avatar_sha256.reset();
      if (cur.bot) u.bot.reset();
    } else if (!st.IsNotFound()) {
      return st;
    } else {
      Count("users");
    }
    return store_->UpsertUser(u, src_time_);
  }

  Status FillGuild(Snowflake id, const std::optional<std::string>& name, Json extra) {
    if (!id) return Status::Ok();
    Guild cur;
    Guild g;
    g.id = id;
    g.name = name;
    g.extra = Json{{"package", std::move(extra)}};
    Status st = store_->GetGuild(id, &cur);
    if (st.ok()) {
      if (cur.name) g.name.reset();
    } else if (!st.IsNotFound()) {
      return st;
    } else {
      Count("guilds");
    }
    return store_->UpsertGuild(g, src_time_);
  }

  Status WriteMetadata() {
    FERRY_RETURN_IF_ERROR(store_->Begin());
    Status st = [&]() -> Status {
      if (user_.is_object()) {
        User u;
        u.id = *owner_;
        u.username = StrField(user_, "username");
        u.global_name = StrField(user_, "global_name");
        u.discriminator = StrField(user_, "discriminator");
        if (user_.contains("bot") && user_["bot"].is_boolean()) u.bot = user_["bot"].get<bool>();
        auto hash = StrField(user_, "avatar_hash");
        if (!hash) hash = StrField(user_, "avatar");
        if (hash && !hash->empty())
          u.avatar_url = "https://cdn.discordapp.com/avatars/" + std::to_string(u.id) + "/" + *hash +
                         (hash->rfind("a_", 0) == 0 ? ".gif" : ".png");
        if (!avatar_bytes_.empty()) {
          std::string sha;
          FERRY_RETURN_IF_ERROR(store_->PutBlobBytes(avatar_bytes_, &sha));
          u.avatar_sha256 = sha;
        }
        u.extra = Json{{"package", {{"account_owner", true}}}};
        FERRY_RETURN_IF_ERROR(FillUser(u));
        // Friends and other relationships name the people the owner talked to.
        if (auto r = user_.find("relationships"); r != user_.end() && r->is_array()) {
          for (const auto& rel : *r) {
            if (!rel.is_object()) continue;
            const Json& ju = rel.contains("user") && rel["user"].is_object() ? rel["user"] : rel;
            auto id = ju.contains("id") ? IdFromJson(ju["id"]) : std::nullopt;
            if (!id) continue;
            User f;
            f.id = *id;
            f.username = StrField(ju, "username");
            f.global_name = StrField(ju, "global_name");
            f.discriminator = StrField(ju, "discriminator");
            auto av = StrField(ju, "avatar");
            if (av && !av->empty())
              f.avatar_url = "https://cdn.discordapp.com/avatars/" + std::to_string(*id) + "/" + *av +
                             (av->rfind("a_", 0) == 0 ? ".gif" : ".png");
            f.extra = Json{{"package", {{"relationship", rel.contains("type") ? rel["type"] : Json()}}}};
            FERRY_RETURN_IF_ERROR(FillUser(f));
          }
        }
      } else if (owner_) {
        User u;
        u.id = *owner_;
        u.extra = Json{{"package", {{"account_owner", true}, {"inferred_from", "dm_recipients"}}}};
        FERRY_RETURN_IF_ERROR(FillUser(u));
      }
      // Guilds: the servers index, guild.json, and the guild objects of channel.json files.
      std::map<Snowflake, std::pair<std::optional<std::string>, Json>> guilds;  // name, extra.package
      for (auto it = servers_index_.begin(); servers_index_.is_object() && it != servers_index_.end(); ++it) {
        auto id = ParseSnowflake(it.key());
        if (!id) continue;
        auto& g = guilds[*id];
        g.second = Json::object();
        if (it->is_string()) g.first = it->get<std::string>(), g.second["index_name"] = *g.first;
        g.second["in_servers_index"] = true;
      }
      for (const auto& [id, j] : guild_json_) {
        auto& g = guilds[id];
        if (!g.second.is_object()) g.second = Json::object();
        if (auto n = StrField(j, "name")) g.first = n;
        g.second["guild_json"] = true;
      }
      for (const auto& [cid, info] : channels_) {
        auto gi = info.json.find("guild");
        if (gi == info.json.end() || !gi->is_object()) continue;
        auto id = gi->contains("id") ? IdFromJson((*gi)["id"]) : std::nullopt;
        if (!id) continue;
        auto& g = guilds[*id];
        if (!g.first) g.first = StrField(*gi, "name");
        if (!g.second.is_object()) g.second = Json::object();
      }
      for (auto& [id, g] : guilds) {
        guild_names_[id] = g.first;
        FERRY_RETURN_IF_ERROR(FillGuild(id, g.first, g.second));
        // The servers index lists the servers the owner is in.
        if (owner_ && g.second.is_object() && g.second.value("in_servers_index", false)) {
          Member m;
          m.guild_id = id;
          m.user_id = *owner_;
          m.extra = Json{{"package", {{"from", "servers index"}}}};
          FERRY_RETURN_IF_ERROR(store_->UpsertMember(m, src_time_));
        }
      }
      return store_->SetRunFile(result_->run.id, "(metadata)", EntryKey("(metadata)"), "done",
                                Json{{"guilds", guilds.size()}});
    }();
    if (!st.ok()) {
      store_->Rollback();
      return st;
    }
    return store_->Commit();
  }

  std::string EntryKey(const std::string& entry) const { return HashString(pkg_sha_ + "\n" + entry); }

  Status WriteChannel(const ChannelDir& dir) {
    auto& info = channels_[dir.id];
    Channel c;
    c.id = dir.id;
    Json pkg = Json::object();
    const Json& j = info.json;
    if (info.type) c.type = *info.type;
    if (j.contains("type")) pkg["type_raw"] = j["type"];
    if (auto gi = j.find("guild"); gi != j.end() && gi->is_object() && gi->contains("id"))
      if (auto g = IdFromJson((*gi)["id"])) c.guild_id = *g;
    c.name = StrField(j, "name");
    std::vector<Snowflake> recipients;
    if (auto r = j.find("recipients"); r != j.end() && r->is_array()) {
      for (const auto& x : *r) {
        if (x.is_string() && x.get<std::string>() == "Deleted User") {
          recipients.push_back(kDeletedUserId);
          pkg["deleted_user_recipient"] = true;
        } else if (auto v = IdFromJson(x)) {
          recipients.push_back(*v);
        }
      }
    }
    c.recipient_ids = recipients;
    if (info.index_label) pkg["index_label"] = *info.index_label;
    if (info.index_label_null) pkg["index_label"] = nullptr, pkg["deleted_channel"] = true;
    // Labels are display text; they only name a channel nothing else names.
    if (!c.name && info.index_label) {
      const std::string& label = *info.index_label;
      std::optional<std::string> gname;
      if (c.guild_id) if (auto it = guild_names_.find(*c.guild_id); it != guild_names_.end()) gname = it->second;
      if (gname && label.size() > gname->size() + 4 && label.compare(label.size() - gname->size() - 4, std::string::npos, " in " + *gname) == 0)
        c.name = label.substr(0, label.size() - gname->size() - 4);
      else if (info.type && *info.type == kGroupDm && label != "None")
        c.name = label;
    }
    if (!info.type) {
      // No channel.json (or an unknown type): a guess that a later source corrects.
      c.type = !recipients.empty() ? (recipients.size() > 2 ? kGroupDm : kDm) : kGuildText;
      pkg["type_guessed"] = true;
    }
    pkg["lacks"] = ChannelLacks();
    if (!dir.channel_json.empty()) pkg["channel_json"] = true;
    c.extra = Json{{"package", pkg}};

    Channel cur;
    Status st = store_->GetChannel(c.id, &cur);
    if (st.ok()) {
      if (cur.name) c.name.reset();
      if (!info.type) c.type = cur.type;
      if (!cur.recipient_ids.empty()) c.recipient_ids = cur.recipient_ids;
      if (cur.guild_id && !c.guild_id) c.guild_id = cur.guild_id;
    } else if (!st.IsNotFound()) {
      return st;
    } else {
      Count("channels");
    }
    FERRY_RETURN_IF_ERROR(store_->UpsertChannel(c, src_time_));

    for (Snowflake r : recipients) {
      User u;
      u.id = r;
      if (r == kDeletedUserId) u.username = "Deleted User";
      // "Direct Message with bob#0" names the one other person of a DM.
      if (info.index_label && c.type == kDm && recipients.size() == 2 && owner_ && r != *owner_ &&
          info.index_label->rfind("Direct Message with ", 0) == 0) {
        std::string who = info.index_label->substr(20);
        auto hash = who.rfind('#');
        if (hash != std::string::npos && hash + 1 < who.size() &&
            std::all_of(who.begin() + static_cast<long>(hash) + 1, who.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          u.discriminator = who.substr(hash + 1);
          who = who.substr(0, hash);
        }
        if (!who.empty()) u.username = who;
      }
      FERRY_RETURN_IF_ERROR(FillUser(u));
    }
    return Status::Ok();
  }

  Status WriteMessage(const ChannelDir& dir, const Channel& ch_guild, const MessageRecord& r) {
    const std::int64_t id_ms = SnowflakeTimeMs(r.id);
    if (id_ms > NowMs() + kDayMs)
      return Status::InvalidInput(dir.messages_file + " line " + std::to_string(r.line) + ": ID " +
                                  std::to_string(r.id) + " is not a Discord message id (its time is in the future)");
    Message m;
    m.id = r.id;
    m.channel_id = dir.id;
    m.guild_id = ch_guild.guild_id;
    if (owner_) m.author_id = *owner_;
    m.type = 0;
    m.content = r.contents;
    m.content_format = "raw";
    // The id knows the time to the millisecond; newer packages cut the text to whole seconds.
    m.timestamp.ms = id_ms;
    Json pkg = Json::object();
    pkg["timestamp"] = r.timestamp;
    // Raw syntax (<@id>, <#id>) survives a later DCE export's display-formatted text replacing `content`.
    if (!r.contents.empty()) pkg["contents"] = r.contents;
    pkg["lacks"] = MessageLacks();
    if (auto t = ParseTimestampMs(r.timestamp); !t) {
      if (!r.timestamp.empty()) {
        Count("timestamp_unparsed");
        if (counts_.value("timestamp_unparsed", 0) <= 3)
          Warn(dir.messages_file + " line " + std::to_string(r.line) + ": timestamp '" + r.timestamp + "' not understood");
      }
    } else if (*t > id_ms + 1000 || *t < id_ms - 1000) {
      Count("timestamp_disagrees_with_id");
      if (counts_.value("timestamp_disagrees_with_id", 0) <= 3)
        Warn(dir.messages_file + " line " + std::to_string(r.line) + ": timestamp '" + r.timestamp +
             "' disagrees with the message id's time " + FormatApiTimestamp(id_ms) + "; the id's time is used");
    }
    std::vector<Attachment> atts;
    Json unparsed = Json::array();
    size_t i = 0;
    const std::string& s = r.attachments;
    while (i < s.size()) {
      size_t j = s.find_first_of(" \n\r\t", i);
      if (j == std::string::npos) j = s.size();
      std::string url = s.substr(i, j - i);
      i = j + 1;
      if (url.empty()) continue;
      if (auto a = ParseAttachmentUrl(url)) {
        Attachment at;
        at.id = a->id;
        at.filename = a->filename;
        at.url = a->url;
        atts.push_back(std::move(at));
      } else {
        unparsed.push_back(url);
      }
    }
    if (!unparsed.empty()) {
      pkg["attachment_urls"] = unparsed;
      Count("attachment_urls_unparsed", static_cast<std::int64_t>(unparsed.size()));
    }
    Count("attachments", static_cast<std::int64_t>(atts.size()));
    m.attachments = std::move(atts);

    Message cur;
    Status st = store_->GetMessage(dir.id, r.id, &cur);
    if (st.ok()) {
      // Already known (a DCE export, an earlier package): keep what the package cannot know.
      Count("messages_merged");
      m.type = cur.type;
      m.flags = cur.flags;
      m.timestamp = cur.timestamp;
      if (cur.author_id) m.author_id.reset();
      if (cur.attachments && !cur.attachments->empty()) {
        std::vector<Attachment> merged = *cur.attachments;
        for (const auto& a : *m.attachments) {
          bool have = std::any_of(merged.begin(), merged.end(), [&](const Attachment& b) { return b.id == a.id; });
          if (!have) merged.push_back(a);
        }
        m.attachments = std::move(merged);
      }
    } else if (!st.IsNotFound()) {
      return st;
    } else {
      Count("messages_new");
    }
    m.extra = Json{{"package", pkg}};
    Count("messages");
    return store_->UpsertMessage(m, src_time_);
  }

  Status ImportMessagesFile(const ChannelDir& dir, EntryStream& in) {
    in.set_limit(kMaxMessagesFile);
    FERRY_RETURN_IF_ERROR(store_->Begin());
    std::int64_t n = 0;
    Status st = [&]() -> Status {
      FERRY_RETURN_IF_ERROR(WriteChannel(dir));
      Channel ch;
      FERRY_RETURN_IF_ERROR(store_->GetChannel(dir.id, &ch));
      RecordFn fn = [&](const MessageRecord& r) -> Status {
        if (opt_.interrupted && opt_.interrupted())
          return Status::Interrupted("interrupted in " + dir.messages_file + "; run the same command to resume");
        FERRY_RETURN_IF_ERROR(WriteMessage(dir, ch, r));
        ++n;
        if ((++messages_total_ & 255) == 0) progress_->Update("package", src_->bytes_done(), src_->total_bytes(), messages_total_);
        return Status::Ok();
      };
      FERRY_RETURN_IF_ERROR(dir.csv ? ReadCsvMessages(in, fn) : ReadJsonMessages(in, fn, &leniency_));
      return store_->SetRunFile(result_->run.id, dir.messages_file, EntryKey(dir.messages_file), "done",
                                Json{{"channel_id", std::to_string(dir.id)}, {"messages", n}, {"era", EraOf(dir)}});
    }();
    if (!st.ok()) {
      store_->Rollback();
      return st;
    }
    Count("channel_files");
    return store_->Commit();
  }

  Status ImportAll() {
    FERRY_RETURN_IF_ERROR(WriteMetadata());
    std::map<std::string, Snowflake> messages_file_of;
    for (const auto& [id, ch] : layout_.channels)
      if (!ch.messages_file.empty()) messages_file_of[ch.messages_file] = id;
    Status st = src_->ForEach([&](const Entry& e, EntryStream& in) -> Status {
      auto it = messages_file_of.find(e.name);
      if (it == messages_file_of.end()) return Status::Ok();
      const ChannelDir& dir = layout_.channels.at(it->second);
      if (!opt_.force) {
        std::int64_t done_run = 0;
        Status f = store_->FindDoneFile(EntryKey(e.name), &done_run);
        if (f.ok()) {
          Count("channel_files_already_done");
          return Status::Ok();
        }
        if (!f.IsNotFound()) return f;
      }
      progress_->Update("package", src_->bytes_done(), src_->total_bytes(), messages_total_);
      return ImportMessagesFile(dir, in);
    });
    FERRY_RETURN_IF_ERROR(Wrap(st));
    // Channels the package lists without any messages file still exist (and name DM partners).
    FERRY_RETURN_IF_ERROR(store_->Begin());
    st = [&]() -> Status {
      for (const auto& [id, ch] : layout_.channels) {
        if (!ch.messages_file.empty()) continue;
        FERRY_RETURN_IF_ERROR(WriteChannel(ch));
        Count("channels_without_messages_file");
      }
      return Status::Ok();
    }();
    if (!st.ok()) {
      store_->Rollback();
      return st;
    }
    FERRY_RETURN_IF_ERROR(store_->Commit());
    progress_->Update("package", src_->total_bytes(), src_->total_bytes(), messages_total_);
    return Status::Ok();
  }

  Store* store_;
  std::string path_;
  const Options& opt_;
  Result* result_;
  NullProgress null_progress_;
  Progress* progress_;
  std::unique_ptr<PackageSource> src_;
  std::vector<std::string> names_;
  std::map<std::string, std::int64_t> entry_mtime_;
  std::string pkg_sha_;
  Layout layout_;
  std::map<Snowflake, ChannelInfo> channels_;
  std::map<Snowflake, Json> guild_json_;
  std::map<Snowflake, std::optional<std::string>> guild_names_;
  Json messages_index_, servers_index_, user_;
  std::string avatar_bytes_;
  bool readme_is_package_ = false;
  std::optional<Snowflake> owner_;
  std::string owner_from_ = "unknown";
  std::int64_t newest_mtime_ms_ = 0, source_time_ms_ = 0;
  ferry::Source src_time_;
  Json counts_ = Json::object();
  Json warnings_ = Json::array();
  Leniency leniency_;
  std::int64_t messages_total_ = 0;
};

}  // namespace

Status Detect(const std::string& path, bool* is_package, std::string* why) {
  *is_package = false;
  std::unique_ptr<PackageSource> src;
  FERRY_RETURN_IF_ERROR(PackageSource::Open(path, Limits{}, &src));
  std::vector<std::string> names;
  FERRY_RETURN_IF_ERROR(src->ForEach([&](const Entry& e, EntryStream&) {
    names.push_back(e.name);
    return Status::Ok();
  }));
  Layout l = FindLayout(names);
  if (l.empty()) {
    *why = "no messages folder (c<id>/channel.json), servers folder (<id>/guild.json) or account user.json";
    return Status::Ok();
  }
  *is_package = true;
  std::string found;
  auto rel = [&](const std::string& full) { return l.root.empty() ? full : full.substr(l.root.size() + 1); };
  if (!l.messages_dir.empty()) found += "messages folder '" + rel(l.messages_dir) + "' with " + std::to_string(l.channels.size()) + " channel(s)";
  if (!l.servers_dir.empty()) found += std::string(found.empty() ? "" : ", ") + "servers folder '" + rel(l.servers_dir) + "'";
  if (!l.account_dir.empty()) found += std::string(found.empty() ? "" : ", ") + "account folder '" + rel(l.account_dir) + "'";
  *why = found;
  return Status::Ok();
}

Status Import(Store* store, const std::string& path, const Options& options, Result* result) {
  Importer imp(store, path, options, result);
  return imp.Run();
}

}  // namespace ferry::package
