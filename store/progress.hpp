// Progress reporting for long jobs (imports, exports). Library code reports through a Progress; the CLI
// picks TerminalProgress (a bar on stderr when it is a terminal) or NullProgress (--json, pipes, tests).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace ferry {

class Progress {
 public:
  virtual ~Progress() = default;
  // `done`/`total` in `unit`s (bytes, messages, events); total 0 = unknown. `items` counts messages (or
  // the job's natural item) for the rate display. Cheap to call often: implementations throttle output.
  virtual void Update(const std::string& label, std::int64_t done, std::int64_t total, std::int64_t items) = 0;
  // A line of text above the bar (warnings), kept visible.
  virtual void Note(const std::string& line) = 0;
  virtual void Finish() = 0;
};

class NullProgress : public Progress {
 public:
  void Update(const std::string&, std::int64_t, std::int64_t, std::int64_t) override {}
  void Note(const std::string&) override {}
  void Finish() override {}
};

// Draws "label  [#####.....]  45%  12.3 MB/s  180k msg/s  ETA 0:42" on stderr, at most 10 times a second.
// `unit_is_bytes` selects MB/s vs items/s for `done`.
class TerminalProgress : public Progress {
 public:
  explicit TerminalProgress(bool unit_is_bytes = true, const char* item_name = "msg");
  void Update(const std::string& label, std::int64_t done, std::int64_t total, std::int64_t items) override;
  void Note(const std::string& line) override;
  void Finish() override;

 private:
  void Draw(bool force);
  bool bytes_;
  std::string item_name_;
  std::string label_;
  std::int64_t done_ = 0, total_ = 0, items_ = 0;
  std::int64_t start_ms_, last_draw_ms_ = 0;
  bool drawn_ = false;
};

// TerminalProgress when stderr is a terminal and `quiet` is false, NullProgress otherwise.
std::unique_ptr<Progress> MakeProgress(bool quiet, bool unit_is_bytes = true, const char* item_name = "msg");

}  // namespace ferry
