// The archive's search index writer: postings spilled as many small sorted runs and merged in several passes
// give the same files as one in-memory run, and the posting lists name exactly the docs holding each word.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "exporters/html/search_index.hpp"

namespace ferry::html {
namespace {
namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> Tree(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = Read(e.path());
  return files;
}

// The doc numbers of `token` in its shard file, decoded from the delta/base-36 list the page script reads.
std::vector<std::uint64_t> Postings(const fs::path& dir, std::uint32_t shards, const std::string& token) {
  std::string shard = Read(dir / ("t" + std::to_string(SearchHash(token) & (shards - 1)) + ".js"));
  std::string key = "\"" + token + "\":\"";
  size_t at = shard.find(key);
  if (at == std::string::npos) return {};
  size_t end = shard.find('"', at + key.size());
  std::string list = shard.substr(at + key.size(), end - at - key.size());
  std::vector<std::uint64_t> docs;
  std::uint64_t prev = 0;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) docs.push_back(prev += std::stoull(part, nullptr, 36));
  return docs;
}

class SearchIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ferry-search-index-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Message i: a word every doc has, one every 3rd and 7th doc has, and a word of its own.
  static std::string Text(int i) {
    std::string t = "ferry common";
    if (i % 3 == 0) t += " third";
    if (i % 7 == 0) t += " seventh Ünïcödé";
    return t + " only" + std::to_string(i);
  }

  // Writes `n` docs with the given postings budget; returns how many run files were written.
  size_t Build(const fs::path& out, int n, size_t run_bytes) {
    SearchIndexWriter w;
    EXPECT_TRUE(w.Open(out.string(), n, run_bytes).ok());
    for (int i = 0; i < n; ++i)
      EXPECT_TRUE(w.AddDoc(i % 4, 1000 + i, 1 + i / 200, "author", 1700000000000LL + i, Text(i)).ok());
    EXPECT_TRUE(w.Finish({{"#a", "G", "channel-1-p"}, {"#b", "G", "channel-2-p"}, {"#c", "G", "channel-3-p"},
                          {"#d", "G", "channel-4-p"}})
                    .ok());
    EXPECT_FALSE(fs::exists(out / ".tmp"));
    return w.runs_written();
  }

  fs::path dir_;
};

TEST_F(SearchIndexTest, ManySmallRunsGiveTheSameFilesAsOne) {
  const int n = 5000;
  size_t one = Build(dir_ / "one", n, SearchIndexWriter::kDefaultRunBytes);
  size_t many = Build(dir_ / "many", n, 1024);
  EXPECT_EQ(one, 1u);
  EXPECT_GT(many, 64u * 2);  // more runs than one merge pass takes: the multi-pass merge ran
  auto a = Tree(dir_ / "one"), b = Tree(dir_ / "many");
  EXPECT_EQ(a.size(), b.size());
  for (const auto& [name, data] : a) EXPECT_TRUE(b.count(name) && b[name] == data) << name;
}

TEST_F(SearchIndexTest, PostingListsNameExactlyTheDocsWithTheWord) {
  const int n = 3000;
  Build(dir_, n, 700);
  std::string meta = Read(dir_ / "meta.js");
  size_t at = meta.find("\"shards\":");
  ASSERT_NE(at, std::string::npos);
  auto shards = static_cast<std::uint32_t>(std::stoul(meta.substr(at + 9)));
  std::vector<std::uint64_t> every, third, seventh;
  for (int i = 0; i < n; ++i) {
    every.push_back(i);
    if (i % 3 == 0) third.push_back(i);
    if (i % 7 == 0) seventh.push_back(i);
  }
  EXPECT_EQ(Postings(dir_, shards, "common"), every);
  EXPECT_EQ(Postings(dir_, shards, "third"), third);
  EXPECT_EQ(Postings(dir_, shards, "seventh"), seventh);
  EXPECT_EQ(Postings(dir_, shards, "ünïcödé"), seventh);  // folded as the page script folds it
  EXPECT_EQ(Postings(dir_, shards, "only1234"), std::vector<std::uint64_t>{1234});
  EXPECT_TRUE(Postings(dir_, shards, "absent").empty());
  // Every shard file exists, also those no word fell into.
  for (std::uint32_t s = 0; s < shards; ++s) EXPECT_TRUE(fs::exists(dir_ / ("t" + std::to_string(s) + ".js"))) << s;
}

}  // namespace
}  // namespace ferry::html
