// A stamp of everything a service's database holds, moved by every write
// transaction (Database::StampWritesWith), for services whose writes are
// many and varied (events: events, registrations, sign-ups, check-ins;
// programme: projects, budget lines, indicators, executions): rather than an
// upsert in each write path, one in Transact that no future path through it
// can forget (writes through Run, autocommit, are not stamped: keep data
// writes in Transact).
//
// The table has 16 rows; a transaction sets the row of its connection
// (CONNECTION_ID() % 16) to UUID_SHORT(), a value that does not repeat for
// a server (its server_id and start time are in it), so
// concurrent writers rarely wait on the same row and a stamp always means
// the same data, even after a restore. The stamp is all 16, in order.
//
//   Migration{4, "data version stamps",
//             {kDataVersionTableDdl, kDataVersionSeedSql}};
//   database.StampWritesWith(kDataVersionStampSql);
//   FreshnessFence fence(&database, kDataVersionReadSql);
#ifndef SMZ_COMMON_MYSQL_WRITE_STAMPS_H_
#define SMZ_COMMON_MYSQL_WRITE_STAMPS_H_

#include "absl/time/time.h"

namespace smz {

inline constexpr char kDataVersionTableDdl[] =
    "CREATE TABLE IF NOT EXISTS data_version ("
    " shard TINYINT NOT NULL PRIMARY KEY,"
    " version BIGINT UNSIGNED NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=ascii";

inline constexpr char kDataVersionSeedSql[] =
    "INSERT IGNORE INTO data_version (shard, version) VALUES "
    "(0, UUID_SHORT()), (1, UUID_SHORT()), (2, UUID_SHORT()), "
    "(3, UUID_SHORT()), (4, UUID_SHORT()), (5, UUID_SHORT()), "
    "(6, UUID_SHORT()), (7, UUID_SHORT()), (8, UUID_SHORT()), "
    "(9, UUID_SHORT()), (10, UUID_SHORT()), (11, UUID_SHORT()), "
    "(12, UUID_SHORT()), (13, UUID_SHORT()), (14, UUID_SHORT()), "
    "(15, UUID_SHORT())";

inline constexpr char kDataVersionStampSql[] =
    "INSERT INTO data_version (shard, version) "
    "VALUES (CONNECTION_ID() % 16, UUID_SHORT()) "
    "ON DUPLICATE KEY UPDATE version = VALUES(version)";

// Every shard at once: a change made outside Transact (a migration, an
// operator's statement) counts once this has run.
inline constexpr char kDataVersionRestampSql[] =
    "UPDATE data_version SET version = UUID_SHORT()";

// Empty (NULL) when the table has no rows: then nothing may be kept.
inline constexpr char kDataVersionReadSql[] =
    "SELECT GROUP_CONCAT(version ORDER BY shard) FROM data_version";

// Leases on a stamp: a reader (FreshnessFence with a lease) may answer
// from memory without asking for the stamp until its lease ends, because
// every writer that moves the stamp waits, after its COMMIT and before it
// acknowledges, until every lease granted before that COMMIT has ended
// (Database::WaitOutStampLeases). So a write acknowledged before a read
// began is in that read's answer in every process that shares the
// database, while reads under load cost no query at all; a write costs at
// most one lease more while someone reads.
//
// stamp_lease has one row per database: the end of the latest lease
// granted on any of its stamps, in UTC, by the database's clock. A reader
// grants itself a lease (kStampLeaseGrantSql, autocommit), then reads the
// stamp and what is left of the lease by the database's clock. A writer,
// after its COMMIT, reads how long the latest lease still runs
// (kStampLeaseRemainingMicrosSql) and sleeps that long.
//
// Why waiting after COMMIT is enough. Take a write W, acknowledged before
// a reader R's call began, and suppose R answered the old stamp from a
// lease. R read the stamp before W's COMMIT (else it would have seen W's
// stamp); R's grant was committed before that read, so W's look at
// stamp_lease after its COMMIT saw an `until` at least that late (GREATEST
// never moves it back). R's lease ends no later than that `until`: R
// counts it from before it sent the grant, and takes no more than the
// database said was left. W slept past `until` before it was acknowledged,
// so R's lease had ended before R's call began, and R asked: a
// contradiction. Leases granted after W's COMMIT need no wait: their read
// sees W's stamp.
//
// It assumes one primary (a failover that loses the latest grants may let
// one lease's worth of writes through unseen) and a database clock that
// slews rather than steps forward (a step shortens writers' waits by as
// much). A change made by hand waits for nothing: it is in every answer
// within one lease. The lease's length: kStampLease below.
//
//   Migration{5, "stamp leases", {kStampLeaseTableDdl, kStampLeaseSeedSql}};
//   database.WaitOutStampLeases(kStampLease);                    // writers
//   FreshnessFence fence(&database, kDataVersionReadSql, kStampLease);
inline constexpr char kStampLeaseTableDdl[] =
    "CREATE TABLE IF NOT EXISTS stamp_lease ("
    " id TINYINT NOT NULL PRIMARY KEY,"
    " until DATETIME(6) NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=ascii";

inline constexpr char kStampLeaseSeedSql[] =
    "INSERT IGNORE INTO stamp_lease (id, until) VALUES (1, '2000-01-01')";

// One parameter: the lease's length in microseconds. GREATEST: a shorter
// lease granted later never shortens one another reader holds.
inline constexpr char kStampLeaseGrantSql[] =
    "UPDATE stamp_lease SET until = GREATEST(until, UTC_TIMESTAMP(6) + "
    "INTERVAL ? MICROSECOND) WHERE id = 1";

// Microseconds the latest lease still runs (0 when none; no row: none).
inline constexpr char kStampLeaseRemainingMicrosSql[] =
    "SELECT GREATEST(0, TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), until)) "
    "FROM stamp_lease WHERE id = 1";

// How long readers may keep a stamp without asking again, and so how long
// at most a write waits while someone reads: short enough that nobody
// notices it on a write, long enough that a read under load seldom asks
// (PERFORMANCE.md: 20 ms renewed the gateway's round five times as often).
// Every process on a database must use the same (writers wait no longer).
inline constexpr absl::Duration kStampLease = absl::Milliseconds(50);

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_WRITE_STAMPS_H_
