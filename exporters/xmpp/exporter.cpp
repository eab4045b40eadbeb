#include "exporters/xmpp/exporter.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "exporters/xmpp/credentials.hpp"
#include "exporters/xmpp/loader_files.hpp"
#include "exporters/xmpp/names.hpp"
#include "exporters/xmpp/xml.hpp"

namespace ferry::xmpp {
namespace fs = std::filesystem;
namespace {

constexpr std::uint64_t kAdministrator = 1ULL << 3;
constexpr std::uint64_t kViewChannel = 1ULL << 10;
constexpr const char* kMarker = ".ferry-xmpp-export";
constexpr std::size_t kMaxAvatarBytes = 512 * 1024;
// manifest.json "version": the layout of the files the loader reads. Bumped whenever a file's layout
// changes (2: muc_log.tsv gained the real-JID column), so a loader never reads another layout.
constexpr int kLayoutVersion = 2;

std::string Esc(std::string_view s) { return XmlEscape(s); }

// One output file written under a temporary name and renamed into place when complete, so a crash never
// leaves a half-written file under the final name.
class OutFile {
 public:
  Status Open(const fs::path& path, bool private_mode = false) {
    path_ = path;
    tmp_ = path;
    tmp_ += ".tmp";
    f_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!f_) return Status::IoError("cannot write " + tmp_.string() + ": " + std::strerror(errno));
    if (private_mode) ::chmod(tmp_.c_str(), 0600);
    return Status::Ok();
  }
  std::ofstream& out() { return f_; }
  Status Close() {
    f_.flush();
    if (!f_) return Status::IoError("writing " + tmp_.string() + " failed (disk full?)");
    f_.close();
    std::error_code ec;
    fs::rename(tmp_, path_, ec);
    if (ec) return Status::IoError("cannot rename " + tmp_.string() + " to " + path_.string() + ": " + ec.message());
    return Status::Ok();
  }

 private:
  fs::path path_, tmp_;
  std::ofstream f_;
};

struct UserInfo {
  Snowflake id = 0;
  std::string localpart;
  std::string display;   // global_name, else username
  std::string username;
  std::optional<std::string> avatar_sha256;
};

struct GuildCtx {
  Guild guild;
  std::unordered_map<Snowflake, Member> members;
  std::set<Snowflake> admin_roles;
  std::unordered_map<Snowflake, std::string> nicks;  // user -> nick in this guild's rooms
  std::unordered_map<Snowflake, std::string> role_names;
  std::unordered_map<Snowflake, std::string> channel_names;
};

struct Room {
  Channel channel;
  std::string node;
  bool members_only = false;
  GuildCtx* guild = nullptr;  // null for group DMs
};

bool IsRoomType(int t) {
  return t == kGuildText || t == kGuildAnnouncement || t == kGuildVoice || t == kGuildStageVoice ||
         IsThreadType(t) || t == kGroupDm;
}

std::string ImageType(const std::string& bytes) {
  if (bytes.rfind("\x89PNG", 0) == 0) return "image/png";
  if (bytes.rfind("\xFF\xD8\xFF", 0) == 0) return "image/jpeg";
  if (bytes.rfind("GIF8", 0) == 0) return "image/gif";
  if (bytes.size() > 12 && bytes.compare(8, 4, "WEBP") == 0) return "image/webp";
  return "application/octet-stream";
}

std::string SafeFileName(const std::string& name, Snowflake id) {
  std::string clean = CleanUtf8(name), out;
  for (char c : clean) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || c == '/' || c == '\\' || c == ':' || c == '"' || c == '<' || c == '>' || c == '|' ||
            c == '?' || c == '*')
               ? '_'
               : c;
  }
  out = TruncateUtf8(out, 180);
  if (out.empty() || out == "." || out == ".." || out[0] == '.') out = "file-" + std::to_string(id) + out;
  return out;
}

class Exporter {
 public:
  Exporter(Store& store, const XmppExportOptions& o, Progress* p, XmppExportSummary* s)
      : store_(store), o_(o), progress_(p), sum_(s) {}

  Status Run();

 private:
  Status PrepareOutput();
  Status LoadUsers();
  Status LoadGuild(const Guild& g, GuildCtx* ctx);
  Status PlanRooms();
  Status WriteRooms();
  Status WriteRoom(Room& room, std::ostream& log, std::ostream& rooms_jsonl, std::int64_t* done);
  Status ScanDms();
  Status WriteAccounts();
  Status WriteUserFile(const UserInfo& u, std::ostream& out, std::ostream* creds);
  Status WriteDmArchive(const UserInfo& u, std::ostream& out);
  Status WriteStatic();
  Status Finish();

  std::string Jid(Snowflake user) const {
    auto it = users_.find(user);
    return it == users_.end() ? std::string() : it->second.localpart + "@" + o_.domain;
  }
  std::string NickIn(const GuildCtx* g, Snowflake user) const;
  std::string Body(const Message& m, const GuildCtx* g, std::vector<std::pair<std::string, std::string>>* oob,
                   const std::string& author_nick);
  std::string ConvertRaw(const std::string& content, const GuildCtx* g) const;
  Status Interrupted() const {
    if (o_.interrupted && o_.interrupted()) return Status::Interrupted("export interrupted; rerun to start over");
    return Status::Ok();
  }

  Store& store_;
  XmppExportOptions o_;
  Progress* progress_;
  XmppExportSummary* sum_;
  fs::path out_, tmp_;
  std::string files_url_;

