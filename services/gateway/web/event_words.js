// The events service's enums and labels in Korean and English, for the
// organizer's pages (events.js, event.js).
"use strict";
window.SMZ_EVENT_WORDS = SMZ.words({
  ko: { BRIEFING_SESSION: "설명회", FAM_TOUR: "팸투어", TRAINING: "교육", COUNCIL_MEETING: "협의회", WORKING_GROUP_MEETING: "실무추진단",
        PROMOTION_BOOTH: "홍보 부스", FORUM: "포럼", EXPO: "박람회", MOU_SIGNING: "MOU 체결", BUSINESS_MEETING: "간담회",
        DELEGATION_VISIT: "방문단", PROMOTION_EVENT: "홍보 행사", OTHER: "기타",
        DRAFT: "초안", PUBLISHED: "공개", COMPLETED: "완료", CANCELLED: "취소", POSTPONED: "연기",
        CONFIRMED: "확정", WAITLISTED: "대기", CANCELLED_BY_REGISTRANT: "취소", CANCELLED_WITH_EVENT: "행사 취소",
        ATTENDED: "참석", NO_SHOW: "불참", ATTENDANCE_UNSPECIFIED: "" },
  en: { BRIEFING_SESSION: "Briefing session", FAM_TOUR: "Fam tour", TRAINING: "Training", COUNCIL_MEETING: "Council meeting",
        WORKING_GROUP_MEETING: "Working group", PROMOTION_BOOTH: "Promotion booth", FORUM: "Forum", EXPO: "Expo",
        MOU_SIGNING: "MOU signing", BUSINESS_MEETING: "Business meeting", DELEGATION_VISIT: "Delegation visit",
        PROMOTION_EVENT: "Promotion event", OTHER: "Other",
        DRAFT: "Draft", PUBLISHED: "Published", COMPLETED: "Completed", CANCELLED: "Cancelled", POSTPONED: "Postponed",
        CONFIRMED: "Confirmed", WAITLISTED: "Waiting", CANCELLED_BY_REGISTRANT: "Cancelled", CANCELLED_WITH_EVENT: "Event cancelled",
        ATTENDED: "Attended", NO_SHOW: "No-show", ATTENDANCE_UNSPECIFIED: "" },
});
window.SMZ_EVENT_TYPES = ["BRIEFING_SESSION", "FAM_TOUR", "TRAINING", "COUNCIL_MEETING", "WORKING_GROUP_MEETING",
  "PROMOTION_BOOTH", "FORUM", "EXPO", "MOU_SIGNING", "BUSINESS_MEETING", "DELEGATION_VISIT", "PROMOTION_EVENT", "OTHER"];
// Where the zone's events take place, for the time-zone choice.
window.SMZ_EVENT_ZONES = ["Asia/Seoul", "Asia/Ulaanbaatar", "Asia/Ho_Chi_Minh", "Asia/Shanghai", "Asia/Almaty",
  "Asia/Tashkent", "Asia/Vladivostok", "Europe/Moscow", "Asia/Tokyo", "Asia/Bangkok", "UTC"];
// The state's badge colour (the report badges' classes).
window.SMZ_EVENT_BADGE = { DRAFT: "draft", PUBLISHED: "submitted", COMPLETED: "accepted", CANCELLED: "overdue",
  POSTPONED: "late", CONFIRMED: "accepted", WAITLISTED: "late", CANCELLED_BY_REGISTRANT: "locked",
  CANCELLED_WITH_EVENT: "locked" };
