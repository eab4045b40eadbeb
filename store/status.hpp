// Status: the result of an operation that can fail, passed across module boundaries instead of exceptions
// (LevelDB style). A Status is cheap to copy when ok; an error carries a code and a human-readable message
// that already names the input and the place (file, offset, JSON pointer) where that is known.
#pragma once

#include <string>
#include <utility>

namespace ferry {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,         // the thing asked for does not exist (unknown id, missing file)
    kInvalidInput,     // the input is malformed or is not what it claims to be
    kIoError,          // reading or writing a file failed
    kStoreError,       // SQLite reported an error
    kVersionMismatch,  // the store was written by a newer ferry
    kConflict,         // a uniqueness or state rule was violated
    kPermissionDenied, // the caller may not do this
    kInterrupted,      // stopped on request (signal); the store is consistent
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status InvalidInput(std::string m) { return Status(Code::kInvalidInput, std::move(m)); }
  static Status IoError(std::string m) { return Status(Code::kIoError, std::move(m)); }
  static Status StoreError(std::string m) { return Status(Code::kStoreError, std::move(m)); }
  static Status VersionMismatch(std::string m) { return Status(Code::kVersionMismatch, std::move(m)); }
  static Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
  static Status PermissionDenied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }
  static Status Interrupted(std::string m) { return Status(Code::kInterrupted, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

inline std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

// Propagate a non-ok Status to the caller.
#define FERRY_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::ferry::Status _st = (expr);            \
    if (!_st.ok()) return _st;               \
  } while (0)

}  // namespace ferry
