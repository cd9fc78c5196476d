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

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_WRITE_STAMPS_H_
