#include "store/unsynced_import.hpp"

#include <fcntl.h>
#include <signal.h>
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
  const std::string body = std::to_string(::getpid()) + " " + BootId() +
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
  std::string boot;
  f >> pid >> boot;
  if (pid > 0 && boot == BootId() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM))
    return State::kRunning;  // this process included: another Store object of it is importing
  return State::kAbandoned;
}

Status UnsyncedImport::Complete(const std::string& store_path) {
  FERRY_RETURN_IF_ERROR(SyncPath(store_path, O_RDONLY));
  std::error_code ec;
  std::filesystem::remove(MarkerPath(store_path), ec);
  if (ec) return Status::IoError("cannot remove " + MarkerPath(store_path) + ": " + ec.message());
  return SyncPath(Folder(store_path), O_RDONLY | O_DIRECTORY);
}

}  // namespace ferry