  std::unordered_map<Snowflake, UserInfo> users_;
  std::vector<Snowflake> user_order_;
  std::set<Snowflake> needed_;  // users that get an account
  std::vector<std::unique_ptr<GuildCtx>> guilds_;
  std::vector<Room> rooms_;
  NameAllocator room_names_;
  std::int64_t total_messages_ = 0;
  // 1:1 DMs: channel -> participants, user -> channels, user -> partners.
  std::map<Snowflake, std::vector<Snowflake>> dm_participants_;
  std::map<Snowflake, std::vector<Snowflake>> user_dms_;
  std::map<Snowflake, std::set<Snowflake>> partners_;
};

Status Exporter::PrepareOutput() {
  out_ = o_.out_dir;
  std::error_code ec;
  fs::create_directories(out_, ec);
  if (ec) return Status::IoError("cannot create output folder " + out_.string() + ": " + ec.message());
  if (!fs::is_directory(out_, ec)) return Status::IoError("output path " + out_.string() + " is not a folder");
  bool empty = fs::directory_iterator(out_, ec) == fs::directory_iterator();
  if (ec) return Status::IoError("cannot read output folder " + out_.string() + ": " + ec.message());
  if (!empty && !fs::exists(out_ / kMarker))
    return Status::InvalidInput("output folder " + out_.string() +
                                " is not empty and is not an earlier `ferry export xmpp` output; give an empty "
                                "or new folder");
  // Probe: a folder we may list but not write to must fail here, before any work is done.
  {
    fs::path probe = out_ / (std::string(kMarker) + ".probe");
    std::ofstream f(probe);
    if (!f) return Status::IoError("output folder " + out_.string() + " is not writable: " + std::strerror(errno));
    f.close();
    fs::remove(probe, ec);
  }
  {
    std::ofstream f(out_ / kMarker);
    f << "ferry xmpp export\n";
    if (!f) return Status::IoError("output folder " + out_.string() + " is not writable");
  }
  tmp_ = out_ / ".ferry-tmp";
  fs::remove_all(tmp_, ec);
  fs::create_directories(tmp_ / "xep0227", ec);
  fs::create_directories(tmp_ / "muc", ec);
  fs::create_directories(out_ / "files", ec);
  if (ec) return Status::IoError("cannot create folders in " + out_.string() + ": " + ec.message());
  return Status::Ok();
}

Status Exporter::LoadUsers() {
  std::vector<User> all;
  FERRY_RETURN_IF_ERROR(store_.ForEachUser([&](const User& u) {
    all.push_back(u);
    return true;
  }));
  std::sort(all.begin(), all.end(), [](const User& a, const User& b) { return a.id < b.id; });
  NameAllocator names;
  for (const auto& u : all) {
    UserInfo info;
    info.id = u.id;
    info.username = u.username.value_or("");
    info.display = CleanUtf8(u.global_name && !u.global_name->empty() ? *u.global_name : info.username);
    info.avatar_sha256 = u.avatar_sha256;
    std::string base = LocalpartBase(info.username);
    if (base.empty()) base = "user-" + std::to_string(u.id);
    std::string alt;
    if (u.discriminator && *u.discriminator != "0" && *u.discriminator != "0000" && !u.discriminator->empty())
      alt = base + "_" + LocalpartBase(*u.discriminator);
    info.localpart = names.Claim(base, alt);
    user_order_.push_back(u.id);
    users_.emplace(u.id, std::move(info));
  }
  return Status::Ok();
}

Status Exporter::LoadGuild(const Guild& g, GuildCtx* ctx) {
  ctx->guild = g;
  std::vector<Role> roles;
  FERRY_RETURN_IF_ERROR(store_.ListRoles(g.id, &roles));
  for (const auto& r : roles) {
    if (r.permissions && (*r.permissions & kAdministrator)) ctx->admin_roles.insert(r.id);
    ctx->role_names[r.id] = r.name.value_or("role");
  }
  Snowflake after = 0;
  while (true) {
    std::vector<Member> page;
    FERRY_RETURN_IF_ERROR(store_.ListMembers(g.id, after, 1000, &page));
    if (page.empty()) break;
    for (auto& m : page) {
      after = m.user_id;
      ctx->members.emplace(m.user_id, std::move(m));
    }
    if (page.size() < 1000) break;
  }
  // Nicks: guild nick, display name, username. Two users wanting the same nick both get their localpart
  // appended, decided over every user in the store so the result does not depend on who spoke where.
  std::unordered_map<Snowflake, std::string> base;
  std::map<std::string, int> count;
  for (Snowflake id : user_order_) {
    const auto& u = users_.at(id);
    std::string n;
    auto m = ctx->members.find(id);
    if (m != ctx->members.end() && m->second.nick && !m->second.nick->empty()) n = NickFromName(*m->second.nick);
    if (n.empty()) n = NickFromName(u.display);
    if (n.empty()) n = NickFromName(u.username);
    if (n.empty()) n = u.localpart;
    base[id] = n;
    ++count[n];
  }
  for (auto& [id, n] : base)
    ctx->nicks[id] = count[n] > 1 ? n + " (" + users_.at(id).localpart + ")" : n;
  std::vector<Channel> chans;
  FERRY_RETURN_IF_ERROR(store_.ListChannels(g.id, &chans));
  for (const auto& c : chans) ctx->channel_names[c.id] = c.name.value_or("channel");
  return Status::Ok();
}

std::string Exporter::NickIn(const GuildCtx* g, Snowflake user) const {
  if (g) {
    auto it = g->nicks.find(user);
    if (it != g->nicks.end()) return it->second;
  }
  auto u = users_.find(user);
  if (u == users_.end()) return "unknown-" + std::to_string(user);
  std::string n = NickFromName(u->second.display);
  return n.empty() ? u->second.localpart : n;
}

