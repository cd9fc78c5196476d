// The figures every counted submission of a month adds to (reports counted,
// reporting hospitals per group, the three rollups): summed in memory over
// a group of submissions, kept as one row of count_deltas by the group's
// transaction, and added to the shared rows later, for many groups at once
// (StatsStore::FoldCountDeltas). Internal to the statistics store.
//
// Why a row of its own: every submission of a month changes the same
// rollup rows. Written by each group, they were a third of a submission's
// cost, and concurrent groups queued on their locks (PERFORMANCE.md,
// "Count deltas: the month's shared rows written by a fold"). A
// count_deltas row is new to every group, so groups wait on each other only
// for the rollups' stamp rows; a fold of 256 groups' deltas writes each
// shared row once instead of once per group. Every reader of the shared
// rows folds first, so a report is in the next answer.
//
// A group of submissions (SubmitGroup) moves its stamps, then inserts its
// row; the stamps first, so that RebuildRollups, which takes every stamp
// first, never meets a group between the two:
//
//   SharedCounts counts;
//   counts.AddCell({202007, 1, "VN", "", 0, 0, 0, kind, region},
//                  RollupDelta{3, 1, partner_id, partner_id * partner_id});
//   counts.version_shards.insert(partner_id % kReportCountShards);
//   absl::Status moved = MoveRollupStamps(session, counts);
//   ... INSERT INTO count_deltas (deltas, deltas_bytes) VALUES (?, ?), with
//       ToCountDeltas(counts).SerializeAsString() and its size
//
// A fold (StatsStore::FoldCountDeltas) reads rows, adds them up and writes
// the sums:
//
//   SharedCounts sum;
//   absl::Status added = AddCountDeltas(row, &sum);  // for each row
//   absl::Status written = WriteSharedRows(session, sum);
#ifndef SMZ_SERVICES_STATS_COUNT_DELTAS_H_
#define SMZ_SERVICES_STATS_COUNT_DELTAS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/mysql/database.h"
#include "smz/stats/storage/count_deltas.pb.h"

namespace smz::stats {

// A rollup row's change: its value, and the partners counted in it (with
// the sums of their ids and squared ids, which the disclosure rules use).
struct RollupDelta {
  int64_t value = 0;
  int64_t contributors = 0;
  int64_t partner_sum = 0;
  int64_t partner_square_sum = 0;
  // All four: summed over partners, contributors may cancel out while
  // their partner sums do not.
  bool Empty() const {
    return value == 0 && contributors == 0 && partner_sum == 0 &&
           partner_square_sum == 0;
  }
  bool operator==(const RollupDelta& other) const {
    return value == other.value && contributors == other.contributors &&
           partner_sum == other.partner_sum &&
           partner_square_sum == other.partner_square_sum;
  }
  void Add(const RollupDelta& other) {
    value += other.value;
    contributors += other.contributors;
    partner_sum += other.partner_sum;
    partner_square_sum += other.partner_square_sum;
  }
};

// rollup_cells' primary key: (period, measure, nationality, department,
// care type, sex, age band, partner kind, region).
using RollupCellKey =
    std::tuple<int, int, std::string, std::string, int, int, int, int, int>;

// What counted submissions add to the shared rows, summed.
struct SharedCounts {
  // (period, shard) -> reports newly counted.
  std::map<std::pair<int, int>, int64_t> reports;
  // (period, partner kind, region, shard) -> (active, with revenue).
  std::map<std::tuple<int, int, int, int>, std::pair<int64_t, int64_t>>
      reporters;
  std::map<RollupCellKey, RollupDelta> cells;
  // Sums of `cells` by (period, measure, nationality) and (period, measure,
  // department, care type): kept by AddCell.
  std::map<std::tuple<int, int, std::string>, RollupDelta> nationality;
  std::map<std::tuple<int, int, std::string, int>, RollupDelta> department;
  // rollup_version shards to move (the group's; not kept in its row).
  std::set<int> version_shards;

  // Adds `delta` to the cell's row and to its nationality's and
  // department's.
  void AddCell(const RollupCellKey& key, const RollupDelta& delta);
  void Add(const SharedCounts& other);
  // Nothing to write to the shared rows (stamps aside).
  bool Empty() const;
};

// The counts as a count_deltas row (empty changes left out).
storage::CountDeltas ToCountDeltas(const SharedCounts& counts);
// The same as rows of at most about `max_bytes` serialized each (a row
// holds one cell at least), which add up to it: a large import's changes
// stay within the server's packet limit, as InsertBatched keeps rows.
std::vector<storage::CountDeltas> ToCountDeltaRows(const SharedCounts& counts,
                                                   size_t max_bytes);
// Adds a count_deltas row to `counts`; DATA_LOSS for a row that cannot be
// one (a shard or key out of range), leaving `counts` unchanged.
absl::Status AddCountDeltas(const storage::CountDeltas& deltas,
                            SharedCounts* counts);

// Adds the counts to report_counts, group_reporters and the rollups, in
// key order (tables, then rows), the same in every transaction, so that
// two folds wait rather than deadlock.
absl::Status WriteSharedRows(Session& session, const SharedCounts& counts);
// Moves the stamps of counts.version_shards (rollup_version), in shard
// order; readers' leases on them are waited out after the commit
// (write_stamps.h): what a group of submissions does. (A fold moves one
// stamp row without that wait: with the deltas, the rollups add up to the
// same figures, and every reader folds before it reads them.)
absl::Status MoveRollupStamps(Session& session, const SharedCounts& counts);

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_COUNT_DELTAS_H_
