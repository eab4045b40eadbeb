#include "store/unsynced_import.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ferry {
namespace {

std::string BootId() {
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(f, id);
  return id;
}

std::string Folder(const std::string& path) {
  auto p = std::filesystem::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

// Field 3 (state) and field 22 (start time in clock ticks) of /proc/PID/stat; false if there is no such process.
// The start time tells a reused pid from the importer's own.
bool ProcessInfo(long pid, char* state, std::string* start_time) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  if (!(rest >> *state)) return false;
  std::string field;
  for (int i = 4; i <= 22; ++i)
    if (!(rest >> field)) return false;
  *start_time = field;
  return true;
}

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + path + " to sync it: " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError("cannot sync " + path + ": " + std::strerror(err));
  return Status::Ok();
}

}  // namespace

Status UnsyncedImport::Create(const std::string& store_path) {
  const std::string marker = MarkerPath(store_path);
  char state = 0;
  std::string started;
  ProcessInfo(::getpid(), &state, &started);
  const std::string body = std::to_string(::getpid()) + " " + BootId() + " " + (started.empty() ? "-" : started) +
                           "\nferry is importing into a new store without syncing it; if this file outlives the import,"
                           " the next open checks the store.\n";
  int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot create " + marker + ": " + std::strerror(errno));
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return Status::IoError("cannot write " + marker + ": " + std::strerror(err));
  return SyncPath(Folder(store_path), O_RDONLY | O_DIRECTORY);
}

UnsyncedImport::State UnsyncedImport::Check(const std::string& store_path) {
  std::ifstream f(MarkerPath(store_path));
  if (!f) return State::kNone;
  long pid = 0;
  std::string boot, started;
  f >> pid >> boot >> started;
  if (pid <= 0 || boot != BootId()) return State::kAbandoned;  // the system restarted since
  char state = 0;
  std::string now_started;
  if (!ProcessInfo(pid, &state, &now_started)) return State::kAbandoned;  // no such process
  if (state == 'Z' || state == 'X') return State::kAbandoned;               // died, not yet reaped
  if (!started.empty() && started != "-" && started != now_started) return State::kAbandoned;  // pid reused
  return State::kRunning;  // this process included: another Store object of it is importing
}

Status UnsyncedImport::Complete(const std::string& store_path) {
  FERRY_RETURN_IF_ERROR(SyncPath(store_path, O_RDONLY));
  std::error_code ec;
  std::filesystem::remove(MarkerPath(store_path), ec);
  if (ec) return Status::IoError("cannot remove " + MarkerPath(store_path) + ": " + ec.message());
  return SyncPath(Folder(store_path), O_RDONLY | O_DIRECTORY);
}

}  // namespace ferry
