// IdIndex (engine/detail/id_index.hpp): the dedupe index of INV-6. Open addressing with linear
// probing and backward-shift deletion; hashes are forced to collide (same hash, and same home
// bucket with different hashes, also across the end of the table) and checked against a model.
#include "detail/id_index.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using sessionring::Sequence;
using sessionring::detail::IdIndex;

namespace {

// Every sequence stored under hash h (find() calls the candidate for each until it says yes).
std::set<Sequence> all_under(const IdIndex& ix, std::uint64_t h) {
  std::set<Sequence> seen;
  const Sequence r = ix.find(h, [&](Sequence s) {
    EXPECT_TRUE(seen.insert(s).second) << "candidate " << s << " offered twice for hash " << h;
    return false;
  });
  EXPECT_EQ(r, 0u);
  return seen;
}

}  // namespace

TEST(IdIndex, emptyIndexFindsNothing) {
  IdIndex ix;
  EXPECT_EQ(ix.size(), 0u);
  EXPECT_EQ(ix.find(IdIndex::hash("x"), [](Sequence) { return true; }), 0u);
  ix.erase(IdIndex::hash("x"), 1);  // erase on an empty index is a no-op
  EXPECT_EQ(ix.size(), 0u);
}

TEST(IdIndex, hashIsNeverTheEmptyMarker) {
  EXPECT_NE(IdIndex::hash(""), 0u);
  EXPECT_NE(IdIndex::hash("a"), 0u);
  EXPECT_EQ(IdIndex::hash("evt-1"), IdIndex::hash(std::string("evt-1")));
  EXPECT_NE(IdIndex::hash("evt-1"), IdIndex::hash("evt-2"));
}

TEST(IdIndex, insertThenFindReturnsTheSequenceTheCandidateAccepts) {
  IdIndex ix;
  for (Sequence s = 1; s <= 100; ++s) ix.insert(IdIndex::hash("id-" + std::to_string(s)), s);
  EXPECT_EQ(ix.size(), 100u);
  for (Sequence s = 1; s <= 100; ++s) {
    const auto h = IdIndex::hash("id-" + std::to_string(s));
    EXPECT_EQ(ix.find(h, [&](Sequence c) { return c == s; }), s);
  }
  EXPECT_EQ(ix.find(IdIndex::hash("id-101"), [](Sequence) { return true; }), 0u);
}

TEST(IdIndex, identicalHashesKeepEveryCandidate) {
  IdIndex ix;
  const std::uint64_t h = 0xdeadbeef00000007ull;
  for (Sequence s = 1; s <= 20; ++s) ix.insert(h, s);
  EXPECT_EQ(all_under(ix, h).size(), 20u);
  // The caller's id comparison picks the right one among colliding entries.
  EXPECT_EQ(ix.find(h, [](Sequence c) { return c == 13; }), 13u);
  ix.erase(h, 13);
  EXPECT_EQ(ix.find(h, [](Sequence c) { return c == 13; }), 0u);
  EXPECT_EQ(all_under(ix, h).size(), 19u);
  ix.erase(h, 999);  // absent pair: no change
  EXPECT_EQ(ix.size(), 19u);
}

TEST(IdIndex, eraseInsideACollisionClusterKeepsTheRestFindable) {
  // Different hashes with the same home bucket (low bits equal for every table size up to 2^20),
  // interleaved with hashes homed in the next buckets so the cluster mixes homes.
  IdIndex ix;
  std::vector<std::pair<std::uint64_t, Sequence>> entries;
  Sequence seq = 1;
  for (std::uint64_t k = 1; k <= 12; ++k) {
    entries.emplace_back((k << 40) | 5, seq++);
    entries.emplace_back((k << 40) | 6, seq++);
  }
  for (auto [h, s] : entries) ix.insert(h, s);
  // Erase from the front, middle and back of the cluster, checking everything after each.
  std::set<std::size_t> erased;
  for (std::size_t victim : {0u, 11u, 23u, 1u, 12u, 5u}) {
    ix.erase(entries[victim].first, entries[victim].second);
    erased.insert(victim);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto [h, s] = entries[i];
      const Sequence got = ix.find(h, [&](Sequence c) { return c == s; });
      EXPECT_EQ(got, erased.count(i) ? 0u : s) << "entry " << i << " after erasing " << victim;
    }
  }
  EXPECT_EQ(ix.size(), entries.size() - erased.size());
}