Status Exporter::PlanRooms() {
  std::vector<Guild> guilds;
  if (o_.guild_id) {
    Guild g;
    Status st = store_.GetGuild(*o_.guild_id, &g);
    if (st.IsNotFound()) {
      std::vector<Guild> all;
      store_.ListGuilds(&all);
      std::string known;
      for (const auto& x : all) known += (known.empty() ? "" : ", ") + std::to_string(x.id) + " (" + x.name.value_or("?") + ")";
      return Status::NotFound("--guild " + std::to_string(*o_.guild_id) + " is not in the store; guilds in it: " +
                              (known.empty() ? "none" : known));
    }
    FERRY_RETURN_IF_ERROR(st);
    guilds.push_back(g);
  } else {
    FERRY_RETURN_IF_ERROR(store_.ListGuilds(&guilds));
    std::sort(guilds.begin(), guilds.end(), [](const Guild& a, const Guild& b) { return a.id < b.id; });
  }
  for (const auto& g : guilds) {
    auto ctx = std::make_unique<GuildCtx>();
    FERRY_RETURN_IF_ERROR(LoadGuild(g, ctx.get()));
    std::vector<Channel> chans;
    FERRY_RETURN_IF_ERROR(store_.ListChannels(g.id, &chans));
    std::sort(chans.begin(), chans.end(), [](const Channel& a, const Channel& b) { return a.id < b.id; });
    for (const auto& c : chans) {
      if (!IsRoomType(c.type)) continue;
      std::int64_t n = 0;
      FERRY_RETURN_IF_ERROR(store_.CountMessages(c.id, &n));
      if ((c.type == kGuildVoice || c.type == kGuildStageVoice) && n == 0) continue;
      Room r;
      r.channel = c;
      r.guild = ctx.get();
      bool priv = c.type == kPrivateThread;
      if (c.overwrites) {
        for (const auto& ow : *c.overwrites)
          if (ow.type == 0 && ow.id == g.id && (ow.deny & kViewChannel)) priv = true;
      }
      // A thread is as private as the channel it lives in.
      if (IsThreadType(c.type) && c.parent_id) {
        for (const auto& p : chans)
          if (p.id == *c.parent_id && p.overwrites)
            for (const auto& ow : *p.overwrites)
              if (ow.type == 0 && ow.id == g.id && (ow.deny & kViewChannel)) priv = true;
      }
      r.members_only = priv;
      std::string slug = RoomSlug(c.name.value_or(""));
      r.node = room_names_.Claim(slug, slug + "-" + std::to_string(c.id));
      total_messages_ += n;
      rooms_.push_back(std::move(r));
    }
    guilds_.push_back(std::move(ctx));
    ++sum_->guilds;
  }
  if (o_.include_dms) {
    std::vector<Channel> dms;
    FERRY_RETURN_IF_ERROR(store_.ListChannels(0, &dms));
    std::sort(dms.begin(), dms.end(), [](const Channel& a, const Channel& b) { return a.id < b.id; });
    for (const auto& c : dms) {
      if (c.type != kGroupDm) continue;
      std::int64_t n = 0;
      FERRY_RETURN_IF_ERROR(store_.CountMessages(c.id, &n));
      Room r;
      r.channel = c;
      r.members_only = true;
      std::string slug = c.name && !c.name->empty() ? RoomSlug(*c.name) : "group-dm";
      r.node = room_names_.Claim(slug, slug + "-" + std::to_string(c.id));
      total_messages_ += n;
      rooms_.push_back(std::move(r));
    }
  }
  return Status::Ok();
}

std::string Exporter::ConvertRaw(const std::string& s, const GuildCtx* g) const {
  // Discord's own markup (<@id>, <#id>, <@&id>, <:name:id>, <t:unix:style>) into what a reader would see.
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '<') {
      std::size_t end = s.find('>', i);
      if (end != std::string::npos && end - i < 100) {
        std::string tok = s.substr(i + 1, end - i - 1);
        auto digits = [](const std::string& x) { return !x.empty() && std::all_of(x.begin(), x.end(), ::isdigit); };
        std::string rep;
        if (tok.rfind("@&", 0) == 0 && digits(tok.substr(2))) {
          Snowflake id = std::stoull(tok.substr(2));
          rep = "@role";
          if (g) {
            auto it = g->role_names.find(id);
            if (it != g->role_names.end()) rep = "@" + it->second;
          }
        } else if (tok.rfind("@!", 0) == 0 && digits(tok.substr(2))) {
          rep = "@" + NickIn(g, std::stoull(tok.substr(2)));
        } else if (tok.rfind("@", 0) == 0 && digits(tok.substr(1))) {
          rep = "@" + NickIn(g, std::stoull(tok.substr(1)));
        } else if (tok.rfind("#", 0) == 0 && digits(tok.substr(1))) {
          Snowflake id = std::stoull(tok.substr(1));
          std::string name = "channel";
          if (g) {
            auto it = g->channel_names.find(id);
            if (it != g->channel_names.end()) name = it->second;
          }
          rep = "#" + name;
        } else if ((tok.rfind(":", 0) == 0 || tok.rfind("a:", 0) == 0)) {
          std::size_t c2 = tok.rfind(':');
          std::size_t c1 = tok[0] == 'a' ? 1 : 0;
          if (c2 > c1 && digits(tok.substr(c2 + 1))) rep = tok.substr(c1, c2 - c1 + 1);
        } else if (tok.rfind("t:", 0) == 0) {
          std::string v = tok.substr(2);
          std::size_t c = v.find(':');
          std::string num = v.substr(0, c);
          if (digits(num) && num.size() < 15) rep = XmppStamp(std::stoll(num) * 1000);
        }
        if (!rep.empty()) {
          out += rep;
          i = end + 1;
          continue;
        }
      }
    }
    out += s[i++];
  }
  return out;
}

