// The district's partner directory (partners.html): ListPartners with
// filters, page by page; ListExpiring for the terms and registrations that
// run out within 90 days (or have); CreatePartner.
"use strict";
const w = SMZ.words({
  ko: { title: "기관 관리", list_title: "기관", kind: "구분", status: "지정 상태", region: "권역", order: "정렬",
        by_name: "이름순", by_update: "최근 변경순", by_id: "등록순", any: "전부", more: "더 보기",
        name: "기관명", term: "지정 만료", registration: "유치기관 등록 만료", updated: "최근 변경", contacts: "담당자",
        count: "{n}곳", create_title: "기관 등록", business_type: "업종", name_ko: "기관명 (한국어)",
        name_en: "기관명 (영어)", address: "주소", create: "등록",
        create_help: "등록한 기관은 '지정 전' 상태입니다. 기관 페이지에서 지정하고 담당자를 넣으세요.",
        expiring_title: "90일 안에 끝나는 지정·등록", DESIGNATION_TERM: "지정 기간", ATTRACTION_REGISTRATION: "유치기관 등록",
        days_left: "{n}일 남음", overdue: "{n}일 지남",
        LODGING: "숙박", RESTAURANT: "음식점", INTERPRETATION: "통역", TRANSPORT: "교통", OTHER_BUSINESS: "기타" },
  en: { title: "Partners", list_title: "Partners", kind: "Kind", status: "Designation", region: "Region", order: "Order",
        by_name: "By name", by_update: "Recently changed", by_id: "As registered", any: "Any", more: "More",
        name: "Name", term: "Term ends", registration: "Registration expires", updated: "Last change", contacts: "Contacts",
        count: "{n} partners", create_title: "Register a partner", business_type: "Business type", name_ko: "Name (Korean)",
        name_en: "Name (English)", address: "Address", create: "Register",
        create_help: "A new partner is not yet designated: designate it and add its contacts on its page.",
        expiring_title: "Terms and registrations ending within 90 days", DESIGNATION_TERM: "Designation term",
        ATTRACTION_REGISTRATION: "Attraction registration", days_left: "{n} days left", overdue: "{n} days ago",
        LODGING: "Lodging", RESTAURANT: "Restaurant", INTERPRETATION: "Interpretation", TRANSPORT: "Transport", OTHER_BUSINESS: "Other" },
});
const el = SMZ.el;
const fill = SMZ.fill;
const pw = SMZ.partnerWords;
const $ = (id) => document.getElementById(id);
const KINDS = ["SPECIALIZED_OPERATOR", "COOPERATING_INSTITUTION", "ATTRACTION_AGENCY", "LINKED_BUSINESS"];
const STATUSES = ["PENDING", "ACTIVE", "SUSPENDED", "REVOKED"];
const REGIONS = ["YEONGDEUNGPO", "YEOUIDO", "DAERIM"];
const BUSINESSES = ["LODGING", "RESTAURANT", "INTERPRETATION", "TRANSPORT", "OTHER_BUSINESS"];
const state = { token: "", listed: 0 };
const createKey = SMZ.retryKey("partner");

function options(select, values, label, anyLabel) {
  select.replaceChildren(...(anyLabel !== undefined ? [el("option", { value: "" }, anyLabel)] : []),
                         ...values.map((v) => el("option", { value: v }, label(v))));
}
const profileLink = (id, name) => el("a", { href: "/hospital/profile?partner=" + id }, name);

