// DceReader: splitting the messages array into one byte range per message, whatever the chunk boundaries,
// strings with braces and escapes, truncation and corruption offsets, and rejecting inputs that are not DCE.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <simdjson.h>

#include "importers/dce/reader.hpp"

namespace ferry::dce {
namespace {

ReadFn FromString(const std::string& s, std::size_t max_read = 1 << 20) {
  auto pos = std::make_shared<std::size_t>(0);
  return [s, pos, max_read](char* buf, std::size_t n) -> long {
    std::size_t k = std::min({n, max_read, s.size() - *pos});
    std::memcpy(buf, s.data() + *pos, k);
    *pos += k;
    return static_cast<long>(k);
  };
}

struct Split {
  Status header;
  std::vector<std::string> messages;
  std::vector<std::uint64_t> offsets;
  DceReader::Next end = DceReader::Next::kEnd;
  std::uint64_t good = 0, error = 0;
  int guessed = 0;  // messages whose end was found from their closing line (and parsed)
};

Split SplitDoc(const std::string& doc, std::size_t chunk = 1 << 20, std::size_t max_read = 1 << 20) {
  Split out;
  DceReader r(FromString(doc, max_read), "test.json", chunk);
  DceHeader h;
  out.header = r.ReadHeader(&h);
  if (!out.header.ok()) return out;
  std::string_view v;
  std::uint64_t off;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  simdjson::error_code err;
  for (;;) {
    auto n = r.NextParsedMessage(parser, &v, &off, &e, &err);
    if (n != DceReader::Next::kMessage) {
      out.end = n;
      break;
    }
    if (r.guessed()) ++out.guessed;
    out.messages.emplace_back(v);
    out.offsets.push_back(off);
  }
  out.good = r.good_offset();
  out.error = r.error_offset();
  return out;
}

const std::string kHead =
    "{\n  \"guild\": {\"id\": \"1\", \"name\": \"G {with} [brackets]\"},\n"
    "  \"channel\": {\"id\": \"2\", \"type\": \"GuildTextChat\", \"name\": \"c\\\"}\"},\n"
    "  \"dateRange\": {\"after\": null, \"before\": null},\n"
    "  \"exportedAt\": \"2024-06-02T08:15:30.1234567+00:00\",\n  \"messages\": [\n";

const std::vector<std::string> kMessages = {
    R"({"id": "10", "content": "plain"})",
    R"({"id": "11", "content": "braces } { ] [ inside a string"})",
    R"({"id": "12", "content": "escaped quote \" and } brace"})",
    R"({"id": "13", "content": "backslash at end \\", "x": {"nested": [1, {"a": "}"}]}})",
    R"({"id": "14", "content": "unicode \u00e9 \ud83d\ude00 ✓ \\\" }"})",
};

std::string Doc(const std::vector<std::string>& msgs, const std::string& tail = "\n  ],\n  \"messageCount\": 5\n}") {
  std::string d = kHead;
  for (std::size_t i = 0; i < msgs.size(); ++i) d += "    " + msgs[i] + (i + 1 < msgs.size() ? ",\n" : "");
  return d + tail;
}

TEST(DceReader, SplitsMessagesWithStringsHoldingBracesAndEscapes) {
  std::string doc = Doc(kMessages);
  auto s = SplitDoc(doc);
  ASSERT_TRUE(s.header.ok()) << s.header.message();
  ASSERT_EQ(s.messages, kMessages);
  EXPECT_EQ(s.end, DceReader::Next::kEnd);
  for (std::size_t i = 0; i < kMessages.size(); ++i) EXPECT_EQ(doc.substr(s.offsets[i], kMessages[i].size()), kMessages[i]);
}

TEST(DceReader, SameResultForEveryChunkSize) {
  std::string doc = Doc(kMessages);
  auto want = SplitDoc(doc);
  for (std::size_t chunk : {16, 17, 31, 64, 100, 257}) {
    for (std::size_t max_read : {1, 3, 7, 1 << 20}) {
      auto got = SplitDoc(doc, chunk, max_read);
      ASSERT_TRUE(got.header.ok()) << chunk << "/" << max_read;
      EXPECT_EQ(got.messages, want.messages) << "chunk " << chunk << " read " << max_read;
      EXPECT_EQ(got.offsets, want.offsets);
      EXPECT_EQ(got.end, DceReader::Next::kEnd);
    }
  }
}