std::string Exporter::Body(const Message& m, const GuildCtx* g,
                           std::vector<std::pair<std::string, std::string>>* oob, const std::string& author_nick) {
  std::string text = m.content.value_or("");
  if (m.content_format == "raw") text = ConvertRaw(text, g);
  if (text.empty()) {
    switch (m.type) {
      case 7: text = "joined the server."; break;
      case 6: text = "pinned a message."; break;
      case 8: case 9: case 10: case 11: text = "boosted the server."; break;
      case 18: text = "started a thread."; break;
      default: break;
    }
  }
  if (m.stickers)
    for (const auto& s : *m.stickers) text += (text.empty() ? "" : "\n") + std::string("[sticker: ") + s.name + "]";
  if (text.empty() && m.embeds) {
    for (const auto& e : *m.embeds) {
      for (const char* k : {"title", "description", "url"})
        if (e.contains(k) && e[k].is_string()) text += (text.empty() ? "" : "\n") + e[k].get<std::string>();
    }
  }
  if (m.attachments) {
    for (const auto& a : *m.attachments) {
      ++sum_->attachments;
      std::string src = a.sha256 ? store_.BlobPath(*a.sha256) : std::string();
      std::string name = SafeFileName(a.filename, a.id);
      if (!src.empty()) {
        fs::path dir = out_ / "files" / std::to_string(a.id);
        fs::path dst = dir / name;
        std::error_code ec;
        auto src_size = fs::file_size(src, ec);
        if (ec || !fs::exists(dst) || fs::file_size(dst, ec) != src_size) {
          fs::create_directories(dir, ec);
          fs::path part = dst;
          part += ".part";
          fs::copy_file(src, part, fs::copy_options::overwrite_existing, ec);
          if (!ec) fs::rename(part, dst, ec);
          if (ec) progress_->Note("attachment " + std::to_string(a.id) + ": cannot copy " + src + ": " + ec.message());
        }
        std::string url = files_url_ + std::to_string(a.id) + "/" + UrlEncodeSegment(name);
        oob->push_back({url, a.filename});
        text += (text.empty() ? "" : "\n") + url;
      } else {
        ++sum_->attachments_missing;
        text += (text.empty() ? "" : "\n") + std::string("[attachment not downloaded: ") + a.filename + "]";
      }
    }
  }
  if (text.empty()) text = "[message without text]";
  (void)author_nick;
  return text;
}

