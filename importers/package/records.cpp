#include "importers/package/records.hpp"

#include <cctype>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/snowflake.hpp"

namespace ferry::package {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Where(const EntryStream& in, std::int64_t line) {
  return in.name() + " line " + std::to_string(line);
}

}  // namespace

// ------------------------------------------------------------------------------------------------ CSV

Status ReadCsvMessages(EntryStream& in, const RecordFn& fn) {
  enum State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  State state = kFieldStart;
  std::vector<std::string> fields;
  std::string field;
  std::size_t record_bytes = 0;
  bool pending_cr = false;
  std::int64_t line = 1, record_line = 1;
  bool header_done = false;
  int col_id = -1, col_ts = -1, col_contents = -1, col_att = -1;

  auto end_record = [&]() -> Status {
    fields.push_back(std::move(field));
    field.clear();
    std::int64_t start = record_line;
    record_bytes = 0;
    std::vector<std::string> rec;
    rec.swap(fields);
    if (rec.size() == 1 && rec[0].empty()) return Status::Ok();  // blank line
    if (!header_done) {
      header_done = true;
      for (std::size_t i = 0; i < rec.size(); ++i) {
        std::string name = rec[i];
        if (i == 0 && name.rfind("\xEF\xBB\xBF", 0) == 0) name = name.substr(3);
        name = Lower(name);
        if (name == "id") col_id = static_cast<int>(i);
        else if (name == "timestamp") col_ts = static_cast<int>(i);
        else if (name == "contents") col_contents = static_cast<int>(i);
        else if (name == "attachments") col_att = static_cast<int>(i);
      }
      if (col_id < 0)
        return Status::InvalidInput(Where(in, start) +
                                    ": not a messages.csv header (expected ID,Timestamp,Contents,Attachments)");
      return Status::Ok();
    }
    auto get = [&](int col) -> std::string { return col >= 0 && col < static_cast<int>(rec.size()) ? rec[col] : ""; };
    MessageRecord r;
    r.line = start;
    auto id = ParseSnowflake(get(col_id));
    if (!id || *id == 0)
      return Status::InvalidInput(Where(in, start) + ": ID '" + get(col_id) + "' is not a message id");
    r.id = *id;
    r.timestamp = get(col_ts);
    r.contents = get(col_contents);
    r.attachments = get(col_att);
    return fn(r);
  };

  char buf[64 * 1024];
  while (true) {
    std::int64_t n = in.Read(buf, sizeof buf);
    if (n < 0) return in.status();
    if (n == 0) break;
    for (std::int64_t i = 0; i < n; ++i) {
      char c = buf[i];
      if (++record_bytes > kMaxRecordBytes)
        return Status::InvalidInput(Where(in, record_line) + ": a record longer than " +
                                    std::to_string(kMaxRecordBytes) + " bytes (unterminated quote?)");
      if (pending_cr) {
        pending_cr = false;
        if (c == '\n') {
          ++line;
          FERRY_RETURN_IF_ERROR(end_record());
          state = kFieldStart;
          record_line = line;
          continue;
        }
        field += '\r';
      }
      switch (state) {
        case kFieldStart:
        case kUnquoted:
          if (c == '"' && state == kFieldStart) {
            state = kQuoted;
          } else if (c == ',') {
            fields.push_back(std::move(field));
            field.clear();
            state = kFieldStart;
          } else if (c == '\r') {
            pending_cr = true;
          } else if (c == '\n') {
            ++line;
            FERRY_RETURN_IF_ERROR(end_record());
            state = kFieldStart;
            record_line = line;
          } else {
            field += c;
            state = kUnquoted;
          }
          break;
        case kQuoted:
          if (c == '"') {
            state = kQuoteInQuoted;
          } else {
            if (c == '\n') ++line;
            field += c;
          }
          break;
        case kQuoteInQuoted:
          if (c == '"') {
            field += '"';
            state = kQuoted;
          } else if (c == ',') {
            fields.push_back(std::move(field));
            field.clear();
            state = kFieldStart;
          } else if (c == '\r') {
            pending_cr = true;
            state = kUnquoted;
          } else if (c == '\n') {
            ++line;
            FERRY_RETURN_IF_ERROR(end_record());
            state = kFieldStart;
            record_line = line;
          } else {
            // `"abc"def`: what Python's csv reader does too — keep the text.
            field += c;
            state = kUnquoted;
          }
          break;
      }
    }
  }
  if (state == kQuoted)
    return Status::InvalidInput(Where(in, record_line) + ": quoted field never closed (file truncated?)");
  if (pending_cr) pending_cr = false;
  if (!fields.empty() || !field.empty()) FERRY_RETURN_IF_ERROR(end_record());
  if (!header_done) return Status::Ok();  // empty file: a channel with no messages
  return Status::Ok();
}

// ----------------------------------------------------------------------------------------------- JSON

