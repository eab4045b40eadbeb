#include "store/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "store/timestamp.hpp"

namespace ferry {

TerminalProgress::TerminalProgress(bool unit_is_bytes, const char* item_name)
    : bytes_(unit_is_bytes), item_name_(item_name), start_ms_(NowMs()) {}

void TerminalProgress::Update(const std::string& label, std::int64_t done, std::int64_t total, std::int64_t items) {
  label_ = label;
  done_ = done;
  total_ = total;
  items_ = items;
  Draw(false);
}

void TerminalProgress::Note(const std::string& line) {
  std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
  if (drawn_) Draw(true);
}

void TerminalProgress::Finish() {
  if (drawn_) {
    Draw(true);
    std::fprintf(stderr, "\n");
  }
  drawn_ = false;
}

void TerminalProgress::Draw(bool force) {
  std::int64_t now = NowMs();
  if (!force && now - last_draw_ms_ < 100) return;
  last_draw_ms_ = now;
  drawn_ = true;
  double secs = std::max<double>(0.001, (now - start_ms_) / 1000.0);
  char bar[32] = {0};
  int pct = total_ > 0 ? static_cast<int>(100.0 * done_ / total_) : 0;
  if (pct > 100) pct = 100;
  int filled = pct / 5;
  for (int i = 0; i < 20; ++i) bar[i] = i < filled ? '#' : '.';
  char rate[64];
  if (bytes_)
    std::snprintf(rate, sizeof rate, "%.1f MB/s", done_ / secs / 1e6);
  else
    std::snprintf(rate, sizeof rate, "%.0f/s", done_ / secs);
  char eta[32] = "";
  if (total_ > 0 && done_ > 0 && done_ < total_) {
    double left = (total_ - done_) / (done_ / secs);
    std::snprintf(eta, sizeof eta, "ETA %d:%02d", static_cast<int>(left) / 60, static_cast<int>(left) % 60);
  }
  std::string label = label_.size() > 40 ? "…" + label_.substr(label_.size() - 39) : label_;
  std::fprintf(stderr, "\r\033[K%-40s [%s] %3d%%  %s  %.0f %s/s  %lld %s  %s", label.c_str(), bar, pct, rate,
               items_ / secs, item_name_.c_str(), static_cast<long long>(items_), item_name_.c_str(), eta);
  std::fflush(stderr);
}

std::unique_ptr<Progress> MakeProgress(bool quiet, bool unit_is_bytes, const char* item_name) {
  if (quiet || !isatty(STDERR_FILENO)) return std::make_unique<NullProgress>();
  return std::make_unique<TerminalProgress>(unit_is_bytes, item_name);
}

}  // namespace ferry