// DCE writes indented JSON: each message's closing brace on a line of its own at the '{''s indentation.
const std::vector<std::string> kIndented = {
    "{\n      \"id\": \"20\",\n      \"content\": \"a \\\"}\\\" and an escaped newline \\n    }\",\n"
    "      \"author\": {\n        \"id\": \"1\",\n        \"roles\": [\n          {\n            \"id\": \"3\"\n"
    "          }\n        ]\n      }\n    }",
    "{\n      \"id\": \"21\",\n      \"reactions\": []\n    }",
    "{\r\n      \"id\": \"22\"\r\n    }",
};

std::string IndentedDoc(const std::vector<std::string>& msgs) {
  std::string d = kHead;
  for (std::size_t i = 0; i < msgs.size(); ++i) d += "    " + msgs[i] + (i + 1 < msgs.size() ? ",\n" : "");
  return d + "\n  ],\n  \"messageCount\": 3\n}\n";
}

TEST(DceReader, IndentedExportsAreSplitAtTheClosingLineWithoutAScan) {
  std::string doc = IndentedDoc(kIndented);
  for (std::size_t chunk : {16, 33, 1 << 20}) {
    auto s = SplitDoc(doc, chunk, chunk == 16 ? 5 : 1 << 20);
    ASSERT_TRUE(s.header.ok()) << s.header.message();
    EXPECT_EQ(s.messages, kIndented) << "chunk " << chunk;
    EXPECT_EQ(s.end, DceReader::Next::kEnd);
    if (chunk > 16) {
      EXPECT_EQ(s.guessed, 3);  // tiny chunks compact the line start away: then scanned
    }
  }
}

TEST(DceReader, AWrongGuessAtTheEndIsRescannedExactly) {
  // Message 30 closes on a line with another indentation and its inner object closes at the message's:
  // the first guess is a prefix of it and the second would run into the next message; neither parses.
  std::vector<std::string> msgs = {
      "{\n      \"id\": \"30\",\n      \"x\": {\n        \"y\": 1\n    },\n      \"z\": 2\n      }",
      "{\n      \"id\": \"31\"\n    }",
      "{\n      \"id\": \"32\"\n    }",
  };
  auto s = SplitDoc(IndentedDoc(msgs));
  ASSERT_TRUE(s.header.ok()) << s.header.message();
  EXPECT_EQ(s.messages, msgs);
  EXPECT_EQ(s.guessed, 0);  // the first message's guess was wrong: it and the rest of the file were scanned
  EXPECT_EQ(s.end, DceReader::Next::kEnd);
  // Truncated inside an indented message: the complete ones, and the same offsets as an exact scan.
  std::string doc = IndentedDoc(kIndented);
  std::string cut = doc.substr(0, doc.find("\"id\": \"22\""));
  auto t = SplitDoc(cut);
  EXPECT_EQ(t.end, DceReader::Next::kTruncated);
  ASSERT_EQ(t.messages.size(), 2u);
  EXPECT_EQ(t.error, cut.rfind('{'));
  EXPECT_EQ(t.good, doc.find(",\n    {\r\n"));
}

TEST(DceReader, HeaderValuesAreCaptured) {
  DceReader r(FromString(Doc(kMessages)), "x.json", 16);
  DceHeader h;
  ASSERT_TRUE(r.ReadHeader(&h).ok());
  ASSERT_NE(h.Find("guild"), nullptr);
  EXPECT_EQ(*h.Find("guild"), R"({"id": "1", "name": "G {with} [brackets]"})");
  EXPECT_EQ(*h.Find("channel"), R"({"id": "2", "type": "GuildTextChat", "name": "c\"}"})");
  EXPECT_EQ(DecodeJsonStringToken(*h.Find("exportedAt")), "2024-06-02T08:15:30.1234567+00:00");
  EXPECT_EQ(h.messages_offset, kHead.size() - 2);
}

TEST(DceReader, TrailerAfterTheArray) {
  DceReader r(FromString(Doc(kMessages)), "x.json", 32);
  DceHeader h;
  ASSERT_TRUE(r.ReadHeader(&h).ok());
  std::string_view v;
  std::uint64_t off;
  while (r.NextMessage(&v, &off) == DceReader::Next::kMessage) {
  }
  std::vector<std::pair<std::string, std::string>> trailer;
  EXPECT_EQ(r.ReadTrailer(&trailer), DceReader::Next::kEnd);
  ASSERT_EQ(trailer.size(), 1u);
  EXPECT_EQ(trailer[0].first, "messageCount");
  EXPECT_EQ(trailer[0].second, "5");
}