Status ParseJsonMessage(const std::string& text, const std::string& where, MessageRecord* out, Leniency* lenient) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidInput(where + ": bad JSON message object: " + e.what());
  }
  if (!j.is_object()) return Status::InvalidInput(where + ": expected a message object");
  const nlohmann::json *id = nullptr, *ts = nullptr, *contents = nullptr, *att = nullptr;
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string k = Lower(it.key());
    if (k == "id") id = &it.value();
    else if (k == "timestamp") ts = &it.value();
    else if (k == "contents") contents = &it.value();
    else if (k == "attachments") att = &it.value();
  }
  if (!id) return Status::InvalidInput(where + ": message has no ID");
  // nlohmann keeps integers up to 2^64-1 exact (number_unsigned); only a float form loses digits.
  if (id->is_number_unsigned()) {
    out->id = id->get<std::uint64_t>();
  } else if (id->is_number_integer() && id->get<std::int64_t>() > 0) {
    out->id = static_cast<std::uint64_t>(id->get<std::int64_t>());
  } else if (id->is_string()) {
    auto v = ParseSnowflake(id->get<std::string>());
    if (!v) return Status::InvalidInput(where + ": ID '" + id->get<std::string>() + "' is not a message id");
    out->id = *v;
    if (lenient) ++lenient->string_ids;
  } else {
    return Status::InvalidInput(where + ": ID " + id->dump() +
                                " is not an exact integer (a float-rounded id cannot be trusted)");
  }
  if (out->id == 0) return Status::InvalidInput(where + ": ID 0 is not a message id");
  out->timestamp = ts && ts->is_string() ? ts->get<std::string>() : "";
  out->contents = contents && contents->is_string() ? contents->get<std::string>() : "";
  out->attachments.clear();
  if (att && att->is_string()) {
    out->attachments = att->get<std::string>();
  } else if (att && att->is_array()) {
    for (const auto& a : *att)
      if (a.is_string()) out->attachments += (out->attachments.empty() ? "" : " ") + a.get<std::string>();
  }
  return Status::Ok();
}

Status ReadJsonMessages(EntryStream& in, const RecordFn& fn, Leniency* lenient) {
  Leniency scratch;
  if (!lenient) lenient = &scratch;
  std::string obj;
  int depth = 0;
  bool in_string = false, escape = false;
  bool seen_object = false, comma_since_object = false, closed = false;
  std::int64_t line = 1, obj_line = 0;
  bool first_byte = true;

  char buf[64 * 1024];
  while (true) {
    std::int64_t n = in.Read(buf, sizeof buf);
    if (n < 0) return in.status();
    if (n == 0) break;
    std::int64_t i = 0;
    if (first_byte) {
      first_byte = false;
      if (n >= 3 && static_cast<unsigned char>(buf[0]) == 0xEF && static_cast<unsigned char>(buf[1]) == 0xBB &&
          static_cast<unsigned char>(buf[2]) == 0xBF)
        i = 3;
    }
    for (; i < n; ++i) {
      char c = buf[i];
      if (depth == 0) {
        switch (c) {
          case '\n': ++line; break;
          case ' ': case '\t': case '\r': break;
          case '[':
            break;
          case ']':
            if (comma_since_object && seen_object) ++lenient->trailing_commas;
            comma_since_object = false;
            closed = true;
            break;
          case ',':
            if (comma_since_object) ++lenient->trailing_commas;
            comma_since_object = true;
            break;
          case '{':
            if (seen_object && !comma_since_object) ++lenient->missing_commas;
            depth = 1;
            obj.assign(1, '{');
            obj_line = line;
            in_string = escape = false;
            break;
          default: {
            char shown[8];
            std::snprintf(shown, sizeof shown, (c >= 0x20 && c < 0x7f) ? "'%c'" : "0x%02x",
                          static_cast<unsigned char>(c));
            return Status::InvalidInput(Where(in, line) + ": unexpected " + shown +
                                        " between messages (expected a JSON array of message objects)");
          }
        }
        continue;
      }
      if (obj.size() > kMaxRecordBytes)
        return Status::InvalidInput(Where(in, obj_line) + ": a message object longer than " +
                                    std::to_string(kMaxRecordBytes) + " bytes");
      if (in_string) {
        if (escape) {
          escape = false;
          obj += c;
        } else if (c == '\\') {
          escape = true;
          obj += c;
        } else if (c == '"') {
          in_string = false;
          obj += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
          ++lenient->raw_control_chars;
          if (c == '\n') { obj += "\\n"; ++line; }
          else if (c == '\r') obj += "\\r";
          else if (c == '\t') obj += "\\t";
          else {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
            obj += esc;
          }
        } else {
          obj += c;
        }
        continue;
      }
      if (c == '\n') ++line;
      obj += c;
      if (c == '"') in_string = true;
      else if (c == '{' || c == '[') ++depth;
      else if (c == '}' || c == ']') {
        if (--depth == 0) {
          MessageRecord r;
          r.line = obj_line;
          FERRY_RETURN_IF_ERROR(ParseJsonMessage(obj, Where(in, obj_line), &r, lenient));
          FERRY_RETURN_IF_ERROR(fn(r));
          seen_object = true;
          comma_since_object = false;
          obj.clear();
        }
      }
    }
  }
  if (depth != 0)
    return Status::InvalidInput(Where(in, obj_line) + ": message object never ends (file truncated?)");
  (void)closed;
  return Status::Ok();
}

}  // namespace ferry::package
