#include "services/gateway/gateway_internal.h"

// A partner's profile: the registry record with its reports, grants and
// events.
namespace smz::gateway {

// Long by design: it calls every backend at once and assembles the profile's
// sections from the answers.
absl::StatusOr<v1::PartnerProfile> Gateway::GetPartnerProfile(
    const std::string& authorization, bool hospital_figures,
    const v1::GetPartnerProfileRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  if (!violations.empty()) return violations.ToStatus();
  const absl::Duration deadline = options_.backend_deadline;
  v1::PartnerProfile profile;
  profile.set_year(request.year());

  auto months = AsyncInTrace([&] {
    if (!hospital_figures) {
      return absl::StatusOr<sv1::AggregateResponse>(absl::PermissionDeniedError(
          "one hospital's figures are shown to ADMIN and to the hospital "
          "itself; other roles see hospitals in groups (GetZoneOverview, "
          "the statistics by kind and region)"));
    }
    sv1::AggregateRequest aggregate;
    aggregate.set_start_period(absl::StrCat(request.year(), "-01"));
    aggregate.set_end_period(absl::StrCat(request.year(), "-12"));
    aggregate.set_bucket(sv1::MONTH);
    aggregate.mutable_filter()->add_partner_ids(request.partner_id());
    return Call("stats", authorization, deadline, *stats_,
                &sv1::StatsService::Stub::QueryAggregate, aggregate);
  });
  auto hosted = AsyncInTrace([&] {
    ev1::ListEventsRequest list;
    list.set_host_partner_id(request.partner_id());
    list.set_local_date_from(absl::StrCat(request.year(), "-01-01"));
    list.set_local_date_to(absl::StrCat(request.year(), "-12-31"));
    list.set_page_size(kPageSize);
    return Call("events", authorization, deadline, *events_,
                &ev1::EventsService::Stub::ListEvents, list);
  });
  auto registrations = AsyncInTrace([&] {
    ev1::ListRegistrationsRequest list;
    list.set_partner_id(request.partner_id());
    list.set_page_size(kPageSize);
    return Call("events", authorization, deadline, *events_,
                &ev1::EventsService::Stub::ListRegistrations, list);
  });
  rv1::GetPartnerRequest get;
  get.set_id(request.partner_id());
  absl::StatusOr<rv1::Partner> partner =
      Call("registry", authorization, deadline, *registry_,
           &rv1::RegistryService::Stub::GetPartner, get);
  absl::StatusOr<sv1::AggregateResponse> figures = months.get();
  absl::StatusOr<ev1::ListEventsResponse> hosted_events = hosted.get();
  absl::StatusOr<ev1::ListRegistrationsResponse> joined = registrations.get();
  if (!partner.ok() && !IsOutage(partner.status())) return partner.status();
  *profile.add_sections() = partner.ok()
                                ? Available("registry")
                                : Unavailable("registry", partner.status());
  if (partner.ok()) *profile.mutable_partner() = *partner;

  if (figures.ok()) {
    for (const sv1::AggregateRow& row : figures->rows()) {
      v1::MonthFigure* m = profile.add_months();
      m->set_period(row.bucket());
      m->set_new_patients(row.new_patients().value());
      m->set_visits(row.visits().value());
      m->set_suppressed(row.new_patients().suppressed() ||
                        row.visits().suppressed());
    }
    *profile.add_sections() = Available("stats");
  } else {
    *profile.add_sections() = Unavailable("stats", figures.status());
  }

  absl::Status events_error =
      !hosted_events.ok() ? hosted_events.status() : joined.status();
  if (events_error.ok()) {
    for (const ev1::Event& e : hosted_events->events()) {
      *profile.add_hosted() = ActivityOf(e);
    }
    // The events its people registered for, once each, in the year.
    std::set<int64_t> seen;
    for (const ev1::Registration& r : joined->registrations()) {
      if (!seen.insert(r.event_id()).second) continue;
      ev1::GetEventRequest event_request;
      event_request.set_id(r.event_id());
      absl::StatusOr<ev1::Event> event =
          Call("events", authorization, deadline, *events_,
               &ev1::EventsService::Stub::GetEvent, event_request);
      if (!event.ok()) continue;  // e.g. a draft this caller cannot see
      if (event->local_start().substr(0, 4) != absl::StrCat(request.year())) {
        continue;
      }
      *profile.add_joined() = ActivityOf(*event);
    }
    *profile.add_sections() = Available("events");
  } else {
    *profile.add_sections() = Unavailable("events", events_error);
  }
  return profile;
}

}  // namespace smz::gateway