Status Exporter::WriteRoom(Room& room, std::ostream& log, std::ostream& rooms_jsonl, std::int64_t* done) {
  const std::string room_jid = room.node + "@" + o_.muc_domain;
  const GuildCtx* g = room.guild;
  std::map<Snowflake, std::string> affiliation;  // user -> owner/admin/member
  auto affiliate = [&](Snowflake user, const std::string& aff) {
    static const std::map<std::string, int> rank{{"member", 1}, {"admin", 2}, {"owner", 3}};
    if (!users_.count(user)) return;
    auto it = affiliation.find(user);
    if (it == affiliation.end() || rank.at(aff) > rank.at(it->second)) affiliation[user] = aff;
    needed_.insert(user);
  };
  if (g) {
    if (g->guild.owner_id) affiliate(*g->guild.owner_id, "owner");
    for (const auto& [uid, m] : g->members)
      if (m.role_ids)
        for (Snowflake r : *m.role_ids)
          if (g->admin_roles.count(r)) affiliate(uid, "admin");
    if (room.members_only) {
      // Whoever a channel overwrite lets see the channel is a member of the members-only room.
      std::set<Snowflake> allowed_roles, allowed_users;
      auto collect = [&](const std::optional<std::vector<Overwrite>>& ows) {
        if (!ows) return;
        for (const auto& ow : *ows)
          if (ow.allow & kViewChannel) (ow.type == 0 ? allowed_roles : allowed_users).insert(ow.id);
      };
      collect(room.channel.overwrites);
      if (IsThreadType(room.channel.type) && room.channel.parent_id) {
        Channel parent;
        if (store_.GetChannel(*room.channel.parent_id, &parent).ok()) collect(parent.overwrites);
      }
      for (Snowflake u : allowed_users) affiliate(u, "member");
      for (const auto& [uid, m] : g->members)
        if (m.role_ids)
          for (Snowflake r : *m.role_ids)
            if (allowed_roles.count(r)) affiliate(uid, "member");
      if (IsThreadType(room.channel.type)) {
        std::vector<std::pair<Snowflake, std::int64_t>> tm;
        if (store_.ListThreadMembers(room.channel.id, &tm).ok())
          for (auto& [u, t] : tm) affiliate(u, "member");
      }
    }
  } else {
    // Group DM: its owner owns the room, the recipients are members.
    if (room.channel.owner_id) affiliate(*room.channel.owner_id, "owner");
    for (Snowflake u : room.channel.recipient_ids) affiliate(u, "member");
  }

  // Reply targets: author of recent messages, so most replies need no store lookup.
  std::unordered_map<Snowflake, Snowflake> recent_author;
  std::vector<Snowflake> recent_ring(4096, 0);
  std::size_t ring_pos = 0;
  Status inner;
  std::int64_t local = 0;

  // The real JID column lets the loader derive the XEP-0421 occupant id without parsing the stanza.
  auto line = [&](const std::string& key, std::int64_t ms, Snowflake user, const std::string& stanza) {
    std::int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
    log << room.node << '\t' << key << '\t' << secs << "\tmessage<groupchat\t";
    if (user && users_.count(user)) log << Jid(user);
    log << '\t' << stanza << '\n';
  };
  auto occupant_x = [&](Snowflake user) -> std::string {
    if (!users_.count(user)) return "";
    auto it = affiliation.find(user);
    std::string aff = it == affiliation.end() ? "none" : it->second;
    std::string role = aff == "owner" || aff == "admin" ? "moderator" : "participant";
    return "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='" + aff + "' role='" + role +
           "' jid='" + Esc(Jid(user)) + "'/></x>";
  };

  Status st = store_.ForEachMessage(room.channel.id, [&](const Message& m) {
    if (!(inner = Interrupted()).ok()) return false;
    ++*done;
    if (++local % 2048 == 0) progress_->Update("rooms", *done, total_messages_, *done);
    if (m.deleted) return true;
    Snowflake author = m.author_id.value_or(0);
    if (author && users_.count(author)) {
      needed_.insert(author);
      if (!affiliation.count(author)) affiliate(author, "member");
    }
    std::string nick = author ? NickIn(g, author) : std::string("unknown");
    std::string from = room_jid + "/" + nick;
    std::string id = std::to_string(m.id);
    std::vector<std::pair<std::string, std::string>> oob;
    std::string body = Body(m, g, &oob, nick);
    if (m.type == 18 && m.reference && m.reference->channel_id) {
      for (const auto& r : rooms_)
        if (r.channel.id == *m.reference->channel_id) {
          body += "\nxmpp:" + r.node + "@" + o_.muc_domain + "?join";
          break;
        }
    }
    std::string s = "<message xmlns='jabber:client' type='groupchat' from='" + Esc(from) + "' id='" + id + "'>";
    s += "<body>" + Esc(body) + "</body>";
    for (const auto& [url, desc] : oob)
      s += "<x xmlns='jabber:x:oob'><url>" + Esc(url) + "</url><desc>" + Esc(desc) + "</desc></x>";
    if (m.reference && m.reference->message_id && m.type == 19 &&
        (!m.reference->channel_id || *m.reference->channel_id == room.channel.id)) {
      Snowflake target = *m.reference->message_id;
      Snowflake target_author = 0;
      auto it = recent_author.find(target);
      if (it != recent_author.end()) {
        target_author = it->second;
      } else {
        Message t;
        if (store_.GetMessage(room.channel.id, target, &t).ok()) target_author = t.author_id.value_or(0);
      }
      s += "<reply xmlns='urn:xmpp:reply:0' id='" + std::to_string(target) + "'";
      if (target_author) s += " to='" + Esc(room_jid + "/" + NickIn(g, target_author)) + "'";
      s += "/>";
      ++sum_->replies;
    }
    s += "<discord xmlns='urn:ferry:discord:0' message='" + id + "' channel='" + std::to_string(room.channel.id) + "'";
    if (m.edited) s += " edited='" + XmppStamp(m.edited->ms) + "'";
    if (m.pinned && *m.pinned) s += " pinned='true'";
    s += "/>";
    s += occupant_x(author);
    s += "</message>";
    line(id, m.timestamp.ms, author, s);
    ++sum_->room_messages;

    if (m.edited) {
      // Only the final text is known: a XEP-0308 correction right after the message marks it as edited.
      std::string c = "<message xmlns='jabber:client' type='groupchat' from='" + Esc(from) + "' id='" + id +
                      "-edit'><body>" + Esc(body) + "</body><replace xmlns='urn:xmpp:message-correct:0' id='" +
                      id + "'/><discord xmlns='urn:ferry:discord:0' message='" + id + "' edited='" +
                      XmppStamp(m.edited->ms) + "'/>" + occupant_x(author) + "</message>";
      line(id + "-edit", m.timestamp.ms, author, c);
      ++sum_->corrections;
    }
    if (m.reactions) {
      // XEP-0444 carries a user's whole set of reactions to a message in one stanza.
      std::map<Snowflake, std::vector<std::string>> by_user;
      for (const auto& r : *m.reactions) {
        if (r.emoji.id) {
          sum_->custom_emoji_reactions_skipped += r.count;
          continue;
        }
        if (r.count > static_cast<int>(r.user_ids.size()))
          sum_->anonymous_reactions_skipped += r.count - static_cast<int>(r.user_ids.size());
        for (Snowflake u : r.user_ids) by_user[u].push_back(r.emoji.name);
      }
      for (const auto& [u, emojis] : by_user) {
        if (!users_.count(u)) continue;
        if (!affiliation.count(u)) affiliate(u, "member");  // reacting is taking part, like posting
        std::string rk = id + "-r-" + std::to_string(u);
        std::string r = "<message xmlns='jabber:client' type='groupchat' from='" + Esc(room_jid + "/" + NickIn(g, u)) +
                        "' id='" + rk + "'><reactions xmlns='urn:xmpp:reactions:0' id='" + id + "'>";
        for (const auto& e : emojis) r += "<reaction>" + Esc(e) + "</reaction>";
        r += "</reactions><store xmlns='urn:xmpp:hints'/>" + occupant_x(u) + "</message>";
        line(rk, m.timestamp.ms, u, r);
        sum_->reactions += static_cast<std::int64_t>(emojis.size());
      }
    }
    if (author) {
      Snowflake old = recent_ring[ring_pos];
      if (old) recent_author.erase(old);
      recent_ring[ring_pos] = m.id;
      ring_pos = (ring_pos + 1) % recent_ring.size();
      recent_author[m.id] = author;
    }
    return static_cast<bool>(log);
  });
  FERRY_RETURN_IF_ERROR(inner);
  FERRY_RETURN_IF_ERROR(st);
  if (!log) return Status::IoError("writing muc/muc_log.tsv failed (disk full?)");

  const Channel& c = room.channel;
  std::string name;
  if (IsThreadType(c.type)) {
    name = c.name.value_or("thread");
  } else if (c.type == kGroupDm) {
    name = c.name.value_or("");
    if (name.empty()) {
      for (Snowflake u : c.recipient_ids) name += (name.empty() ? "" : ", ") + NickIn(nullptr, u);
      if (name.empty()) name = "Group DM";
    }
  } else {
    name = "#" + c.name.value_or("channel");
  }
  std::string description = CleanUtf8(c.topic.value_or(""));
  if (IsThreadType(c.type) && c.parent_id && g) {
    auto it = g->channel_names.find(*c.parent_id);
    if (description.empty() && it != g->channel_names.end()) description = "Thread in #" + it->second;
  }
  nlohmann::ordered_json j;
  j["node"] = room.node;
  j["jid"] = room_jid;
  j["name"] = CleanUtf8(name);
  j["description"] = description;
  j["subject"] = CleanUtf8(c.topic.value_or(""));
  j["members_only"] = room.members_only;
  j["hidden"] = room.members_only;
  nlohmann::ordered_json aff = nlohmann::ordered_json::object(), nicks = nlohmann::ordered_json::object();
  for (const auto& [u, a] : affiliation) {
    aff[Jid(u)] = a;
    nicks[Jid(u)] = NickIn(g, u);
  }
  j["affiliations"] = aff;
  j["reserved_nicknames"] = nicks;
  nlohmann::ordered_json d;
  d["channel_id"] = std::to_string(c.id);
  d["type"] = c.type;
  if (g) d["guild_id"] = std::to_string(g->guild.id);
  if (c.parent_id) d["parent_id"] = std::to_string(*c.parent_id);
  j["discord"] = d;
  rooms_jsonl << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  ++sum_->rooms;
  return Status::Ok();
}

