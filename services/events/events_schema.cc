#include "services/events/events_schema.h"

#include "common/aip/idempotency.h"
#include "common/mail/outbox.h"
#include "common/mysql/audit.h"
#include "common/mysql/write_stamps.h"

namespace smz::events {

// Instants are microseconds since the epoch (UTC); local dates are the
// event's own zone's, fixed at each write, so "events on 2019-05-23" is an
// index range whatever the zones involved.
// Long by design: the schema's history, one migration after another (data, not
// logic; applied migrations never change).
const std::vector<Migration>& EventsMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1,
       "events, slots, hosts, registrations, idempotency keys, audit",
       {
           // The definition is the serialized smz.events.v1.Event (without
           // counts and output-only fields); the columns are what queries
           // filter, sort and count on. Registration counts live here so the
           // registering transaction's row lock on the event is all the
           // serialization a seat needs.
           "CREATE TABLE IF NOT EXISTS events ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " type TINYINT NOT NULL,"
           " state TINYINT NOT NULL,"
           " time_zone VARCHAR(64) NOT NULL,"
           " start_us BIGINT NOT NULL,"
           " end_us BIGINT NOT NULL,"
           " local_start_date DATE NOT NULL,"
           " local_end_date DATE NOT NULL,"
           // local_end_date - local_start_date: its maximum bounds how far
           // back a date-range query must look for events still running.
           " span_days INT NOT NULL,"
           " country CHAR(2) NOT NULL,"
           " capacity INT NOT NULL,"
           " confirmed INT NOT NULL DEFAULT 0,"
           " waitlisted INT NOT NULL DEFAULT 0,"
           " attended INT NOT NULL DEFAULT 0,"
           " no_show INT NOT NULL DEFAULT 0,"
           " outcome_attendees INT NOT NULL DEFAULT 0,"
           " outcome_mous INT NOT NULL DEFAULT 0,"
           " next_arrival BIGINT NOT NULL DEFAULT 1,"
           " revision BIGINT NOT NULL,"
           " create_us BIGINT NOT NULL,"
           " update_us BIGINT NOT NULL,"
           " body MEDIUMBLOB NOT NULL,"
           " KEY events_start (start_us, id),"
           " KEY events_local_dates (local_start_date, local_end_date),"
           " KEY events_kpi (state, local_start_date, type),"
           " KEY events_span (span_days)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           // Every partner an event involves (hosts and visited hospitals).
           "CREATE TABLE IF NOT EXISTS event_hosts ("
           " partner_id BIGINT NOT NULL,"
           " event_id BIGINT NOT NULL,"
           " PRIMARY KEY (partner_id, event_id),"
           " KEY event_hosts_event (event_id)"
           ") ENGINE=InnoDB",
           // The spans an event that is not cancelled occupies: per session,
           // per occurrence, or the whole event. Conflict checks read them.
           "CREATE TABLE IF NOT EXISTS event_slots ("
           " event_id BIGINT NOT NULL,"
           " slot_no INT NOT NULL,"
           " venue_key CHAR(64) NOT NULL,"
           " venue_label VARCHAR(420) NOT NULL,"
           " host_partner_id BIGINT NOT NULL,"
           " start_us BIGINT NOT NULL,"
           " end_us BIGINT NOT NULL,"
           " field VARCHAR(100) NOT NULL,"
           // The event's zone, so a conflict can be described without
           // reading (or locking) the other event's row.
           " time_zone VARCHAR(64) NOT NULL,"
           " PRIMARY KEY (event_id, slot_no),"
           " KEY event_slots_venue (venue_key, start_us),"
           " KEY event_slots_host (host_partner_id, start_us)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           // One row per room ever booked: writers lock it exclusively
           // before checking the room's slots, so two bookings of one room
           // cannot both pass the check.
           "CREATE TABLE IF NOT EXISTS venue_locks ("
           " venue_key CHAR(64) NOT NULL PRIMARY KEY"
           ") ENGINE=InnoDB",
           // active_person_key is the person key while the registration is
           // CONFIRMED or WAITLISTED and NULL after, so the unique key
           // refuses a second live registration of the same person.
           "CREATE TABLE IF NOT EXISTS registrations ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " event_id BIGINT NOT NULL,"
           " arrival BIGINT NOT NULL,"
           " partner_id BIGINT NOT NULL,"
           " person_key CHAR(64) NOT NULL,"
           " active_person_key CHAR(64) NULL,"
           " state TINYINT NOT NULL,"
           " attendance TINYINT NOT NULL,"
           " create_us BIGINT NOT NULL,"
           " confirm_us BIGINT NULL,"
           " check_in_us BIGINT NULL,"
           " cancel_us BIGINT NULL,"
           " body MEDIUMBLOB NOT NULL,"
           " UNIQUE KEY registrations_person (event_id, active_person_key),"
           " UNIQUE KEY registrations_arrival (event_id, arrival),"
           " KEY registrations_state (event_id, state, arrival),"
           " KEY registrations_partner (partner_id, event_id, arrival),"
           " KEY registrations_person_key (person_key)"
           ") ENGINE=InnoDB",
           kLegacyIdempotencyKeysDdl,
           kAuditTableDdl,
       }},
      {2,
       "one request-key table for every service (common/aip/idempotency.h)",
       {
           kRequestKeysTableDdl,
           kCopyCallerKeyedIdempotencyKeys,
       }},
      // Apart from the copy, so that a start interrupted between the two
      // runs each again safely (DDL commits by itself).
      {3,
       "the old idempotency table dropped (its keys are in request_keys)",
       {"DROP TABLE IF EXISTS idempotency_keys"}},
      {4,
       "mail to registrants, written with the change that causes it "
       "(common/mail/outbox.h)",
       {kMailOutboxTableDdl}},
      // hold_until_us: a public sign-up's place, held until it is confirmed
      // (NULL once confirmed, and for the organizers' registrations).
      // visitor_token_hash: SHA-256 of the link the person got by mail.
      // erased_us: when the person's data were erased (by the person, or
      // the retention period after the event).
      // signup_quota: sign-ups counted per hour by client address, e-mail
      // address and event (hashed subjects: no addresses kept).
      {5,
       "events open to the public; sign-ups held until confirmed by a mailed "
       "link; sign-up limits; mail with links erased once sent",
       {
           "ALTER TABLE events ADD COLUMN open_to_public TINYINT NOT NULL "
           "DEFAULT 0, ADD KEY events_public (open_to_public, start_us, id)",
           "ALTER TABLE registrations ADD COLUMN hold_until_us BIGINT NULL, "
           "ADD COLUMN visitor_token_hash CHAR(64) NULL, "
           "ADD COLUMN erased_us BIGINT NULL, "
           "ADD UNIQUE KEY registrations_visitor_token (visitor_token_hash), "
           "ADD KEY registrations_hold (hold_until_us), "
           "ADD KEY registrations_retention (erased_us, partner_id, event_id)",
           "CREATE TABLE IF NOT EXISTS signup_quota ("
           " subject CHAR(64) NOT NULL,"
           " window_us BIGINT NOT NULL,"
           " count INT NOT NULL,"
           " PRIMARY KEY (subject, window_us),"
           " KEY signup_quota_age (window_us)"
           ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin",
           kMailOutboxEraseDdl,
       }},
      // The cap on unconfirmed places counts an event's held rows alone,
      // under the event's lock (a scan of all its registrations grew with
      // every sign-up: public_benchmark).
      {6,
       "an event's held places found without reading its other "
       "registrations",
       {"ALTER TABLE registrations ADD KEY registrations_event_hold "
        "(event_id, hold_until_us)"}},
      // A check-in code per mail that gives a seat (check_in_code.h), kept
      // as its SHA-256: the mail carries it as a QR image (kMailOutboxQrDdl).
      {7,
       "check-in codes, mailed as QR images to people with a seat",
       {
           "CREATE TABLE IF NOT EXISTS check_in_codes ("
           " code_hash CHAR(64) NOT NULL PRIMARY KEY,"
           " event_id BIGINT NOT NULL,"
           " arrival BIGINT NOT NULL,"
           " create_us BIGINT NOT NULL,"
           " KEY check_in_codes_registration (event_id, arrival)"
           ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin",
           kMailOutboxQrDdl,
       }},
      // The stamp every write transaction moves (common/mysql/
      // write_stamps.h): the gateway's council tables stay in memory while
      // it has not moved.
      {8,
       "data version stamps (council tables kept in memory, exact)",
       {kDataVersionTableDdl, kDataVersionSeedSql}},
      // Leases on the stamp above (common/mysql/write_stamps.h): readers
      // answer from memory for a few milliseconds without asking for it,
      // and writers that move it wait out the leases before acknowledging.
      {9, "stamp leases", {kStampLeaseTableDdl, kStampLeaseSeedSql}},
  };
  return *kMigrations;
}

}  // namespace smz::events
