// RenderCache: what serving a page of messages would otherwise look up and render again on every request —
// the serialised JSON of each message (per viewing bot: reactions[].me differs), the users and members its
// author/mentions resolve to, and the channels and permissions the handler checks.
//
// Validity: everything in it reflects the store as of the last Sync(). Sync() asks Store::ChangeCounter(),
// which moves on every write this process makes and on every commit by another process (`ferry import` into
// the store being served), and drops everything when it moved. So a GET right after a PATCH, DELETE or
// reaction renders from the store again.
//
// Use only inside a RenderCache::Scope: the scope Syncs when it opens, and lookups through the cache are
// enabled only while a scope is open. A handler must not write to the store while its scope is open (writes
// would not be seen until the next Sync); write handlers render without a scope, straight from the store.
//
// Memory is bounded: message fragments by total bytes (least recently used go first), lookups by count.
// Server thread only (ServerContext's threading contract).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/model.hpp"
#include "store/store.hpp"

namespace ferry::compat {

class RenderCache {
 public:
  explicit RenderCache(std::size_t max_message_bytes = 4 * 1024 * 1024, std::size_t max_lookups = 20000)
      : max_bytes_(max_message_bytes), max_lookups_(max_lookups) {}

  class Scope {
   public:
    // `cache` may be null (no caching configured): the scope then does nothing.
    Scope(RenderCache* cache, Store& store) : cache_(cache) {
      if (cache_ && cache_->depth_++ == 0) cache_->Sync(store);
    }
    ~Scope() {
      if (cache_) --cache_->depth_;
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    RenderCache* cache_;
  };

  bool active() const { return depth_ > 0; }

  // ---- message fragments (serialised JSON) ----
  const std::string* FindMessage(Snowflake message_id, Snowflake viewer_id);
  void PutMessage(Snowflake message_id, Snowflake viewer_id, std::string json);

  // ---- lookups; std::nullopt inside the optional = "the store has none" (also worth remembering) ----
  const std::optional<User>* FindUser(Snowflake id) const;
  void PutUser(Snowflake id, std::optional<User> u);
  const std::optional<Member>* FindMember(Snowflake guild_id, Snowflake user_id) const;
  void PutMember(Snowflake guild_id, Snowflake user_id, std::optional<Member> m);
  const std::optional<Channel>* FindChannel(Snowflake id) const;
  void PutChannel(Snowflake id, std::optional<Channel> c);
  const std::uint64_t* FindPermissions(Snowflake user_id, Snowflake channel_id) const;
  void PutPermissions(Snowflake user_id, Snowflake channel_id, std::uint64_t p);

  // Figures for tests and logs.
  std::size_t message_bytes() const { return bytes_; }
  std::size_t message_count() const { return index_.size(); }
  std::uint64_t flushes() const { return flushes_; }

  void Clear();

 private:
  struct PairHash {
    std::size_t operator()(const std::pair<Snowflake, Snowflake>& p) const {
      return std::hash<Snowflake>()(p.first * 0x9E3779B97F4A7C15ull ^ p.second);
    }
  };
  using Key = std::pair<Snowflake, Snowflake>;
  struct Entry {
    Key key;
    std::string json;
  };

  void Sync(Store& store);
  void MakeRoomForLookup();

  std::size_t max_bytes_, max_lookups_;
  int depth_ = 0;
  bool synced_once_ = false;
  std::uint64_t counter_ = 0;
  std::uint64_t flushes_ = 0;

  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<Key, std::list<Entry>::iterator, PairHash> index_;
  std::size_t bytes_ = 0;

  std::size_t lookups_ = 0;
  std::unordered_map<Snowflake, std::optional<User>> users_;
  std::unordered_map<Key, std::optional<Member>, PairHash> members_;
  std::unordered_map<Snowflake, std::optional<Channel>> channels_;
  std::unordered_map<Key, std::uint64_t, PairHash> permissions_;
};

}  // namespace ferry::compat
