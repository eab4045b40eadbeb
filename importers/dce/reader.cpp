#include "store/utf8.hpp"
#include "importers/dce/reader.hpp"

#include <cctype>
#include <cstring>

namespace ferry::dce {
namespace {

constexpr std::size_t kPadding = 64;  // == simdjson::SIMDJSON_PADDING (3.0.1); kept here to avoid the include

bool IsWs(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

using ::ferry::AppendUtf8;

int Hex4(std::string_view s, std::size_t i) {
  if (i + 4 > s.size()) return -1;
  int v = 0;
  for (std::size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  return v;
}

std::string Printable(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char b[8];
  std::snprintf(b, sizeof b, "0x%02X", u);
  return b;
}

}  // namespace

const std::string* DceHeader::Find(std::string_view key) const {
  for (auto& [k, v] : values)
    if (k == key) return &v;
  return nullptr;
}

std::string DecodeJsonStringToken(std::string_view t) {
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
  std::string out;
  out.reserve(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c != '\\' || i + 1 >= t.size()) {
      out.push_back(c);
      continue;
    }
    char e = t[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        int cp = Hex4(t, i + 1);
        if (cp < 0) { out.push_back('?'); break; }
        i += 4;
        std::uint32_t code = static_cast<std::uint32_t>(cp);
        if (code >= 0xD800 && code < 0xDC00 && i + 6 < t.size() + 0 && t[i + 1] == '\\' && t[i + 2] == 'u') {
          int lo = Hex4(t, i + 3);
          if (lo >= 0xDC00 && lo < 0xE000) {
            code = 0x10000 + ((code - 0xD800) << 10) + (static_cast<std::uint32_t>(lo) - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(&out, code);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
  }
  return out;
}

DceReader::DceReader(ReadFn read, std::string name, std::size_t chunk)
    : read_(std::move(read)), name_(std::move(name)), chunk_(chunk < 16 ? 16 : chunk) {
  buf_.resize(chunk_ + kPadding);
}

bool DceReader::Fill() {
  if (eof_ || io_error_) return false;
  std::size_t shift = keep_;
  if (shift > 0) {
    std::memmove(buf_.data(), buf_.data() + shift, end_ - shift);
    end_ -= shift;
    pos_ -= shift;
    file_base_ += shift;
    keep_ = 0;
  }
  last_shift_ = shift;
  if (buf_.size() < end_ + chunk_ + kPadding) buf_.resize(end_ + chunk_ + kPadding);
  long n = read_(buf_.data() + end_, chunk_);
  if (n < 0) {
    io_error_ = true;
    return false;
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  return true;
}

bool DceReader::SkipWs() {
  keep_ = pos_;
  for (;;) {
    while (pos_ < end_ && IsWs(buf_[pos_])) ++pos_;
    if (pos_ < end_) {
      keep_ = pos_;  // the token starts here; nothing before it is needed any more
      return true;
    }
    keep_ = pos_;
    if (!Fill()) return false;
  }
}

bool DceReader::ScanString(std::size_t* end) {
  // pos_ (== keep_) is at the opening quote.
  std::size_t i = pos_ + 1;
  for (;;) {
    const char* b = buf_.data();
    while (i < end_ && b[i] != '"' && b[i] != '\\') ++i;
    if (i + 1 < end_ && b[i] == '\\') {
      i += 2;
      continue;
    }
    if (i < end_ && b[i] == '"') {
      *end = i + 1;
      return true;
    }
    if (end_ - keep_ > kMaxValueBytes) {
      too_large_ = true;
      return false;
    }
    if (!Fill()) return false;
    i -= last_shift_;
  }
}

bool DceReader::ScanValue(std::size_t* end, std::size_t limit) {
  // pos_ (== keep_) is at the first byte of the value.
  char c = buf_[pos_];
  if (c == '"') return ScanString(end);
  if (c != '{' && c != '[') {
    std::size_t i = pos_;
    for (;;) {
      while (i < end_ && !IsWs(buf_[i]) && buf_[i] != ',' && buf_[i] != '}' && buf_[i] != ']') ++i;
      if (i < end_) {
        *end = i;
        return true;
      }
      if (end_ - keep_ > 4096) {
        too_large_ = true;
        return false;
      }
      if (!Fill()) return false;
      i -= last_shift_;
    }
  }
  std::size_t i = pos_ + 1;
  int depth = 1;
  bool in_str = false;
  for (;;) {
    const char* b = buf_.data();
    while (i < end_) {
      if (in_str) {
        while (i < end_ && b[i] != '"' && b[i] != '\\') ++i;
        if (i >= end_) break;
        if (b[i] == '\\') {
          if (i + 1 >= end_) break;  // the escaped byte is in the next chunk
          i += 2;
          continue;
        }
        in_str = false;
        ++i;
        continue;
      }
      char ch = b[i];
      if (ch == '"') {
        in_str = true;
      } else if (ch == '{' || ch == '[') {
        ++depth;
      } else if (ch == '}' || ch == ']') {
        if (--depth == 0) {
          *end = i + 1;
          return true;
        }
      }
      ++i;
    }
    if (end_ - keep_ > limit) {
      too_large_ = true;
      return false;
    }
    if (!Fill()) return false;
    i -= last_shift_;
  }
}

Status DceReader::ReadHeader(DceHeader* out) {
  out->values.clear();
  auto fail = [&](const std::string& why) { return Status::InvalidInput(name_ + ": " + why); };
  if (!Fill()) {
    if (io_error_) return Status::IoError(name_ + ": cannot read the file");
    return fail("empty file (0 bytes), not a DCE export");
  }
  // UTF-8 byte order mark
  if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
  if (!SkipWs()) return fail("contains only whitespace, not a DCE export");
  char c = buf_[pos_];
  if (c == '<') {
    std::string head(buf_.data() + pos_, std::min<std::size_t>(end_ - pos_, 512));
    for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (head.find("html") != std::string::npos)
      return fail("is an HTML file (a DCE HTML export?), not JSON; export again with --format Json");
    return fail("is XML/markup, not JSON; not a DCE export");
  }
  if (c == '[') return fail("is a JSON array, not a DCE export (expected an object with guild, channel, messages)");
  if (c != '{') return fail("is not JSON: byte " + std::to_string(Abs(pos_)) + " is " + Printable(c));
  ++pos_;
  bool have_guild = false, have_channel = false, first = true;
  for (;;) {
    if (!SkipWs())
      return io_error_ ? Status::IoError(name_ + ": read error")
                       : fail("ends at byte " + std::to_string(bytes_read()) +
                              " before the \"messages\" array (truncated export, nothing to import)");
    c = buf_[pos_];
    if (c == '}') {
      return fail(have_guild && have_channel ? "has no \"messages\" array; not a DCE export"
                                             : "is JSON but not a DCE export (no \"guild\", \"channel\", \"messages\")");
    }
    if (c != '"')
      return fail((first ? "is JSON but not a DCE export: " : "is not valid JSON: ") + std::string("byte ") +
                  std::to_string(Abs(pos_)) + " is " + Printable(c) + ", expected a key");
    std::size_t kend;
    if (!ScanString(&kend))
      return fail("ends at byte " + std::to_string(bytes_read()) + " inside the header (truncated before any message)");
    std::string key = DecodeJsonStringToken(std::string_view(buf_.data() + keep_, kend - keep_));
    pos_ = kend;
    if (first && key != "guild" && key != "channel" && key != "dateRange" && key != "exportedAt" && key != "messages")
      return fail("is JSON but not a DCE export: its first key is \"" + key + "\" (expected \"guild\")");
    first = false;
    if (!SkipWs() || buf_[pos_] != ':')
      return fail("is not valid JSON near byte " + std::to_string(Abs(pos_)) + " (expected ':' after \"" + key + "\")");
    ++pos_;
    if (!SkipWs()) return fail("ends at byte " + std::to_string(bytes_read()) + " inside the header");
    if (key == "messages") {
      if (!have_guild || !have_channel)
        return fail("is JSON but not a DCE export: \"messages\" comes before \"guild\"/\"channel\"");
      if (buf_[pos_] != '[')
        return fail("\"messages\" at byte " + std::to_string(Abs(pos_)) + " is not an array; not a DCE export");
      out->messages_offset = Abs(pos_);
      ++pos_;
      good_offset_ = Abs(pos_);
      state_ = State::kMessages;
      return Status::Ok();
    }
    keep_ = pos_;
    std::size_t vend;
    if (!ScanValue(&vend, kMaxHeaderBytes)) {
      if (too_large_) return fail("header value \"" + key + "\" is larger than 64 MB; not a DCE export");
      return fail("ends at byte " + std::to_string(bytes_read()) + " inside the header value \"" + key + "\"");
    }
    out->values.emplace_back(key, std::string(buf_.data() + keep_, vend - keep_));
    if (key == "guild") have_guild = true;
    if (key == "channel") have_channel = true;
    pos_ = vend;
    if (!SkipWs()) return fail("ends at byte " + std::to_string(bytes_read()) + " inside the header");
    if (buf_[pos_] == ',') {
      ++pos_;
    } else if (buf_[pos_] != '}') {
      return fail("is not valid JSON: byte " + std::to_string(Abs(pos_)) + " is " + Printable(buf_[pos_]) +
                  ", expected ',' or '}'");
    }
  }
}

DceReader::Next DceReader::NextMessage(std::string_view* msg, std::uint64_t* offset) {
  if (state_ != State::kMessages) return Next::kEnd;
  auto at_eof = [&]() {
    error_offset_ = bytes_read();
    return io_error_ ? Next::kIoError : Next::kTruncated;
  };
  if (!SkipWs()) return at_eof();
  char c = buf_[pos_];
  if (c == ']') {
    state_ = State::kAfterArray;
    return Next::kEnd;
  }
  if (!first_element_) {
    if (c != ',') {
      error_offset_ = Abs(pos_);
      return Next::kCorrupt;
    }
    ++pos_;
    if (!SkipWs()) return at_eof();
    c = buf_[pos_];
  }
  if (c != '{') {
    error_offset_ = Abs(pos_);
    return Next::kCorrupt;
  }
  keep_ = pos_;
  guessed_ = false;
  std::size_t vend;
  if (indented_ && FindIndentedEnd(&vend)) {
    guessed_ = true;
    return Accept(vend, msg, offset);
  }
  return ScanMessage(msg, offset);
}

DceReader::Next DceReader::NextParsedMessage(simdjson::dom::parser& parser, std::string_view* msg,
                                             std::uint64_t* offset, simdjson::dom::element* doc,
                                             simdjson::error_code* err) {
  Next n = NextMessage(msg, offset);
  if (n != Next::kMessage) return n;
  *err = parser.parse(msg->data(), msg->size(), false).get(*doc);
  if (*err && guessed_) {
    n = Rescan(msg, offset);
    if (n != Next::kMessage) return n;
    *err = parser.parse(msg->data(), msg->size(), false).get(*doc);
  }
  return n;
}

DceReader::Next DceReader::Accept(std::size_t vend, std::string_view* msg, std::uint64_t* offset) {
  *msg = std::string_view(buf_.data() + keep_, vend - keep_);
  *offset = Abs(keep_);
  pos_ = vend;
  good_offset_ = Abs(vend);
  first_element_ = false;
  return Next::kMessage;
}

DceReader::Next DceReader::Rescan(std::string_view* msg, std::uint64_t* offset) {
  indented_ = false;
  guessed_ = false;
  pos_ = keep_;
  return ScanMessage(msg, offset);
}

DceReader::Next DceReader::ScanMessage(std::string_view* msg, std::uint64_t* offset) {
  std::size_t vend;
  if (!ScanValue(&vend, kMaxValueBytes)) {
    error_offset_ = Abs(keep_);
    if (too_large_) return Next::kTooLarge;
    return io_error_ ? Next::kIoError : Next::kTruncated;
  }
  return Accept(vend, msg, offset);
}

bool DceReader::FindIndentedEnd(std::size_t* end) {
  std::size_t line = keep_;
  while (line > 0 && buf_[line - 1] == ' ') --line;
  // Not at the start of a line (a minified file), or the line's start already compacted away: scan.
  if (line == 0 || buf_[line - 1] != '\n') return false;
  const std::size_t indent = keep_ - line;
  if (indent > 64) return false;
  // A file whose objects close elsewhere must not be searched to its end: past this, scan exactly.
  constexpr std::size_t kMaxGuess = 4u << 20;
  std::size_t i = pos_ + 1;
  for (;;) {
    const char* b = buf_.data();
    while (i < end_) {
      const void* hit = std::memchr(b + i, '}', end_ - i);
      if (!hit) {
        i = end_;
        break;
      }
      std::size_t j = static_cast<const char*>(hit) - b;
      i = j + 1;
      if (j < pos_ + indent + 2 || b[j - indent - 1] != '\n') continue;
      std::size_t k = j - indent;
      while (k < j && b[k] == ' ') ++k;
      if (k == j) {
        *end = j + 1;
        return true;
      }
    }
    if (end_ - keep_ > kMaxGuess) {
      indented_ = false;
      return false;
    }
    if (!Fill()) {  // the exact scan reports the truncation; a file not indented so is scanned from now on
      indented_ = false;
      return false;
    }
    i -= last_shift_;
  }
}

DceReader::Next DceReader::ReadTrailer(std::vector<std::pair<std::string, std::string>>* values) {
  if (state_ != State::kAfterArray) return Next::kEnd;
  ++pos_;  // ']'
  good_offset_ = Abs(pos_);
  for (;;) {
    if (!SkipWs()) {
      error_offset_ = bytes_read();
      return io_error_ ? Next::kIoError : Next::kTruncated;
    }
    char c = buf_[pos_];
    if (c == '}') {
      ++pos_;
      good_offset_ = Abs(pos_);
      state_ = State::kDone;
      if (SkipWs()) {
        error_offset_ = Abs(pos_);
        return Next::kCorrupt;
      }
      return io_error_ ? Next::kIoError : Next::kEnd;
    }
    if (c != ',') {
      error_offset_ = Abs(pos_);
      return Next::kCorrupt;
    }
    ++pos_;
    if (!SkipWs()) continue;
    if (buf_[pos_] != '"') {
      error_offset_ = Abs(pos_);
      return Next::kCorrupt;
    }
    keep_ = pos_;
    std::size_t kend;
    if (!ScanString(&kend)) continue;
    std::string key = DecodeJsonStringToken(std::string_view(buf_.data() + keep_, kend - keep_));
    pos_ = kend;
    if (!SkipWs()) continue;
    if (buf_[pos_] != ':') {
      error_offset_ = Abs(pos_);
      return Next::kCorrupt;
    }
    ++pos_;
    if (!SkipWs()) continue;
    keep_ = pos_;
    std::size_t vend;
    if (!ScanValue(&vend, kMaxHeaderBytes)) {
      if (too_large_) {
        error_offset_ = Abs(keep_);
        return Next::kCorrupt;
      }
      continue;
    }
    values->emplace_back(key, std::string(buf_.data() + keep_, vend - keep_));
    pos_ = vend;
    good_offset_ = Abs(pos_);
  }
}

}  // namespace ferry::dce