async function list(fresh) {
  if (fresh) state.token = "";
  // Only the newest listing is shown: an answer to an older filter (or a
  // second click on "more") that arrives late is dropped.
  const asked = ++state.listed;
  try {
    const args = { page_size: 100, page_token: state.token, order_by: $("order").value };
    for (const [key, id] of [["kind", "filter-kind"], ["status", "filter-status"], ["region", "filter-region"]]) {
      if ($(id).value) args[key] = $(id).value;
    }
    const answer = await SMZ.get("/v1/partners", args);
    if (asked !== state.listed) return;
    const table = $("partners");
    if (fresh || !table.tBodies.length) {
      table.replaceChildren(el("thead", {}, el("tr", {}, ...["name", "kind", "region", "status", "term", "registration", "contacts", "updated"]
          .map((k) => el("th", { scope: "col" }, w(k))))), el("tbody"));
    }
    for (const p of answer.partners || []) {
      const contact = (p.contacts || [])[0];
      table.tBodies[0].append(el("tr", { "data-partner": p.id, "data-status": p.status },
          el("th", { scope: "row" }, profileLink(p.id, SMZ.text(p.name))), el("td", {}, pw(p.kind)),
          el("td", {}, pw(p.region || "ZONE_REGION_UNSPECIFIED")),
          el("td", {}, SMZ.partnerBadge(p.status)),
          el("td", {}, p.designation_term_ends_on || ""), el("td", {}, p.registration_expires_on || ""),
          el("td", {}, contact ? [contact.name, contact.phone || contact.email].filter(Boolean).join(" · ") : ""),
          el("td", {}, SMZ.seoul(p.update_time, true))));
    }
    $("count").textContent = fill(w("count"), { n: SMZ.group(answer.total_size) });
    state.token = answer.next_page_token || "";
    $("more").hidden = !state.token;
    $("failure").textContent = "";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.message;
  }
}

async function expiring() {
  try {
    const answer = await SMZ.get("/v1/partners:listExpiring", { within_days: 90, include_overdue: true, page_size: 50 });
    const items = answer.items || [];
    $("expiring").hidden = !items.length;
    if (!items.length) return;
    $("expiring").replaceChildren(el("h2", {}, w("expiring_title")), el("ul", {}, ...items.map((item) =>
        el("li", { "data-expiring": item.partner_id }, profileLink(item.partner_id, SMZ.text(item.partner_name)), " · ",
           w(item.kind), " · ", item.ends_on, " (",
           fill(w(item.days_left < 0 ? "overdue" : "days_left"), { n: Math.abs(item.days_left) }), ")"))));
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
  }
}

async function create() {
  const kind = $("new-kind").value;
  const name = { ko: $("new-name-ko").value.trim() };
  if ($("new-name-en").value.trim()) name.en = $("new-name-en").value.trim();
  const partner = { kind, name, region: $("new-region").value || "ZONE_REGION_UNSPECIFIED", address: $("new-address").value.trim() };
  if (kind === "LINKED_BUSINESS") partner.linked_business_type = $("new-business").value;
  $("create-problems").textContent = "";
  try {
    const answer = await SMZ.post("/v1/partners", { partner, request_id: createKey.idFor(partner) });
    createKey.settle();
    location.assign("/hospital/profile?partner=" + answer.id);
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    createKey.settle(e);
    SMZ.showRefusal($("create"), e, $("create-problems"));
  }
}

(async () => {
  await SMZ.start(w("title"), () => location.reload());
  SMZ.translate(w);
  options($("filter-kind"), KINDS, pw, w("any"));
  options($("filter-status"), STATUSES, pw, w("any"));
  options($("filter-region"), REGIONS, pw, w("any"));
  options($("new-kind"), KINDS, pw);
  options($("new-region"), REGIONS, pw, "-");
  options($("new-business"), BUSINESSES, w);
  const showBusiness = () => { $("new-business-label").hidden = $("new-kind").value !== "LINKED_BUSINESS"; };
  $("new-kind").addEventListener("change", showBusiness);
  showBusiness();
  for (const id of ["filter-kind", "filter-status", "filter-region", "order"]) $(id).addEventListener("change", () => list(true));
  $("more").addEventListener("click", () => list(false));
  $("create").addEventListener("submit", (event) => { event.preventDefault(); create(); });
  expiring();
  list(true);
})();