TEST(DceReader, TruncatedInsideAMessageKeepsTheCompleteOnes) {
  std::string doc = Doc(kMessages);
  // Cut in the middle of message 13's string (right after an escaped backslash).
  std::size_t start13 = doc.find(R"({"id": "13")");
  std::string cut = doc.substr(0, start13 + 40);
  for (std::size_t chunk : {16, 1 << 20}) {
    auto s = SplitDoc(cut, chunk);
    ASSERT_TRUE(s.header.ok());
    ASSERT_EQ(s.messages.size(), 3u);
    EXPECT_EQ(s.end, DceReader::Next::kTruncated);
    EXPECT_EQ(s.error, start13);                                   // where the incomplete message starts
    EXPECT_EQ(s.good, doc.find(kMessages[2]) + kMessages[2].size());  // just past the last complete one
  }
}

TEST(DceReader, TruncatedBetweenMessagesAndAfterTheArray) {
  std::string doc = Doc(kMessages);
  std::size_t after2 = doc.find(kMessages[1]) + kMessages[1].size() + 1;  // after the comma
  auto s = SplitDoc(doc.substr(0, after2));
  EXPECT_EQ(s.messages.size(), 2u);
  EXPECT_EQ(s.end, DceReader::Next::kTruncated);
  // DCE died after the last message: no "]}" — every message is there.
  auto t = SplitDoc(Doc(kMessages, "\n"));
  EXPECT_EQ(t.messages.size(), 5u);
  EXPECT_EQ(t.end, DceReader::Next::kTruncated);
}

TEST(DceReader, CorruptElementStopsWithItsOffset) {
  std::string doc = Doc({kMessages[0], "777777", kMessages[1]});
  auto s = SplitDoc(doc);
  EXPECT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.end, DceReader::Next::kCorrupt);
  EXPECT_EQ(s.error, doc.find("777777"));
  std::string junk = kHead + kMessages[0] + " x " + kMessages[1] + "]}";
  auto j = SplitDoc(junk);
  EXPECT_EQ(j.messages.size(), 1u);
  EXPECT_EQ(j.end, DceReader::Next::kCorrupt);
  EXPECT_EQ(j.error, junk.find(" x ") + 1);
}

TEST(DceReader, EmptyMessagesArray) {
  auto s = SplitDoc(kHead + "]\n}");
  ASSERT_TRUE(s.header.ok());
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(s.end, DceReader::Next::kEnd);
}

TEST(DceReader, RejectsWhatIsNotDce) {
  struct Case {
    std::string doc, why;
  } cases[] = {
      {"", "empty file"},
      {"   \n\t", "only whitespace"},
      {"<!DOCTYPE html><html><body>x</body></html>", "HTML"},
      {"\x89PNG\r\n", "not JSON"},
      {"[1, 2, 3]", "JSON array"},
      {R"({"name": "pkg", "version": "1"})", "first key is \"name\""},
      {R"({"guild": {"id": "1"}, "messages": []})", "before \"guild\"/\"channel\""},
      {R"({"guild": {"id": "1"}, "channel": {"id": "2"}})", "no \"messages\" array"},
      {R"({"guild": {"id": "1"}, "channel": {"id": "2"}, "messages": {}})", "not an array"},
      {R"({"guild": {"id": "1"}, "chan)", "inside the header"},
  };
  for (auto& c : cases) {
    DceReader r(FromString(c.doc), "in.json", 16);
    DceHeader h;
    Status st = r.ReadHeader(&h);
    EXPECT_FALSE(st.ok()) << c.doc;
    EXPECT_NE(st.message().find("in.json"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(c.why), std::string::npos) << "want '" << c.why << "' in: " << st.message();
  }
}

TEST(DceReader, ByteOrderMarkIsSkipped) {
  auto s = SplitDoc("\xEF\xBB\xBF" + Doc(kMessages));
  ASSERT_TRUE(s.header.ok()) << s.header.message();
  EXPECT_EQ(s.messages.size(), 5u);
}

TEST(DceReader, ViewsArePaddedForSimdjson) {
  // Every view must be followed by 64 readable bytes: parse it in place, as the importer does.
  DceReader r(FromString(Doc(kMessages)), "x.json", 16);
  DceHeader h;
  ASSERT_TRUE(r.ReadHeader(&h).ok());
  std::string_view v;
  std::uint64_t off;
  while (r.NextMessage(&v, &off) == DceReader::Next::kMessage) {
    volatile char sink = 0;
    for (int i = 0; i < 64; ++i) sink ^= v.data()[v.size() + i];
    (void)sink;
  }
}

TEST(DceReader, DecodeJsonStringToken) {
  EXPECT_EQ(DecodeJsonStringToken(R"("a\"b\\c\/d\n")"), "a\"b\\c/d\n");
  EXPECT_EQ(DecodeJsonStringToken(R"("\u00e9\ud83d\ude00")"), "é😀");
}

}  // namespace
}  // namespace ferry::dce
