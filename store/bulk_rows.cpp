#include "store/bulk_rows.hpp"

#include <cstring>
#include <new>
#include <string>

namespace ferry {
namespace {

constexpr const char* kPointerType = "ferry_bulk_rows";
constexpr int kColumns = 32;     // c0 … c31
constexpr int kSourceColumn = kColumns;  // the hidden argument

struct Cursor {
  sqlite3_vtab_cursor base;
  const BulkRows* rows = nullptr;
  std::size_t row = 0;
};

int Connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char**) {
  std::string sql = "CREATE TABLE x(";
  for (int i = 0; i < kColumns; ++i) sql += "c" + std::to_string(i) + ",";
  sql += "src HIDDEN)";
  int rc = sqlite3_declare_vtab(db, sql.c_str());
  if (rc != SQLITE_OK) return rc;
  auto* vtab = new (std::nothrow) sqlite3_vtab();
  if (!vtab) return SQLITE_NOMEM;
  *out = vtab;
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* vtab) {
  delete vtab;
  return SQLITE_OK;
}

int BestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn != kSourceColumn || c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!c.usable) return SQLITE_CONSTRAINT;  // the planner must try an order that supplies it
    info->aConstraintUsage[i].argvIndex = 1;
    info->aConstraintUsage[i].omit = 1;
    info->idxNum = 1;
    info->estimatedCost = 1;
    return SQLITE_OK;
  }
  info->idxNum = 0;  // no source: empty
  info->estimatedCost = 1e12;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* c = new (std::nothrow) Cursor();
  if (!c) return SQLITE_NOMEM;
  *out = &c->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* cur) {
  delete reinterpret_cast<Cursor*>(cur);
  return SQLITE_OK;
}

int Filter(sqlite3_vtab_cursor* cur, int idx_num, const char*, int argc, sqlite3_value** argv) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  c->row = 0;
  c->rows = (idx_num == 1 && argc == 1) ? static_cast<const BulkRows*>(sqlite3_value_pointer(argv[0], kPointerType))
                                        : nullptr;
  return SQLITE_OK;
}

int Next(sqlite3_vtab_cursor* cur) {
  ++reinterpret_cast<Cursor*>(cur)->row;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* cur) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  return !c->rows || c->row >= c->rows->size();
}

int Column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  if (col < kColumns) c->rows->Column(c->row, col, ctx);  // a source leaves unset columns NULL
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* out) {
  *out = static_cast<sqlite3_int64>(reinterpret_cast<Cursor*>(cur)->row);
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m;
  std::memset(&m, 0, sizeof m);
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous-only: exists on every connection that registered it, never in the schema
  m.xConnect = Connect;
  m.xBestIndex = BestIndex;
  m.xDisconnect = Disconnect;
  m.xOpen = Open;
  m.xClose = Close;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = Column;
  m.xRowid = Rowid;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

int RegisterBulkRows(sqlite3* db) { return sqlite3_create_module(db, "ferry_rows", &kModule, nullptr); }

int BindBulkRows(sqlite3_stmt* stmt, int index, const BulkRows* rows) {
  return sqlite3_bind_pointer(stmt, index, const_cast<BulkRows*>(rows), kPointerType, nullptr);
}

}  // namespace ferry