TEST(IdIndex, clustersThatWrapAroundTheTableEnd) {
  // The first table has 1024 slots (mask 1023): homes 1022 and 1023 wrap to slots 0, 1, ...
  IdIndex ix;
  std::vector<std::pair<std::uint64_t, Sequence>> entries;
  Sequence seq = 1;
  for (std::uint64_t k = 1; k <= 6; ++k) {
    entries.emplace_back((k << 32) | 1023, seq++);
    entries.emplace_back((k << 32) | 1022, seq++);
    entries.emplace_back((k << 32) | 0, seq++);  // homed at 0: displaced by the wrapped ones
  }
  for (auto [h, s] : entries) ix.insert(h, s);
  for (std::size_t victim = 0; victim < entries.size(); victim += 2) {
    ix.erase(entries[victim].first, entries[victim].second);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto [h, s] = entries[i];
      const bool gone = i <= victim && i % 2 == 0;
      EXPECT_EQ(ix.find(h, [&](Sequence c) { return c == s; }), gone ? 0u : s) << i << " after " << victim;
    }
  }
}

TEST(IdIndex, growingKeepsEveryEntryIncludingCollisions) {
  IdIndex ix;
  const std::size_t n = 20000;  // several doublings from 1024 slots
  // Three hashes per home bucket (same low bits), and every tenth sequence a second entry with
  // an identical hash; never 0 (the empty marker).
  auto h = [](Sequence s) { return (((s % 3) + 1) << 50) | (s / 3); };
  for (Sequence s = 1; s <= n; ++s) {
    ix.insert(h(s), s);
    if (s % 10 == 0) ix.insert(h(s), s + n);
  }
  EXPECT_EQ(ix.size(), n + n / 10);
  EXPECT_GE(ix.memory_bytes(), 2 * ix.size() * 16);  // at most 50% load
  for (Sequence s = 1; s <= n; ++s) {
    ASSERT_EQ(ix.find(h(s), [&](Sequence c) { return c == s; }), s);
    if (s % 10 == 0) {
      ASSERT_EQ(ix.find(h(s), [&](Sequence c) { return c == s + n; }), s + n);
    }
  }
}

TEST(IdIndex, randomOperationsMatchAModel) {
  // Hashes from a small pool, so identical hashes and shared home buckets are the norm.
  std::mt19937_64 rng(12345);
  std::vector<std::uint64_t> pool;
  for (std::uint64_t i = 1; i <= 64; ++i) pool.push_back((rng() & ~std::uint64_t{0xfff}) | (i % 9) | 1);
  IdIndex ix;
  std::multimap<std::uint64_t, Sequence> model;
  Sequence next = 1;
  for (int op = 0; op < 6000; ++op) {
    const std::uint64_t h = pool[rng() % pool.size()];
    if (model.empty() || rng() % 3 != 0) {
      ix.insert(h, next);
      model.emplace(h, next);
      ++next;
    } else {
      // Erase a random existing pair (or, sometimes, an absent one).
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      if (rng() % 10 == 0) {
        ix.erase(it->first, next + 1000);
      } else {
        ix.erase(it->first, it->second);
        model.erase(it);
      }
    }
    ASSERT_EQ(ix.size(), model.size()) << "op " << op;
    if (op % 100 == 0) {
      for (std::uint64_t ph : pool) {
        std::set<Sequence> want;
        for (auto [b, e] = model.equal_range(ph); b != e; ++b) want.insert(b->second);
        ASSERT_EQ(all_under(ix, ph), want) << "hash " << ph << " at op " << op;
      }
    }
  }
}
