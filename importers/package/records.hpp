// Streaming readers for a channel's messages file, in both forms Discord has shipped:
//   messages.csv  (eras A–B)  header ID,Timestamp,Contents,Attachments; RFC 4180 quoting, "" escapes,
//                             CRLF or LF row ends, newlines inside quoted fields kept exactly
//   messages.json (eras C–E)  a JSON array written one object per line, bare-number IDs above 2^53
// Both call `fn` once per message in file order, with memory bounded by the largest single record.
// The JSON reader is lenient in the ways damaged files have been seen to be (raw control characters inside
// strings, missing or trailing commas) and counts each repair in `Leniency` so the run can report it.
// Errors name the entry and the line where the bad record starts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "importers/package/source.hpp"
#include "store/status.hpp"

namespace ferry::package {

struct MessageRecord {
  std::uint64_t id = 0;
  std::string timestamp;    // as written
  std::string contents;     // exactly as written
  std::string attachments;  // space-separated URLs, "" if none
  std::int64_t line = 0;    // 1-based line where the record starts
};

struct Leniency {
  std::int64_t raw_control_chars = 0;  // unescaped newlines/tabs inside JSON strings
  std::int64_t missing_commas = 0;     // objects concatenated without a comma
  std::int64_t trailing_commas = 0;
  std::int64_t string_ids = 0;         // "ID": "123" instead of a bare number
};

using RecordFn = std::function<Status(const MessageRecord&)>;

// Largest single record either reader accepts (a message is at most a few KB; this is about garbage).
constexpr std::size_t kMaxRecordBytes = 16u << 20;

Status ReadCsvMessages(EntryStream& in, const RecordFn& fn);
Status ReadJsonMessages(EntryStream& in, const RecordFn& fn, Leniency* lenient);

// Parses one JSON object (already repaired) into a record; exposed for tests.
Status ParseJsonMessage(const std::string& object_text, const std::string& where, MessageRecord* out,
                        Leniency* lenient);

}  // namespace ferry::package
