// UnsyncedImport: the marker that lets a first import fill a brand-new store without syncing it.
//
// Why: a bulk import into WAL writes every page twice (into the log, then back into the database) and the
// second copy is a checkpoint thread's CPU on a 2-core machine (2M messages: ~4 CPU-s of kernel copies).
// When the store file did not exist before the import, there is nothing in it to protect, so the import
// writes it in rollback-journal mode with synchronous=OFF instead: pages that did not exist when a
// transaction began are never journaled, so an append-mostly import writes each page about once.
//
// What stays true:
//  - kill -9 at any moment: the rollback journal (written before any page it protects, in the OS page cache,
//    which a dead process cannot lose) restores the last commit when the store is next opened, exactly as
//    WAL would. Resuming works as after any interrupted import.
//  - power loss or OS crash: without syncs the file may be damaged. The marker `<store>.unsynced-import`
//    is created and synced before the first unsynced write and removed only after the store was synced and
//    switched to WAL, so whoever opens the store after a crash knows to check it (PRAGMA quick_check) and
//    can say plainly that the store must be imported again (it held nothing but that import).
//
// The marker holds the importing process's pid, its start time and the kernel's boot id: a marker whose
// process is alive (not a zombie, not a later process given the same pid) on the same boot belongs to an
// import still running.
#pragma once

#include <string>

#include "store/status.hpp"

namespace ferry {

class UnsyncedImport {
 public:
  enum class State {
    kNone,       // no marker: the store was synced (or never written unsynced)
    kRunning,    // an import in another live process of this boot is writing it now
    kAbandoned,  // the importing process died or the system restarted: the store needs checking
  };

  static std::string MarkerPath(const std::string& store_path) { return store_path + ".unsynced-import"; }

  // Writes the marker for this process and syncs it and its folder. Must succeed before any unsynced write.
  static Status Create(const std::string& store_path);
  static State Check(const std::string& store_path);
  // Syncs the store file itself (every page written so far, by any connection), then removes the marker and
  // syncs the folder, so the marker only goes once the data is on disk.
  static Status Complete(const std::string& store_path);
};

}  // namespace ferry
