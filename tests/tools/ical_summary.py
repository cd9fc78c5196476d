#!/usr/bin/python3
"""Parses an iCalendar file with Debian's python3-icalendar and prints what a
calendar client would see, one VEVENT per line, for tests to assert on:

  uid|status|tzid|start_utc|end_utc|summary|occurrences|vtimezone_agrees

start_utc/end_utc are ISO 8601 in UTC; occurrences is the number of
instances of an RRULE (after EXDATE), or 1; vtimezone_agrees is "yes" when
the file's own VTIMEZONE gives the same UTC offset at DTSTART as tzdata.
Exits non-zero (with the parser's message) when the file does not parse.

Run with /usr/bin/python3 (Debian's packages are not on other
interpreters).
"""
import datetime
import sys

import icalendar
from dateutil import rrule


def utc(value):
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def localize(tz, naive):
    if hasattr(tz, "localize"):
        return tz.localize(naive)
    return naive.replace(tzinfo=tz)


def main(path):
    with open(path, "rb") as f:
        calendar = icalendar.Calendar.from_ical(f.read())
    if str(calendar.get("VERSION")) != "2.0":
        raise SystemExit("VERSION is not 2.0")
    if not calendar.get("PRODID"):
        raise SystemExit("PRODID missing")
    zones = {}
    for vtimezone in calendar.walk("VTIMEZONE"):
        zones[str(vtimezone["TZID"])] = vtimezone.to_tz()
    for event in calendar.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            if required not in event:
                raise SystemExit("VEVENT without " + required)
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND")
        tzid = event["DTSTART"].params.get("TZID", "")
        if start.tzinfo is None or start.utcoffset() is None:
            raise SystemExit("DTSTART is floating: " + str(event["UID"]))
        agrees = "no-vtimezone"
        if tzid in zones:
            own = localize(zones[tzid], start.replace(tzinfo=None))
            agrees = "yes" if own.utcoffset() == start.utcoffset() else (
                "no: %s vs %s" % (own.utcoffset(), start.utcoffset()))
        occurrences = 1
        if "RRULE" in event:
            rule = rrule.rrulestr(
                event["RRULE"].to_ical().decode(), dtstart=start)
            excluded = set()
            exdates = event.get("EXDATE", [])
            if not isinstance(exdates, list):
                exdates = [exdates]
            for group in exdates:
                for item in group.dts:
                    excluded.add(item.dt.astimezone(datetime.timezone.utc))
            occurrences = len([
                d for d in rule
                if d.astimezone(datetime.timezone.utc) not in excluded])
        summary = str(event.get("SUMMARY", "")).replace("|", "/")
        print("|".join([
            str(event["UID"]), str(event.get("STATUS", "")), tzid, utc(start),
            utc(end), summary, str(occurrences), agrees]))


if __name__ == "__main__":
    main(sys.argv[1])
