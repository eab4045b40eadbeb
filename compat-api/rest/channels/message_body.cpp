#include "compat-api/rest/channels/message_body.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "compat-api/rest/common.hpp"

namespace ferry::compat::rest {
namespace {

std::string MaxLen(std::size_t n) { return "Must be " + std::to_string(n) + " or fewer in length."; }

void CheckString(const Json& obj, const char* key, std::size_t max, const std::string& path, bool required,
                 http::FormErrors& errors, std::size_t* total) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) errors.Add(path, "BASE_TYPE_REQUIRED", "This field is required");
    return;
  }
  if (!it->is_string()) {
    errors.Add(path, "STRING_TYPE_CONVERT", "Could not interpret \"" + it->dump() + "\" as string.");
    return;
  }
  const std::string& s = it->get_ref<const std::string&>();
  if (!IsValidUtf8(s)) {
    errors.Add(path, "STRING_TYPE_CONVERT", "Not valid UTF-8.");
    return;
  }
  std::size_t n = CharCount(s);
  if (n > max) errors.Add(path, "BASE_TYPE_MAX_LENGTH", MaxLen(max));
  if (total) *total += n;
}

void ValidateEmbed(const Json& e, const std::string& path, http::FormErrors& errors, std::size_t* total) {
  if (!e.is_object()) {
    errors.Add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    return;
  }
  CheckString(e, "title", 256, path + ".title", false, errors, total);
  CheckString(e, "description", 4096, path + ".description", false, errors, nullptr);
  if (auto it = e.find("description"); it != e.end() && it->is_string()) *total += CharCount(it->get<std::string>());
  CheckString(e, "url", 2048, path + ".url", false, errors, nullptr);
  if (auto it = e.find("color"); it != e.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 0xFFFFFF)
      errors.Add(path + ".color", "NUMBER_TYPE_MAX", "Int value should be less than or equal to 16777215.");
  }
  if (auto it = e.find("footer"); it != e.end() && !it->is_null()) {
    if (!it->is_object()) errors.Add(path + ".footer", "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    else CheckString(*it, "text", 2048, path + ".footer.text", true, errors, total);
  }
  if (auto it = e.find("author"); it != e.end() && !it->is_null()) {
    if (!it->is_object()) errors.Add(path + ".author", "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    else CheckString(*it, "name", 256, path + ".author.name", true, errors, total);
  }
  for (const char* img : {"image", "thumbnail"}) {
    if (auto it = e.find(img); it != e.end() && !it->is_null()) {
      if (!it->is_object()) errors.Add(path + "." + img, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
      else CheckString(*it, "url", 2048, path + "." + img + ".url", true, errors, nullptr);
    }
  }
  if (auto it = e.find("fields"); it != e.end() && !it->is_null()) {
    if (!it->is_array()) {
      errors.Add(path + ".fields", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
    } else {
      if (it->size() > 25) errors.Add(path + ".fields", "BASE_TYPE_MAX_LENGTH", MaxLen(25));
      for (std::size_t i = 0; i < it->size(); ++i) {
        const Json& f = (*it)[i];
        std::string fp = path + ".fields." + std::to_string(i);
        if (!f.is_object()) {
          errors.Add(fp, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
          continue;
        }
        CheckString(f, "name", 256, fp + ".name", true, errors, total);
        CheckString(f, "value", 1024, fp + ".value", true, errors, total);
        if (auto in = f.find("inline"); in != f.end() && !in->is_null() && !in->is_boolean())
          errors.Add(fp + ".inline", "BOOLEAN_TYPE_COERCE", "Value must be a boolean.");
      }
    }
  }
}

void ParseIdList(const Json& v, const std::string& path, std::vector<Snowflake>* out, http::FormErrors& errors) {
  if (!v.is_array()) {
    errors.Add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
    return;
  }
  if (v.size() > 100) errors.Add(path, "BASE_TYPE_MAX_LENGTH", MaxLen(100));
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto id = JsonSnowflake(v[i]);
    if (!id) errors.Add(path + "." + std::to_string(i), "NUMBER_TYPE_COERCE", "Value \"" + v[i].dump() + "\" is not snowflake.");
    else if (std::find(out->begin(), out->end(), *id) == out->end()) out->push_back(*id);
  }
}

bool IsBool(const Json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() || it->is_boolean();
}

}  // namespace

MessageBody ParseMessageBody(const Json& body, bool is_edit, const Limits& limits, http::FormErrors& errors) {
  MessageBody mb;
  if (auto it = body.find("content"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) {
      errors.Add("content", "STRING_TYPE_CONVERT", "Could not interpret \"" + it->dump() + "\" as string.");
    } else {
      const std::string& s = it->get_ref<const std::string&>();
      if (!IsValidUtf8(s)) errors.Add("content", "STRING_TYPE_CONVERT", "Not valid UTF-8.");
      else if (CharCount(s) > limits.max_content_chars)
        errors.Add("content", "BASE_TYPE_MAX_LENGTH", MaxLen(limits.max_content_chars));
      mb.content = s;
    }
  } else if (it != body.end() && is_edit) {
    mb.content = std::string();  // edit with content null clears it, as on Discord
  }

  const Json* embeds = nullptr;
  Json single;
  if (auto it = body.find("embeds"); it != body.end()) {
    if (it->is_null()) {
      mb.embeds.emplace();
    } else if (!it->is_array()) {
      errors.Add("embeds", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
    } else {
      embeds = &*it;
    }
  } else if (auto e = body.find("embed"); e != body.end()) {
    if (e->is_null()) {
      mb.embeds.emplace();
    } else {
      single = Json::array({*e});
      embeds = &single;
    }
  }
  if (embeds) {
    if (embeds->size() > 10) errors.Add("embeds", "BASE_TYPE_MAX_LENGTH", MaxLen(10));
    std::size_t total = 0;
    mb.embeds.emplace();
    for (std::size_t i = 0; i < embeds->size() && i < 10; ++i) {
      const Json& e = (*embeds)[i];
      ValidateEmbed(e, "embeds." + std::to_string(i), errors, &total);
      if (e.is_object()) {
        Json stored = e;
        if (!stored.contains("type")) stored["type"] = "rich";
        mb.embeds->push_back(std::move(stored));
      }
    }
    if (total > 6000)
      errors.Add("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000");
  }

  if (auto it = body.find("nonce"); it != body.end() && !it->is_null()) {
    if (it->is_string()) {
      if (it->get_ref<const std::string&>().size() > 25) errors.Add("nonce", "BASE_TYPE_MAX_LENGTH", MaxLen(25));
      else mb.nonce = it->get<std::string>();
    } else if (it->is_number_integer()) {
      mb.nonce = it->dump();
    } else {
      errors.Add("nonce", "NONCE_TYPE_INVALID", "Nonce must be a string or an integer.");
    }
  }
  if (!IsBool(body, "enforce_nonce")) errors.Add("enforce_nonce", "BOOLEAN_TYPE_COERCE", "Value must be a boolean.");
  else if (auto it = body.find("enforce_nonce"); it != body.end() && it->is_boolean()) mb.enforce_nonce = it->get<bool>();
  if (!IsBool(body, "tts")) errors.Add("tts", "BOOLEAN_TYPE_COERCE", "Value must be a boolean.");
  else if (auto it = body.find("tts"); it != body.end() && it->is_boolean()) mb.tts = it->get<bool>();

  if (auto it = body.find("flags"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer()) {
      errors.Add("flags", "NUMBER_TYPE_COERCE", "Value \"" + it->dump() + "\" is not int.");
    } else {
      auto f = it->get<std::int64_t>();
      const std::int64_t settable = kMessageFlagSuppressEmbeds | kMessageFlagSuppressNotifications;
      if (f < 0 || (f & ~settable)) errors.Add("flags", "MESSAGE_FLAGS_INVALID", "Invalid message flags.");
      else mb.flags = static_cast<int>(f);
    }
  }

  if (auto it = body.find("message_reference"); it != body.end() && !it->is_null()) {
    if (is_edit) {
      // Discord ignores a reference on edit; so do we.
    } else if (!it->is_object()) {
      errors.Add("message_reference", "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    } else {
      MessageReference ref;
      const Json& r = *it;
      if (auto t = r.find("type"); t != r.end() && !t->is_null()) {
        if (!t->is_number_integer() || (t->get<int>() != 0 && t->get<int>() != 1))
          errors.Add("message_reference.type", "BASE_TYPE_CHOICES", "Value must be one of (0, 1).");
        else if (t->get<int>() == 1)
          errors.Add("message_reference.type", "MESSAGE_REFERENCE_TYPE_UNSUPPORTED", "Forwarding messages is not supported here.");
      }
      auto id_field = [&](const char* key, std::optional<Snowflake>* out, bool required) {
        auto f = r.find(key);
        if (f == r.end() || f->is_null()) {
          if (required) errors.Add(std::string("message_reference.") + key, "BASE_TYPE_REQUIRED", "This field is required");
          return;
        }
        auto id = JsonSnowflake(*f);
        if (!id) errors.Add(std::string("message_reference.") + key, "NUMBER_TYPE_COERCE", "Value \"" + f->dump() + "\" is not snowflake.");
        else *out = id;
      };
      id_field("message_id", &ref.message_id, true);
      id_field("channel_id", &ref.channel_id, false);
      id_field("guild_id", &ref.guild_id, false);
      if (auto f = r.find("fail_if_not_exists"); f != r.end() && !f->is_null()) {
        if (!f->is_boolean()) errors.Add("message_reference.fail_if_not_exists", "BOOLEAN_TYPE_COERCE", "Value must be a boolean.");
        else mb.fail_if_not_exists = f->get<bool>();
      }
      mb.reference = ref;
    }
  }

  if (auto it = body.find("allowed_mentions"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) {
      errors.Add("allowed_mentions", "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    } else {
      AllowedMentions& am = mb.allowed_mentions;
      am.given = true;
      const Json& a = *it;
      if (auto p = a.find("parse"); p != a.end() && !p->is_null()) {
        if (!p->is_array()) {
          errors.Add("allowed_mentions.parse", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
        } else {
          for (std::size_t i = 0; i < p->size(); ++i) {
            const Json& v = (*p)[i];
            std::string s = v.is_string() ? v.get<std::string>() : "";
            if (s == "users") am.parse_users = true;
            else if (s == "roles") am.parse_roles = true;
            else if (s == "everyone") am.parse_everyone = true;
            else errors.Add("allowed_mentions.parse." + std::to_string(i), "BASE_TYPE_CHOICES",
                            "Value must be one of ('roles', 'users', 'everyone').");
          }
        }
      }
      if (auto u = a.find("users"); u != a.end() && !u->is_null()) {
        ParseIdList(*u, "allowed_mentions.users", &am.users, errors);
        if (am.parse_users)
          errors.Add("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                     "parse:[\"users\"] and users: [ids] are mutually exclusive.");
      }
      if (auto r = a.find("roles"); r != a.end() && !r->is_null()) {
        ParseIdList(*r, "allowed_mentions.roles", &am.roles, errors);
        if (am.parse_roles)
          errors.Add("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                     "parse:[\"roles\"] and roles: [ids] are mutually exclusive.");
      }
      if (auto r = a.find("replied_user"); r != a.end() && !r->is_null()) {
        if (!r->is_boolean()) errors.Add("allowed_mentions.replied_user", "BOOLEAN_TYPE_COERCE", "Value must be a boolean.");
        else am.replied_user = r->get<bool>();
      }
    }
  }

  if (auto it = body.find("attachments"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) {
      errors.Add("attachments", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
    } else {
      mb.attachments.emplace();
      for (std::size_t i = 0; i < it->size(); ++i) {
        const Json& a = (*it)[i];
        std::string path = "attachments." + std::to_string(i);
        if (!a.is_object()) {
          errors.Add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
          continue;
        }
        AttachmentSpec spec;
        auto id = a.find("id");
        if (id == a.end() || id->is_null()) {
          errors.Add(path + ".id", "BASE_TYPE_REQUIRED", "This field is required");
          continue;
        }
        auto sid = JsonSnowflake(*id);
        if (!sid) {
          errors.Add(path + ".id", "NUMBER_TYPE_COERCE", "Value \"" + id->dump() + "\" is not snowflake.");
          continue;
        }
        spec.id = std::to_string(*sid);
        if (auto f = a.find("filename"); f != a.end() && f->is_string()) {
          if (f->get_ref<const std::string&>().empty() || f->get_ref<const std::string&>().size() > 1024)
            errors.Add(path + ".filename", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1024 in length.");
          spec.filename = f->get<std::string>();
        }
        if (auto d = a.find("description"); d != a.end() && d->is_string()) {
          if (CharCount(d->get<std::string>()) > 1024) errors.Add(path + ".description", "BASE_TYPE_MAX_LENGTH", MaxLen(1024));
          spec.description = d->get<std::string>();
        }
        mb.attachments->push_back(std::move(spec));
      }
      if (mb.attachments->size() > limits.max_attachments_per_message)
        errors.Add("attachments", "BASE_TYPE_MAX_LENGTH", MaxLen(limits.max_attachments_per_message));
    }
  }

  if (auto it = body.find("sticker_ids"); it != body.end() && !it->is_null()) {
    ParseIdList(*it, "sticker_ids", &mb.sticker_ids, errors);
    if (mb.sticker_ids.size() > 3) errors.Add("sticker_ids", "BASE_TYPE_MAX_LENGTH", MaxLen(3));
  }
  return mb;
}

ContentMentions ScanMentions(std::string_view s) {
  ContentMentions out;
  auto add = [](std::vector<Snowflake>* v, Snowflake id) {
    if (std::find(v->begin(), v->end(), id) == v->end()) v->push_back(id);
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '@') {
      if (s.substr(i + 1, 8) == "everyone" || s.substr(i + 1, 4) == "here") out.everyone = true;
      continue;
    }
    if (s[i] != '<' || i + 2 >= s.size() || s[i + 1] != '@') continue;
    std::size_t j = i + 2;
    bool role = false;
    if (s[j] == '!') ++j;
    else if (s[j] == '&') { role = true; ++j; }
    std::size_t start = j;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == start || j >= s.size() || s[j] != '>') continue;
    auto id = ParseSnowflake(s.substr(start, j - start));
    if (!id) continue;
    add(role ? &out.roles : &out.users, *id);
    i = j;
  }
  return out;
}

ContentMentions FilterMentions(const ContentMentions& found, const AllowedMentions& a) {
  if (!a.given) return found;
  ContentMentions out;
  out.everyone = found.everyone && a.parse_everyone;
  for (Snowflake u : found.users)
    if (a.parse_users || std::find(a.users.begin(), a.users.end(), u) != a.users.end()) out.users.push_back(u);
  for (Snowflake r : found.roles)
    if (a.parse_roles || std::find(a.roles.begin(), a.roles.end(), r) != a.roles.end()) out.roles.push_back(r);
  return out;
}

MessageQuery ParseMessagePaging(const std::vector<std::pair<std::string, std::string>>& query, Snowflake channel_id,
                                http::FormErrors& errors) {
  MessageQuery q;
  q.channel_id = channel_id;
  q.limit = 50;
  auto first = [&](std::string_view name) -> const std::string* {
    for (const auto& [k, v] : query)
      if (k == name) return &v;
    return nullptr;
  };
  if (const std::string* l = first("limit")) {
    long long v = 0;
    auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), v);
    if (l->empty() || ec != std::errc() || ptr != l->data() + l->size())
      errors.Add("limit", "NUMBER_TYPE_COERCE", "Value \"" + *l + "\" is not int.");
    else if (v < 1)
      errors.Add("limit", "NUMBER_TYPE_MIN", "Int value should be greater than or equal to 1.");
    else if (v > 100)
      errors.Add("limit", "NUMBER_TYPE_MAX", "Int value should be less than or equal to 100.");
    else
      q.limit = static_cast<int>(v);
  }
  auto anchor = [&](const char* name) -> std::optional<Snowflake> {
    const std::string* v = first(name);
    if (!v) return std::nullopt;
    auto id = ParseSnowflake(*v);
    if (!id) errors.Add(name, "NUMBER_TYPE_COERCE", "Value \"" + *v + "\" is not snowflake.");
    return id;
  };
  auto around = anchor("around");
  auto before = anchor("before");
  auto after = anchor("after");
  if (around) q.around = around;
  else if (before) q.before = before;
  else if (after) q.after = after;
  return q;
}

std::optional<Emoji> ParseReactionEmoji(std::string_view s) {
  if (s.empty() || s.size() > 256) return std::nullopt;
  // Custom emoji: "name:id", "a:name:id", or ":name:id"-like forms some clients send.
  auto colon = s.rfind(':');
  if (colon != std::string_view::npos) {
    auto id = ParseSnowflake(s.substr(colon + 1));
    std::string_view head = s.substr(0, colon);
    bool animated = false;
    if (head.substr(0, 2) == "a:") {
      animated = true;
      head.remove_prefix(2);
    }
    if (!head.empty() && head.front() == ':') head.remove_prefix(1);
    if (!id || *id == 0 || head.size() < 2 || head.size() > 32) return std::nullopt;
    for (char c : head)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return std::nullopt;
    Emoji e;
    e.id = *id;
    e.name = std::string(head);
    e.animated = animated;
    return e;
  }
  // Unicode emoji: valid UTF-8 with at least one non-ASCII code point (keycaps like "1️⃣" qualify through
  // U+FE0F/U+20E3), no spaces or control characters, at most a few grapheme parts.
  if (!IsValidUtf8(s) || CharCount(s) > 16) return std::nullopt;
  bool non_ascii = false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) non_ascii = true;
    else if (u <= 0x20 || u == 0x7F) return std::nullopt;
  }
  if (!non_ascii) return std::nullopt;
  Emoji e;
  e.name = std::string(s);
  return e;
}

std::optional<std::pair<int, int>> ImageSize(std::string_view b) {
  auto be16 = [&](std::size_t i) { return (static_cast<unsigned char>(b[i]) << 8) | static_cast<unsigned char>(b[i + 1]); };
  auto le16 = [&](std::size_t i) { return static_cast<unsigned char>(b[i]) | (static_cast<unsigned char>(b[i + 1]) << 8); };
  auto be32 = [&](std::size_t i) {
    return (static_cast<std::uint32_t>(be16(i)) << 16) | static_cast<std::uint32_t>(be16(i + 2));
  };
  if (b.size() >= 24 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8) && b.substr(12, 4) == "IHDR")
    return std::make_pair(static_cast<int>(be32(16)), static_cast<int>(be32(20)));
  if (b.size() >= 10 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a"))
    return std::make_pair(le16(6), le16(8));
  if (b.size() >= 30 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    std::string_view kind = b.substr(12, 4);
    if (kind == "VP8X")
      return std::make_pair(1 + (le16(24) | (static_cast<unsigned char>(b[26]) << 16)),
                            1 + (le16(27) | (static_cast<unsigned char>(b[29]) << 16)));
    if (kind == "VP8 " && b.size() >= 30) return std::make_pair(le16(26) & 0x3FFF, le16(28) & 0x3FFF);
    if (kind == "VP8L" && b.size() >= 25) {
      std::uint32_t bits = static_cast<unsigned char>(b[21]) | (static_cast<unsigned char>(b[22]) << 8) |
                           (static_cast<unsigned char>(b[23]) << 16) | (static_cast<std::uint32_t>(static_cast<unsigned char>(b[24])) << 24);
      return std::make_pair(static_cast<int>((bits & 0x3FFF) + 1), static_cast<int>(((bits >> 14) & 0x3FFF) + 1));
    }
    return std::nullopt;
  }
  if (b.size() >= 4 && static_cast<unsigned char>(b[0]) == 0xFF && static_cast<unsigned char>(b[1]) == 0xD8) {
    std::size_t i = 2;
    while (i + 9 < b.size()) {
      if (static_cast<unsigned char>(b[i]) != 0xFF) return std::nullopt;
      unsigned char marker = static_cast<unsigned char>(b[i + 1]);
      if (marker == 0xFF) { ++i; continue; }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }
      std::size_t len = be16(i + 2);
      // Start-of-frame markers (not DHT C4, JPG C8, DAC CC) carry height then width.
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
        return std::make_pair(be16(i + 7), be16(i + 5));
      if (len < 2) return std::nullopt;
      i += 2 + len;
    }
  }
  return std::nullopt;
}

std::string GuessContentType(std::string_view filename, std::string_view sent) {
  std::string ext;
  if (auto dot = filename.rfind('.'); dot != std::string_view::npos)
    for (char c : filename.substr(dot + 1)) ext += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<const char*, const char*> kTypes[] = {
      {"png", "image/png"},   {"jpg", "image/jpeg"},       {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
      {"webp", "image/webp"}, {"txt", "text/plain; charset=utf-8"}, {"json", "application/json"},
      {"pdf", "application/pdf"}, {"mp4", "video/mp4"},   {"webm", "video/webm"}, {"mp3", "audio/mpeg"},
      {"ogg", "audio/ogg"},   {"zip", "application/zip"},  {"svg", "image/svg+xml"}, {"md", "text/markdown; charset=utf-8"},
  };
  for (const auto& [e, t] : kTypes)
    if (ext == e) return t;
  if (!sent.empty() && sent != "application/octet-stream") return std::string(sent.substr(0, 255));
  return "application/octet-stream";
}

}  // namespace ferry::compat::rest
