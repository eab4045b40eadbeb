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
// Memory: postings are buffered up to a fixed budget, sorted by (shard, token) and spilled as sorted run files;
// Finish() k-way merges the runs (in several passes when there are many) and streams each shard file out. A
// frequent word's posting list is never held in memory, so memory stays flat however large the archive is.
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
  // `run_bytes` is the postings buffer budget (tests pass a tiny one to exercise multi-pass merging).
  Status Open(const std::string& dir, std::int64_t expected_docs, size_t run_bytes = kDefaultRunBytes);
  Status AddDoc(int channel_index, std::uint64_t message_id, int page, std::string_view author, std::int64_t ts_ms,
                std::string_view text);
  Status Finish(const std::vector<SearchChannel>& channels);
  std::int64_t docs() const { return docs_; }
  size_t runs_written() const { return runs_written_; }

  static constexpr size_t kDefaultRunBytes = 8 << 20;

 private:
  Status SpillRun();
  Status CloseDocFile();
  std::string RunPath(size_t n) const;
  std::string dir_, tmp_;
  std::uint32_t shards_ = 16;
  size_t run_bytes_ = kDefaultRunBytes;
  // Buffered postings as run records (see search_index.cpp), and the offset of each record in `pending_`.
  std::string pending_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::string> runs_;  // run files in doc order, each sorted by (shard, token, doc)
  size_t runs_written_ = 0;
  std::int64_t docs_ = 0;
  std::FILE* doc_file_ = nullptr;
  bool first_in_file_ = true;
};

constexpr int kSearchDocsPerFile = 500;

}  // namespace ferry::html