Status Exporter::WriteRooms() {
  OutFile log, rooms;
  FERRY_RETURN_IF_ERROR(log.Open(tmp_ / "muc" / "muc_log.tsv"));
  FERRY_RETURN_IF_ERROR(rooms.Open(tmp_ / "muc" / "rooms.jsonl"));
  std::int64_t done = 0;
  for (auto& r : rooms_) FERRY_RETURN_IF_ERROR(WriteRoom(r, log.out(), rooms.out(), &done));
  FERRY_RETURN_IF_ERROR(log.Close());
  return rooms.Close();
}

Status Exporter::ScanDms() {
  if (!o_.include_dms) return Status::Ok();
  std::vector<Channel> dms;
  FERRY_RETURN_IF_ERROR(store_.ListChannels(0, &dms));
  std::sort(dms.begin(), dms.end(), [](const Channel& a, const Channel& b) { return a.id < b.id; });
  for (const auto& c : dms) {
    if (c.type != kDm) continue;
    std::set<Snowflake> who(c.recipient_ids.begin(), c.recipient_ids.end());
    FERRY_RETURN_IF_ERROR(store_.ForEachMessage(c.id, [&](const Message& m) {
      if (m.author_id) who.insert(*m.author_id);
      return who.size() < 3;
    }));
    std::vector<Snowflake> parts;
    for (Snowflake u : who)
      if (users_.count(u)) parts.push_back(u);
    if (parts.size() != 2) {
      if (!parts.empty())
        progress_->Note("DM channel " + std::to_string(c.id) + " has " + std::to_string(parts.size()) +
                        " known participants (need 2); skipped");
      continue;
    }
    dm_participants_[c.id] = parts;
    for (Snowflake u : parts) {
      user_dms_[u].push_back(c.id);
      needed_.insert(u);
    }
    partners_[parts[0]].insert(parts[1]);
    partners_[parts[1]].insert(parts[0]);
    ++sum_->dm_channels;
  }
  return Status::Ok();
}

