// The archive's offline search index: an inverted index shipped as JavaScript files, because pages opened
// from file:// cannot fetch() JSON but can load <script> files.
//
// Layout under <archive>/search/:
//   meta.js      FerrySearch.meta({...})       shard count, docs per file, the channel table
//   t<H>.js      FerrySearch.shard(H, {...})   token -> doc numbers (delta-encoded, base 36), for tokens whose
//                                              FNV-1a hash mod shard count is H; loaded only when queried
//   d<K>.js      FerrySearch.docs(K, [...])    [channel index, message id, page, author, time ms, snippet]
//                                              for docs K*docs_per_file ...
// Tokenisation (mirrored exactly by archive.js): split on ASCII non-alphanumerics and on Unicode
// punctuation/symbol/emoji ranges, fold case for ASCII, Latin-1, Greek and Cyrillic, cut to 32 bytes, drop
// one-byte tokens.
//
// Memory: postings are spilled to per-shard temporary files while messages stream by; Finish() sorts one
// shard at a time. The shard count grows with the expected number of messages, so a shard stays small and
// memory stays flat however large the archive is.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "store/status.hpp"

namespace ferry::html {

// Tokens of `text` (deduplicated, sorted) as the index and the page script both see them.
std::vector<std::string> SearchTokens(std::string_view text);
std::uint32_t SearchHash(std::string_view token);

struct SearchChannel {
  std::string name;        // "#general" or thread name
  std::string guild;       // guild name
  std::string page_prefix; // "channel-<id>-p"
};

class SearchIndexWriter {
 public:
  ~SearchIndexWriter();
  Status Open(const std::string& dir, std::int64_t expected_docs);
  Status AddDoc(int channel_index, std::uint64_t message_id, int page, std::string_view author, std::int64_t ts_ms,
                std::string_view text);
  Status Finish(const std::vector<SearchChannel>& channels);
  std::int64_t docs() const { return docs_; }

 private:
  Status Spill(std::uint32_t shard);
  Status CloseDocFile();
  std::string dir_, tmp_;
  std::uint32_t shards_ = 16;
  std::vector<std::string> buffers_;
  std::int64_t docs_ = 0;
  std::FILE* doc_file_ = nullptr;
  bool first_in_file_ = true;
};

constexpr int kSearchDocsPerFile = 500;

}  // namespace ferry::html
