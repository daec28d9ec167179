// The 12345 operator's call form: the desk previews category, unit, answers and duplicates.
import { currentUser, get, post, type CaseOut } from "../api";
import { h, nextId } from "../dom";
import { t, word, type Key } from "../i18n";
import { go } from "../main";
import { addAreas, cityMap, Marker } from "../map";
import { clearProblems, field, generalErrors, showProblems } from "./admin_forms";

interface Preview {
  model_available: boolean;
  suggestions: { label: string; confidence: number }[];
  category_code: string | null;
  route: { department_code: string; explanation: string } | null;
  answers: { id: number; question: string; answer: string }[];
  duplicates: { case_id: number; distance_m: number; similarity: number }[];
  notes: string[];
}

interface CallResult {
  outcome: string;
  case_id: number | null;
  case_number: string | null;
  case_status: string | null;
}

const NATURES: Key[] = ["n_complaint", "n_report", "n_help", "n_consultation", "n_suggestion", "n_thanks"];

// The call being typed, kept for this tab only (it holds the caller's name and phone): a
// language switch draws the page again, and the operator must not lose the call to it.
const DRAFT = "onegrid.draft.hotline";

/** The numbers of the possible duplicates, which the operator reads out to the caller (the
 * preview names cases by id); a case this user may not read keeps its id. */
async function caseNumbers(ids: number[]): Promise<Map<number, string>> {
  const found = await Promise.all(ids.map((id) => get<CaseOut>(`/api/v1/cases/${id}`).then((c) => [id, c.number] as const, () => null)));
  return new Map(found.filter((f): f is readonly [number, string] => f !== null));
}