Status Exporter::WriteDmArchive(const UserInfo& u, std::ostream& out) {
  auto it = user_dms_.find(u.id);
  if (it == user_dms_.end()) return Status::Ok();
  // A personal archive is ordered by insert order, so the user's DM channels are merged by time here:
  // one page-sized cursor per channel keeps memory flat.
  struct Cursor {
    Snowflake channel;
    std::vector<Message> page;  // ascending
    std::size_t pos = 0;
    Snowflake last = 0;
    bool exhausted = false;
  };
  std::vector<Cursor> cursors;
  for (Snowflake c : it->second) {
    Cursor cur;
    cur.channel = c;
    cursors.push_back(std::move(cur));
  }
  const int page_size = std::max(10, 2000 / static_cast<int>(cursors.size()));
  auto refill = [&](Cursor& c) -> Status {
    if (c.pos < c.page.size() || c.exhausted) return Status::Ok();
    MessageQuery q;
    q.channel_id = c.channel;
    q.after = c.last;
    q.limit = page_size;
    c.page.clear();
    c.pos = 0;
    FERRY_RETURN_IF_ERROR(store_.ListMessages(q, &c.page));
    std::sort(c.page.begin(), c.page.end(), [](const Message& a, const Message& b) { return a.id < b.id; });
    if (c.page.empty()) c.exhausted = true;
    else c.last = c.page.back().id;
    return Status::Ok();
  };
  out << "<archive xmlns='urn:xmpp:pie:0#mam'>";
  while (true) {
    Cursor* best = nullptr;
    for (auto& c : cursors) {
      FERRY_RETURN_IF_ERROR(refill(c));
      if (c.exhausted) continue;
      const Message& m = c.page[c.pos];
      if (!best || m.timestamp.ms < best->page[best->pos].timestamp.ms ||
          (m.timestamp.ms == best->page[best->pos].timestamp.ms && m.id < best->page[best->pos].id))
        best = &c;
    }
    if (!best) break;
    FERRY_RETURN_IF_ERROR(Interrupted());
    const Message& m = best->page[best->pos++];
    if (m.deleted || !m.author_id) continue;
    const auto& parts = dm_participants_[best->channel];
    Snowflake author = *m.author_id;
    if (author != parts[0] && author != parts[1]) continue;
    Snowflake other = author == parts[0] ? parts[1] : parts[0];
    std::string from = Jid(author), to = Jid(other);
    std::string id = std::to_string(m.id);
    std::string stamp = XmppStamp(m.timestamp.ms);
    std::vector<std::pair<std::string, std::string>> oob;
    std::string body = Body(m, nullptr, &oob, "");
    auto result = [&](const std::string& key, const std::string& stanza) {
      out << "<result xmlns='urn:xmpp:mam:2' id='" << key << "'><forwarded xmlns='urn:xmpp:forward:0'><delay "
             "xmlns='urn:xmpp:delay' stamp='"
          << stamp << "'/>" << stanza << "</forwarded></result>\n";
    };
    std::string s = "<message xmlns='jabber:client' type='chat' from='" + Esc(from) + "' to='" + Esc(to) + "' id='" +
                    id + "'><body>" + Esc(body) + "</body>";
    for (const auto& [url, desc] : oob)
      s += "<x xmlns='jabber:x:oob'><url>" + Esc(url) + "</url><desc>" + Esc(desc) + "</desc></x>";
    if (m.reference && m.reference->message_id && m.type == 19) {
      Message t;
      s += "<reply xmlns='urn:xmpp:reply:0' id='" + std::to_string(*m.reference->message_id) + "'";
      if (store_.GetMessage(best->channel, *m.reference->message_id, &t).ok() && t.author_id && users_.count(*t.author_id))
        s += " to='" + Esc(Jid(*t.author_id)) + "'";
      s += "/>";
    }
    s += "<discord xmlns='urn:ferry:discord:0' message='" + id + "' channel='" + std::to_string(best->channel) + "'";
    if (m.edited) s += " edited='" + XmppStamp(m.edited->ms) + "'";
    s += "/></message>";
    result(id, s);
    if (author == u.id) ++sum_->dm_messages;
    if (m.edited)
      result(id + "-edit", "<message xmlns='jabber:client' type='chat' from='" + Esc(from) + "' to='" + Esc(to) +
                               "' id='" + id + "-edit'><body>" + Esc(body) +
                               "</body><replace xmlns='urn:xmpp:message-correct:0' id='" + id + "'/></message>");
    if (m.reactions) {
      std::map<Snowflake, std::vector<std::string>> by_user;
      for (const auto& r : *m.reactions)
        if (!r.emoji.id)
          for (Snowflake ru : r.user_ids)
            if (ru == parts[0] || ru == parts[1]) by_user[ru].push_back(r.emoji.name);
      for (const auto& [ru, emojis] : by_user) {
        std::string rk = id + "-r-" + std::to_string(ru);
        std::string r = "<message xmlns='jabber:client' type='chat' from='" + Esc(Jid(ru)) + "' to='" +
                        Esc(Jid(ru == parts[0] ? parts[1] : parts[0])) + "' id='" + rk +
                        "'><reactions xmlns='urn:xmpp:reactions:0' id='" + id + "'>";
        for (const auto& e : emojis) r += "<reaction>" + Esc(e) + "</reaction>";
        r += "</reactions><store xmlns='urn:xmpp:hints'/></message>";
        result(rk, r);
      }
    }
    if (!out) return Status::IoError("writing the XEP-0227 file of " + u.localpart + " failed (disk full?)");
  }
  out << "</archive>";
  return Status::Ok();
}

Status Exporter::WriteUserFile(const UserInfo& u, std::ostream& out, std::ostream* creds) {
  const std::string jid = u.localpart + "@" + o_.domain;
  out << "<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'><host jid='" << Esc(o_.domain)
      << "'><user name='" << Esc(u.localpart) << "'";
  // Prosody's xep0227 driver turns attributes in its extended namespace into account properties: this one
  // makes the account exist (a record with no properties is not stored) while holding no credentials.
  if (o_.password_mode == "none")
    out << " xmlns:pext='http://prosody.im/protocol/extended-xep0227' pext:ferry_imported_without_password='true'";
  out << ">";
  if (o_.password_mode == "random") {
    std::string password;
    FERRY_RETURN_IF_ERROR(RandomPassword(20, &password));
    // Both hashes, so the file loads whatever `password_hash` the server uses.
    for (const char* h : {"SHA-1", "SHA-256"}) {
      ScramVerifier v;
      FERRY_RETURN_IF_ERROR(MakeScramVerifier(password, h, o_.scram_iterations, "", &v));
      out << "<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='" << v.mechanism << "'><iter-count>"
          << v.iterations << "</iter-count><salt>" << v.salt_b64 << "</salt><server-key>" << v.server_key_b64
          << "</server-key><stored-key>" << v.stored_key_b64 << "</stored-key></scram-credentials>";
    }
    if (creds) *creds << jid << "," << password << "\n";
  }
  auto partners = partners_.find(u.id);
  if (partners != partners_.end() && !partners->second.empty()) {
    out << "<query xmlns='jabber:iq:roster'>";
    std::vector<std::pair<std::string, Snowflake>> sorted;
    for (Snowflake p : partners->second) sorted.push_back({Jid(p), p});
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [pj, p] : sorted)
      out << "<item jid='" << Esc(pj) << "' name='" << Esc(NickIn(nullptr, p))
          << "' subscription='both'><group>Discord</group></item>";
    out << "</query>";
  }
  out << "<vCard xmlns='vcard-temp'><FN>" << Esc(u.display.empty() ? u.localpart : u.display) << "</FN><NICKNAME>"
      << Esc(u.username.empty() ? u.localpart : u.username) << "</NICKNAME>";
  if (u.avatar_sha256) {
    std::string path = store_.BlobPath(*u.avatar_sha256);
    std::error_code ec;
    if (!path.empty() && fs::file_size(path, ec) <= kMaxAvatarBytes && !ec) {
      std::ifstream f(path, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (f.good() || f.eof()) {
        out << "<PHOTO><TYPE>" << ImageType(bytes) << "</TYPE><BINVAL>" << Base64(bytes) << "</BINVAL></PHOTO>";
        ++sum_->avatars;
      }
    }
  }
  out << "</vCard>";
  FERRY_RETURN_IF_ERROR(WriteDmArchive(u, out));
  out << "</user></host></server-data>\n";
  return Status::Ok();
}

