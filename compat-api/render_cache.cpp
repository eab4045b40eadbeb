#include "compat-api/render_cache.hpp"

namespace ferry::compat {

// Bookkeeping per fragment beyond its text: list node, index slot, key.
constexpr std::size_t kEntryOverhead = 96;

void RenderCache::Sync(Store& store) {
  std::uint64_t now = store.ChangeCounter();
  if (synced_once_ && now == counter_) return;
  synced_once_ = true;
  counter_ = now;
  Clear();
}

void RenderCache::Clear() {
  if (!index_.empty() || lookups_) ++flushes_;
  lru_.clear();
  index_.clear();
  bytes_ = 0;
  users_.clear();
  members_.clear();
  channels_.clear();
  permissions_.clear();
  lookups_ = 0;
}

const std::string* RenderCache::FindMessage(Snowflake message_id, Snowflake viewer_id) {
  if (!active()) return nullptr;
  auto it = index_.find({message_id, viewer_id});
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->json;
}

void RenderCache::PutMessage(Snowflake message_id, Snowflake viewer_id, std::string json) {
  if (!active()) return;
  std::size_t size = json.size() + kEntryOverhead;
  if (size > max_bytes_ / 8) return;  // one huge message must not evict a whole page's worth
  Key key{message_id, viewer_id};
  auto it = index_.find(key);
  if (it != index_.end()) {
    bytes_ -= it->second->json.size() + kEntryOverhead;
    lru_.erase(it->second);
    index_.erase(it);
  }
  while (!lru_.empty() && bytes_ + size > max_bytes_) {
    auto& last = lru_.back();
    bytes_ -= last.json.size() + kEntryOverhead;
    index_.erase(last.key);
    lru_.pop_back();
  }
  lru_.push_front(Entry{key, std::move(json)});
  index_[key] = lru_.begin();
  bytes_ += size;
}

void RenderCache::MakeRoomForLookup() {
  // Lookups are cheap to redo: forgetting them all at once keeps this simple and bounded.
  if (++lookups_ <= max_lookups_) return;
  users_.clear();
  members_.clear();
  channels_.clear();
  permissions_.clear();
  lookups_ = 1;
}

const std::optional<User>* RenderCache::FindUser(Snowflake id) const {
  if (!active()) return nullptr;
  auto it = users_.find(id);
  return it == users_.end() ? nullptr : &it->second;
}

void RenderCache::PutUser(Snowflake id, std::optional<User> u) {
  if (!active()) return;
  MakeRoomForLookup();
  users_[id] = std::move(u);
}

const std::optional<Member>* RenderCache::FindMember(Snowflake guild_id, Snowflake user_id) const {
  if (!active()) return nullptr;
  auto it = members_.find({guild_id, user_id});
  return it == members_.end() ? nullptr : &it->second;
}

void RenderCache::PutMember(Snowflake guild_id, Snowflake user_id, std::optional<Member> m) {
  if (!active()) return;
  MakeRoomForLookup();
  members_[{guild_id, user_id}] = std::move(m);
}

const std::optional<Channel>* RenderCache::FindChannel(Snowflake id) const {
  if (!active()) return nullptr;
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : &it->second;
}

void RenderCache::PutChannel(Snowflake id, std::optional<Channel> c) {
  if (!active()) return;
  MakeRoomForLookup();
  channels_[id] = std::move(c);
}

const std::uint64_t* RenderCache::FindPermissions(Snowflake user_id, Snowflake channel_id) const {
  if (!active()) return nullptr;
  auto it = permissions_.find({user_id, channel_id});
  return it == permissions_.end() ? nullptr : &it->second;
}

void RenderCache::PutPermissions(Snowflake user_id, Snowflake channel_id, std::uint64_t p) {
  if (!active()) return;
  MakeRoomForLookup();
  permissions_[{user_id, channel_id}] = p;
}

}  // namespace ferry::compat