export async function hotlinePage(main: HTMLElement): Promise<void> {
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fhotline");
  if (!user.actions.includes("hotline.intake")) {
    main.append(h("p", { class: "error" }, t("not_allowed")));
    return;
  }
  const nature = h("select", { id: nextId("nature"), name: "nature" },
    NATURES.map((k) => h("option", { value: k.slice(2) }, t(k))));
  const text = h("textarea", { id: nextId("text"), name: "text", rows: 4, maxlength: 20000, required: true });
  const name = h("input", { id: nextId("caller"), name: "caller_name", autocomplete: "off" });
  const phone = h("input", { id: nextId("phone"), name: "caller_phone", inputmode: "tel", autocomplete: "off" });
  const address = h("input", { id: nextId("addr"), name: "address" });
  const addressId = h("input", { id: nextId("addrid"), name: "address_id", maxlength: 64, autocomplete: "off" });
  const lon = h("input", { id: nextId("lon"), name: "lon", inputmode: "decimal" });
  const lat = h("input", { id: nextId("lat"), name: "lat", inputmode: "decimal" });
  const category = h("input", { id: nextId("cat"), name: "category_code", maxlength: 16 });
  const department = h("input", { id: nextId("dept"), name: "department_code", maxlength: 32 });
  const mapBox = h("div", { class: "map small", id: "hotline-map" });
  const desk = h("section", { "aria-labelledby": "desk-h", id: "desk", "aria-live": "polite" }, h("h2", { id: "desk-h" }, t("desk")));
  const status = h("div", { role: "status", class: "result" });
  const error = generalErrors("hotline-errors");
  // Each field with its error line: the server's problems are shown next to what they name.
  const fields = [
    field("nature", t("nature"), nature),
    field("text", t("call_text"), text),
    field("caller_name", t("caller_name"), name),
    field("caller_phone", t("caller_phone"), phone),
    field("address", t("address"), address),
    field("address_id", t("address_id"), addressId, t("address_id_hint")),
    field("lon", t("lon"), lon),
    field("lat", t("lat"), lat),
    field("category_code", t("category"), category),
    field("department_code", t("department"), department),
  ];
  const row = (n: string): HTMLElement => fields.find((f) => f.name === n)!.row;
  const fText = fields[1];
  /** The call's text is the one thing the desk needs: said at once, next to it. */
  const needText = (): boolean => {
    clearProblems(fields, error);
    if (text.value.trim()) return true;
    fText.error.textContent = t("description_required");
    text.setAttribute("aria-invalid", "true");
    text.focus();
    return false;
  };
  let answerId: number | null = null;
  const kept = [nature, text, name, phone, address, addressId, lon, lat, category, department];
  const saved = JSON.parse(sessionStorage.getItem(DRAFT) ?? "{}") as Record<string, string>;
  for (const el of kept) {
    if (typeof saved[el.name] === "string") el.value = saved[el.name];
    el.addEventListener("input", () => saveDraft());
    el.addEventListener("change", () => saveDraft());
  }
  function saveDraft(): void {
    sessionStorage.setItem(DRAFT, JSON.stringify(Object.fromEntries(kept.map((el) => [el.name, el.value]))));
  }
  /** A coordinate that is no number is named at its own field (the server would be told "none"
   * and answer that both or neither are needed). */
  const needNumbers = (): boolean => {
    let ok = true;
    for (const [el, f] of [[lon, fields[6]], [lat, fields[7]]] as const) {
      if (el.value.trim() && !Number.isFinite(Number(el.value.trim()))) {
        f.error.textContent = t("number_invalid");
        el.setAttribute("aria-invalid", "true");
        if (ok) el.focus();
        ok = false;
      }
    }
    return ok;
  };

  const body = (): Record<string, unknown> => {
    const b: Record<string, unknown> = { nature: nature.value, text: text.value.trim(), address: address.value.trim() };
    if (name.value.trim()) b.caller_name = name.value.trim();
    if (phone.value.trim()) b.caller_phone = phone.value.trim();
    // One coordinate alone is sent: the server says both or neither are needed, at that field.
    if (lon.value.trim()) b.lon = Number(lon.value.trim());
    if (lat.value.trim()) b.lat = Number(lat.value.trim());
    // Sent as typed, beside a point too: the server refuses two places and says so at this field.
    if (addressId.value.trim()) b.address_id = addressId.value.trim();
    if (category.value.trim()) b.category_code = category.value.trim();
    if (department.value.trim()) b.department_code = department.value.trim();
    if (answerId !== null) b.answer_id = answerId;
    return b;
  };

  const previewBtn = h("button", { type: "button", class: "secondary", id: "preview" }, t("preview"));
  previewBtn.addEventListener("click", async () => {
    if (!needText() || !needNumbers()) return;
    try {
      const p = await post<Preview>("/api/v1/hotline/preview", body());
      const numbers = await caseNumbers(p.duplicates.map((d) => d.case_id));
      if (p.category_code && !category.value) category.value = p.category_code;
      if (p.route && !department.value) department.value = p.route.department_code;
      desk.replaceChildren(
        h("h2", { id: "desk-h" }, t("desk")),
        h("h3", {}, t("category_suggested")),
        p.suggestions.length
          ? h("ul", {}, p.suggestions.map((s) => h("li", {}, `${s.label} (${Math.round(s.confidence * 100)}%)`)))
          : h("p", {}, t("none")),
        h("h3", {}, t("routing")),
        h("p", { id: "desk-route" }, p.route ? `${p.route.department_code}: ${p.route.explanation}` : t("none")),
        h("h3", {}, t("answers")),
        p.answers.length
          ? h("ul", {}, p.answers.map((a) => {
              const id = nextId("answer");
              const radio = h("input", { type: "radio", name: "answer", id, value: a.id });
              radio.addEventListener("change", () => (answerId = a.id));
              return h("li", { class: "check" }, radio, h("label", { for: id }, `${a.question} — ${a.answer}`));
            }))
          : h("p", {}, t("none")),
        h("h3", {}, t("duplicates")),
        p.duplicates.length
          ? h("ul", {}, p.duplicates.map((d) => h("li", {}, h("a", { href: `#/case/${d.case_id}`, class: "duplicate" }, numbers.get(d.case_id) ?? `#${d.case_id}`), ` ${Math.round(d.distance_m)} m`)))
          : h("p", {}, t("none")),
        ...p.notes.map((n) => h("p", { class: "hint" }, n)),
      );
    } catch (err) {
      showProblems(err, fields, error);
    }
  });

  const form = h("form", { novalidate: true, class: "report" },
    row("nature"), row("text"),
    h("div", { class: "row" }, row("caller_name"), row("caller_phone")),
    row("address"), mapBox,
    h("div", { class: "row" }, row("lon"), row("lat")),
    row("address_id"),
    h("div", { class: "row" }, row("category_code"), row("department_code")),
    h("div", { class: "row" }, previewBtn, h("button", { type: "submit" }, t("record_call"))),
    error, status);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!needText() || !needNumbers()) return;
    try {
      const r = await post<CallResult>("/api/v1/hotline/calls", body());
      sessionStorage.removeItem(DRAFT); // recorded: the next call starts blank
      status.replaceChildren(
        h("p", { id: "call-outcome", "data-outcome": r.outcome }, `${t("outcome")}: ${word("o_", r.outcome)} `,
          r.case_id ? h("a", { href: `#/case/${r.case_id}`, id: "call-case" }, r.case_number ?? `#${r.case_id}`) : "",
          r.case_status ? ` · ${word("s_", r.case_status)}` : ""),
      );
    } catch (err) {
      showProblems(err, fields, error);
    }
  });
  main.append(h("h1", {}, t("hotline_title")), h("div", { class: "hotline" }, form, desk));

  const map = await cityMap(mapBox);
  await addAreas(map, "district", true);
  const marker = new Marker({ color: "#b00020" });
  map.on("click", (e) => {
    lon.value = e.lngLat.lng.toFixed(6);
    lat.value = e.lngLat.lat.toFixed(6);
    marker.setLngLat(e.lngLat).addTo(map);
    saveDraft();
  });
}