Status Exporter::WriteAccounts() {
  std::unique_ptr<OutFile> creds;
  if (o_.password_mode == "random") {
    creds = std::make_unique<OutFile>();
    FERRY_RETURN_IF_ERROR(creds->Open(tmp_ / "credentials.csv", true));
    creds->out() << "jid,password\n";
  }
  std::vector<std::pair<std::string, Snowflake>> order;
  for (Snowflake id : needed_) order.push_back({users_.at(id).localpart, id});
  std::sort(order.begin(), order.end());
  for (const auto& [lp, id] : order) {
    OutFile f;
    FERRY_RETURN_IF_ERROR(f.Open(tmp_ / "xep0227" / (lp + "@" + o_.domain + ".xml"), true));
    FERRY_RETURN_IF_ERROR(WriteUserFile(users_.at(id), f.out(), creds ? &creds->out() : nullptr));
    FERRY_RETURN_IF_ERROR(f.Close());
    ++sum_->accounts;
  }
  if (creds) FERRY_RETURN_IF_ERROR(creds->Close());
  return Status::Ok();
}

Status Exporter::WriteStatic() {
  nlohmann::ordered_json man;
  man["format"] = "ferry-xmpp-export";
  man["version"] = kLayoutVersion;
  man["domain"] = o_.domain;
  man["muc_domain"] = o_.muc_domain;
  man["files_url"] = files_url_;
  man["password_mode"] = o_.password_mode;
  man["accounts"] = sum_->accounts;
  man["rooms"] = sum_->rooms;
  man["room_messages"] = sum_->room_messages;
  man["dm_channels"] = sum_->dm_channels;
  man["dm_messages"] = sum_->dm_messages;
  man["attachments"] = sum_->attachments;
  man["attachments_missing"] = sum_->attachments_missing;
  std::vector<std::pair<std::string, std::string>> files = {
      {"manifest.json", man.dump(2) + "\n"},
      {"load.sh", LoadScript()},
      {"ferry-load.lua", LoaderLua()},
      {"LOAD.md", LoadMarkdown(o_.domain, o_.muc_domain, files_url_, o_.password_mode == "random")},
  };
  for (const auto& [name, text] : files) {
    OutFile f;
    FERRY_RETURN_IF_ERROR(f.Open(tmp_ / name));
    f.out() << text;
    FERRY_RETURN_IF_ERROR(f.Close());
  }
  ::chmod((tmp_ / "load.sh").c_str(), 0755);
  return Status::Ok();
}

Status Exporter::Finish() {
  // Swap the new output in; files/ stays (attachments are keyed by id and only ever added).
  std::error_code ec;
  for (const char* name : {"xep0227", "muc", "manifest.json", "load.sh", "ferry-load.lua", "LOAD.md", "credentials.csv"}) {
    fs::path src = tmp_ / name, dst = out_ / name;
    fs::remove_all(dst, ec);
    if (!fs::exists(src)) continue;
    fs::rename(src, dst, ec);
    if (ec) return Status::IoError("cannot move " + src.string() + " to " + dst.string() + ": " + ec.message());
  }
  fs::remove_all(tmp_, ec);
  return Status::Ok();
}

Status Exporter::Run() {
  std::string why;
  if (!ValidateDomain(o_.domain, &o_.domain, &why)) return Status::InvalidInput("--domain '" + o_.domain + "' " + why);
  if (!ValidateDomain(o_.muc_domain, &o_.muc_domain, &why))
    return Status::InvalidInput("--muc-domain '" + o_.muc_domain + "' " + why);
  if (o_.domain == o_.muc_domain)
    return Status::InvalidInput("--muc-domain must differ from --domain (Prosody serves MUC on its own component host)");
  if (o_.password_mode != "random" && o_.password_mode != "none")
    return Status::InvalidInput("--password-mode must be random or none, not '" + o_.password_mode + "'");
  files_url_ = o_.files_url.empty() ? "https://" + o_.domain + ":5281/files/" : o_.files_url;
  if (files_url_.back() != '/') files_url_ += '/';
  sum_->out_dir = o_.out_dir;
  FERRY_RETURN_IF_ERROR(LoadUsers());
  FERRY_RETURN_IF_ERROR(PlanRooms());
  FERRY_RETURN_IF_ERROR(PrepareOutput());
  FERRY_RETURN_IF_ERROR(WriteRooms());
  FERRY_RETURN_IF_ERROR(ScanDms());
  progress_->Update("accounts", 0, static_cast<std::int64_t>(needed_.size()), 0);
  FERRY_RETURN_IF_ERROR(WriteAccounts());
  FERRY_RETURN_IF_ERROR(WriteStatic());
  return Finish();
}

}  // namespace

Status ExportXmpp(Store& store, const XmppExportOptions& options, Progress* progress, XmppExportSummary* summary) {
  NullProgress null;
  *summary = XmppExportSummary{};
  Exporter e(store, options, progress ? progress : &null, summary);
  return e.Run();
}

std::string LoadHint(const XmppExportOptions& o) {
  return "Load into Prosody (stopped; storage = \"sql\"):\n  " + o.out_dir +
         "/load.sh /etc/prosody/prosody.cfg.lua\nthen start Prosody. Details: " + o.out_dir + "/LOAD.md";
}

}  // namespace ferry::xmpp
