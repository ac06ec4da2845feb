// SqliteWriterLog: the writer handle of one SqliteStore session (engine/sqlite_writer_log.cpp).
// It owns a connection and appends each batch in one IMMEDIATE transaction, retention's prune
// included; reads go through a SqliteLog on pooled connections.
#pragma once
#include <sessionring/session_log.hpp>

#include "detail/log_file.hpp"
#include "detail/sqlite_store_state.hpp"

#include <memory>

namespace sessionring::detail {

/// Opens the writer handle of `session`; the caller holds the session's cross-process writer
/// lock `lock` (flock), which the handle keeps. Registers the session, recovers its latest and
/// first sequences, and publishes them to the session's read handles in this process.
Result<std::shared_ptr<SessionLog>> open_sqlite_writer(std::shared_ptr<SqliteStoreState> store,
                                                       std::shared_ptr<SqliteSession> session, File lock);

}  // namespace sessionring::detail
