// BulkRows: rows held in C++ memory, readable by SQL as the table-valued function ferry_rows(?1), so a
// whole batch goes into a table with one `INSERT … SELECT … FROM ferry_rows(?1)` instead of one INSERT per row.
//
// Why: a prepared INSERT run once per row pays, every time, for opening its cursors, seeking each B-tree
// from the root and resetting; INSERT … SELECT opens them once and appends to a cursor already at the end.
// For the message rows of an import that is about two thirds of SQLite's cost per row (see
// SqliteStore::UpsertMessages).
//
// Contract:
//  - RegisterBulkRows(db) once per connection. Then ferry_rows(?1) has columns c0 … c31 and reads the
//    BulkRows bound to ?1 with BindBulkRows (sqlite3_bind_pointer: a pointer SQL text cannot forge).
//  - Rows are produced in order 0 … size()-1, so an INSERT … SELECT without ORDER BY inserts them in that
//    order. Column(row, col, ctx) sets the value with sqlite3_result_*; text may be passed SQLITE_STATIC
//    when it lives as long as the statement runs. Columns beyond what a source fills read as NULL.
//  - Without a bound source (or a NULL one) the function yields no rows.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <functional>
#include <utility>

namespace ferry {

class BulkRows {
 public:
  using ColumnFn = std::function<void(std::size_t row, int col, sqlite3_context* ctx)>;
  BulkRows(std::size_t rows, ColumnFn column) : rows_(rows), column_(std::move(column)) {}
  std::size_t size() const { return rows_; }
  void Column(std::size_t row, int col, sqlite3_context* ctx) const { column_(row, col, ctx); }

 private:
  std::size_t rows_;
  ColumnFn column_;
};

// Makes ferry_rows() available on `db`. Returns an SQLite result code.
int RegisterBulkRows(sqlite3* db);
// Binds `rows` (which must outlive the statement's run) to parameter `index` of `stmt`.
int BindBulkRows(sqlite3_stmt* stmt, int index, const BulkRows* rows);

}  // namespace ferry
