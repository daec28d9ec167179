// Following a request by its number, for anyone: a reporter without an account has only the
// number the report page gave them. Read from Open311's public GET (GeoReport v2 never returns
// the reporter's name or phone); a signed-in reporter still has the full case page.
import { ApiError, get } from "../api";
import { h, nextId } from "../dom";
import { fmtDate, t, word } from "../i18n";
import { go, type Route } from "../main";
import { categoryLabel, errorText, loadCategoryNames } from "./parts";

/** The fields of a GeoReport v2 service request this page shows. */
interface Request311 {
  service_request_id: string;
  status: "open" | "closed";
  status_notes: string | null;
  service_code: string;
  updated_datetime: string | null;
  requested_datetime: string;
  address: string | null;
  lat: number | null;
  long: number | null;
}

/** The address given, else the point (a report pinned on the map may have no address). */
function placeOf(r: Request311): string {
  if (r.address) return r.address;
  if (r.lat !== null && r.long !== null) return `${r.long.toFixed(5)}, ${r.lat.toFixed(5)}`;
  return t("none");
}

export async function trackPage(main: HTMLElement, route: Route): Promise<void> {
  const number = decodeURIComponent(route.path.split("/")[2] ?? "").trim();
  main.append(h("h1", {}, t("track_title")));
  main.append(lookupForm(number));
  if (!number) return;
  const result = h("section", { id: "track-result", "aria-live": "polite", "aria-label": `${t("track_title")} ${number}` });
  main.append(result);
  try {
    const [found] = await Promise.all([
      get<Request311[]>(`/open311/v2/requests/${encodeURIComponent(number)}.json`),
      loadCategoryNames(),
    ]);
    const r = found[0];
    if (!r) throw new ApiError(404, "", "", []);
    result.append(
      h("h2", {}, `${t("case_title")} `, h("span", { id: "track-number" }, r.service_request_id)),
      h("dl", { class: "facts" },
        h("dt", {}, t("status")),
        h("dd", { id: "track-status", "data-status": r.status }, word("", r.status)),
        h("dt", {}, t("track_updated")),
        h("dd", {}, h("time", { id: "track-updated", datetime: r.updated_datetime ?? r.requested_datetime }, fmtDate(r.updated_datetime ?? r.requested_datetime))),
        h("dt", {}, t("track_notes")),
        h("dd", { id: "track-notes" }, r.status_notes || t("none")),
        h("dt", {}, t("category")),
        h("dd", { id: "track-category" }, categoryLabel(r.service_code)),
        h("dt", {}, t("location")),
        h("dd", { id: "track-address" }, placeOf(r)),
        h("dt", {}, t("created")),
        h("dd", {}, fmtDate(r.requested_datetime)),
      ),
    );
  } catch (err) {
    const text = err instanceof ApiError && err.status === 404 ? t("track_not_found", { number }) : errorText(err);
    result.append(h("p", { class: "error", role: "alert", id: "track-error" }, text));
  }
}

function lookupForm(number: string): HTMLElement {
  const id = nextId("track-number");
  const input = h("input", { id, name: "number", value: number, autocomplete: "off", required: true, "aria-describedby": `${id}-hint` });
  const form = h("form", { class: "narrow", role: "search" },
    h("label", { for: id }, t("track_number")), input,
    h("p", { class: "hint", id: `${id}-hint` }, t("track_hint")),
    h("button", { type: "submit" }, t("track_go")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const wanted = input.value.trim();
    if (wanted) go(`#/track/${encodeURIComponent(wanted)}`);
  });
  return form;
}
