// SqliteSession: the in-process facts of one SqliteStore session, shared by all its handles of
// one store (the writer publishes its latest and first sequences here; readers wait on `gate`).
#pragma once
#include <sessionring/config.hpp>

#include "detail/wait_gate.hpp"

#include <atomic>
#include <string>

namespace sessionring::detail {

struct SqliteSession {
  explicit SqliteSession(std::string i) : id(std::move(i)) {}
  const std::string id;
  // writer: the writer handle, after each COMMIT and at open (Q1, seq_cst); readers: every read
  // path (acquire, pairs with Q1); publishes the committed batch. Authoritative only while
  // local_writer is true; otherwise a cache of the database's max(sequence).
  std::atomic<Sequence> latest{0};
  // writer: writer handle open/close (under the store mutex, release); readers: read paths
  // (acquire, pairs with that release): whether `latest` is kept by a writer in this process.
  std::atomic<bool> local_writer{false};
  // writer: the writer handle, after a COMMIT that pruned and at open (release); readers: read
  // paths (acquire, pairs with that release): the first available sequence (retention). Like
  // `latest`, authoritative only while local_writer is true, else a cache of the database.
  std::atomic<Sequence> first{1};
  mutable WaitGate gate;
};

}  // namespace sessionring::detail
