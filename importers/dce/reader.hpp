// Streaming reader of one DiscordChatExporter JSON document.
//
// DCE writes `{"guild":…, "channel":…, "dateRange":…, "exportedAt":…, "messages":[…], "messageCount":N}` in
// that key order, flushing as it goes; an interrupted export simply stops (no closing `]}`). The reader
// therefore never holds the document: it captures the small header values before `messages`, then hands out
// each message object as one byte range (string- and escape-aware bracket counting) that the caller parses
// with simdjson. Memory is bounded by the largest single message (capped by kMaxValueBytes), not the file.
//
// Contract:
//  - ReadHeader() decides whether the input is a DCE export before anything is written: it fails with
//    kInvalidInput ("empty file", "HTML, not JSON", "not JSON", "JSON but not a DCE export: …") when not.
//  - Next() returns the messages in file order. A view stays valid until the next call and is followed by at
//    least simdjson::SIMDJSON_PADDING readable bytes (so it can be parsed without copying).
//  - End of input in the middle of the array is reported as kTruncated with the byte offset where the last
//    complete message ended; a non-object element or junk between elements is kCorrupt at its offset. Both
//    leave every earlier message intact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "store/status.hpp"

namespace ferry::dce {

// Reads up to `n` bytes into `buf`; returns 0 at end of input, -1 on a read error.
using ReadFn = std::function<long(char* buf, std::size_t n)>;

struct DceHeader {
  // Raw JSON text of each top-level value before "messages", by key, in file order.
  std::vector<std::pair<std::string, std::string>> values;
  std::uint64_t messages_offset = 0;  // offset of the '[' of the messages array
  const std::string* Find(std::string_view key) const;
};

class DceReader {
 public:
  static constexpr std::size_t kMaxValueBytes = 256u << 20;   // one message / header value
  static constexpr std::size_t kMaxHeaderBytes = 64u << 20;   // everything before "messages"

  enum class Next { kMessage, kEnd, kTruncated, kCorrupt, kTooLarge, kIoError };

  DceReader(ReadFn read, std::string name, std::size_t chunk = 1u << 20);

  Status ReadHeader(DceHeader* out);
  // On kMessage: *msg is the object's bytes and *offset its start offset in the input.
  // In an indented file (every DCE export) the end is found as the first line after the '{' that holds only
  // the '{''s indentation and '}': a raw newline cannot be inside a JSON string, so that '}' is structural,
  // and the object's bytes need not be scanned here, before the JSON parser scans them again. Such a view
  // is a guess (guessed() is true): when it does not parse (a proper prefix or a run-on of the real object
  // never does), Rescan() gives the exact one, and the rest of the file is scanned exactly.
  Next NextMessage(std::string_view* msg, std::uint64_t* offset);
  bool guessed() const { return guessed_; }
  // After a guessed kMessage: the message's exact bytes, or the failure NextMessage would have returned.
  Next Rescan(std::string_view* msg, std::uint64_t* offset);
  // NextMessage, then the message parsed into *doc with `parser` (*err = the parse's result), a wrong
  // guess already rescanned: what every reader of messages calls.
  Next NextParsedMessage(simdjson::dom::parser& parser, std::string_view* msg, std::uint64_t* offset,
                         simdjson::dom::element* doc, simdjson::error_code* err);
  // After kEnd: the top-level values after the array (messageCount, …). kTruncated if the document is not
  // closed (DCE died after the last message), kCorrupt for junk after the closing brace.
  Next ReadTrailer(std::vector<std::pair<std::string, std::string>>* values);

  // Offset just past the last complete element (where a truncated or corrupt file stopped making sense).
  std::uint64_t good_offset() const { return good_offset_; }
  // Offset of the problem (start of the incomplete/bad element).
  std::uint64_t error_offset() const { return error_offset_; }
  // Bytes consumed from the input so far (for progress).
  std::uint64_t bytes_read() const { return file_base_ + end_; }
  const std::string& name() const { return name_; }

 private:
  bool Fill();  // reads more input, compacting away bytes before keep_; false at EOF/error
  bool SkipWs();  // advances pos_ past whitespace, filling as needed; false at EOF
  // Scans the JSON value starting at pos_; on success sets *end (index past it). false at EOF.
  bool ScanValue(std::size_t* end, std::size_t limit);
  bool ScanString(std::size_t* end);  // pos_ at '"'
  bool FindIndentedEnd(std::size_t* end);  // pos_ (== keep_) at '{': see NextMessage
  Next ScanMessage(std::string_view* msg, std::uint64_t* offset);  // exact scan from keep_
  Next Accept(std::size_t vend, std::string_view* msg, std::uint64_t* offset);  // the message is [keep_, vend)
  std::uint64_t Abs(std::size_t i) const { return file_base_ + i; }

  ReadFn read_;
  std::string name_;
  std::size_t chunk_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0, keep_ = 0;
  std::uint64_t file_base_ = 0;
  std::size_t last_shift_ = 0;  // how far the last Fill() moved the buffer down
  bool eof_ = false, io_error_ = false, too_large_ = false;
  enum class State { kStart, kMessages, kAfterArray, kDone } state_ = State::kStart;
  bool first_element_ = true;
  bool indented_ = true, guessed_ = false;
  std::uint64_t good_offset_ = 0, error_offset_ = 0;
};

// Decodes a JSON string token (with quotes) to UTF-8; used for object keys.
std::string DecodeJsonStringToken(std::string_view token);

}  // namespace ferry::dce
