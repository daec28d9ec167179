import { ApiError, call, callFull, currentUser, get, webConfig, type CaseOut, type Category } from "../api";
import { h, nextId } from "../dom";
import { currentLang, t, type Key } from "../i18n";
import { addAreas, cityMap, Marker } from "../map";
import { IMAGE_TYPES, photoProblem, problemText } from "./parts";

const DRAFT = "onegrid.draft.report";

interface Draft {
  category: string;
  description: string;
  lon: string;
  lat: string;
  address: string;
}

function field(label: string, control: HTMLElement, extra?: HTMLElement | null): {
  wrap: HTMLElement;
  error: HTMLElement;
} {
  const errId = nextId("err");
  const error = h("p", { id: errId, class: "field-error", "aria-live": "polite" });
  control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), errId].filter(Boolean).join(" "));
  const wrap = h("div", { class: "field" }, h("label", { for: control.id }, label), extra ?? null, control, error);
  return { wrap, error };
}

function catName(c: Category): string {
  return currentLang() === "zh"
    ? `${c.code} ${c.major_name_zh} / ${c.name_zh}`
    : `${c.code} ${c.major_name_en} / ${c.name_en}`;
}

/** The category whose keywords and names the description mentions most. */
export function suggest(cats: Category[], text: string): Category | null {
  const lower = text.toLowerCase();
  let best: Category | null = null;
  let score = 0;
  for (const c of cats) {
    let s = 0;
    for (const w of [...c.keywords.zh, ...c.keywords.en, c.name_zh, c.name_en.toLowerCase()]) {
      if (w && w.length > 1 && lower.includes(w.toLowerCase())) s += w.length;
    }
    if (s > score) {
      score = s;
      best = c;
    }
  }
  return best;
}

export async function reportPage(main: HTMLElement): Promise<void> {
  const [user, cfg, cats] = await Promise.all([
    currentUser(),
    webConfig(),
    get<Category[]>("/api/v1/categories?kind=event"),
  ]);
  const saved: Partial<Draft> = JSON.parse(localStorage.getItem(DRAFT) ?? "{}") as Partial<Draft>;

  main.append(h("h1", {}, t("report_title")));
  if (!user) {
    main.append(
      h("p", { class: "notice" }, h("a", { href: "#/login?next=%23%2Freport" }, t("sign_in")), " — ", t("home_citizen")),
    );
  }

  const search = h("input", { id: nextId("cat-search"), type: "search", autocomplete: "off" });
  const select = h("select", { id: nextId("category"), name: "category", size: 6, required: true });
  const suggestion = h("p", { class: "hint", "aria-live": "polite" });
  let picked = saved.category ?? "";
  let chosenByUser = !!picked;
  const fill = (): void => {
    const q = search.value.trim().toLowerCase();
    const shown = cats.filter(
      (c) =>
        !q ||
        catName(c).toLowerCase().includes(q) ||
        c.keywords.zh.some((k) => k.includes(q)) ||
        c.keywords.en.some((k) => k.toLowerCase().includes(q)),
    );
    select.replaceChildren(
      ...shown.slice(0, 200).map((c) => h("option", { value: c.code, selected: c.code === picked }, catName(c))),
    );
  };
  fill();
  search.addEventListener("input", fill);
  select.addEventListener("change", () => {
    picked = select.value;
    chosenByUser = true;
    saveDraft();
  });

  const description = h("textarea", { id: nextId("description"), name: "description", rows: 4, maxlength: 4000, required: true });
  description.value = saved.description ?? "";
  description.addEventListener("input", () => {
    if (!chosenByUser) {
      const best = suggest(cats, description.value);
      if (best) {
        picked = best.code;
        fill();
        suggestion.textContent = `${t("category_suggested")}: ${catName(best)}`;
      }
    }
    saveDraft();
  });

  const lon = h("input", { id: nextId("lon"), name: "lon", inputmode: "decimal", required: true });
  const lat = h("input", { id: nextId("lat"), name: "lat", inputmode: "decimal", required: true });
  lon.value = saved.lon ?? "";
  lat.value = saved.lat ?? "";
  const address = h("input", { id: nextId("address"), name: "address", maxlength: 500 });
  address.value = saved.address ?? "";
  const photos = h("input", { id: nextId("photos"), name: "photos", type: "file", accept: IMAGE_TYPES.join(","), multiple: true });

  const mapBox = h("div", { class: "map small", id: "report-map" });
  const locate = h("button", { type: "button", class: "secondary" }, t("use_my_location"));

  const fCat = field(t("category"), select, h("div", {}, h("label", { for: search.id, class: "sub" }, t("category_search")), search, suggestion));
  const fDesc = field(t("description"), description);
  const fLon = field(t("lon"), lon);
  const fLat = field(t("lat"), lat);
  const fAddr = field(t("address"), address);
  const fPhotos = field(t("photos"), photos);
  const status = h("div", { role: "status", class: "result" });
  const submit = h("button", { type: "submit" }, t("submit_report"));

  const form = h(
    "form",
    { novalidate: true, class: "report" },
    fDesc.wrap,
    fCat.wrap,
    h(
      "fieldset",
      {},
      h("legend", {}, t("location")),
      h("p", { class: "hint" }, t("location_hint")),
      mapBox,
      h("div", { class: "row" }, fLon.wrap, fLat.wrap, locate),
      fAddr.wrap,
    ),
    fPhotos.wrap,
    submit,
    status,
  );
  main.append(form);

  function saveDraft(): void {
    const d: Draft = { category: picked, description: description.value, lon: lon.value, lat: lat.value, address: address.value };
    localStorage.setItem(DRAFT, JSON.stringify(d));
  }
  for (const el of [lon, lat, address]) el.addEventListener("input", saveDraft);

  // The map: click to pin; the inputs and the pin follow each other.
  const map = await cityMap(mapBox);
  await addAreas(map, "district", true);
  const marker = new Marker({ color: "#b00020" });
  const place = (x: number, y: number, move = false): void => {
    marker.setLngLat([x, y]).addTo(map);
    if (move) map.easeTo({ center: [x, y] });
  };
  if (lon.value && lat.value) place(Number(lon.value), Number(lat.value), true);
  map.on("click", (e) => {
    lon.value = e.lngLat.lng.toFixed(6);
    lat.value = e.lngLat.lat.toFixed(6);
    place(e.lngLat.lng, e.lngLat.lat);
    saveDraft();
  });
  const fromInputs = (): void => {
    const x = Number(lon.value);
    const y = Number(lat.value);
    if (lon.value && lat.value && Number.isFinite(x) && Number.isFinite(y)) place(x, y, true);
  };
  lon.addEventListener("change", fromInputs);
  lat.addEventListener("change", fromInputs);
  // Fitted to the city and listening for a pin: what a test (or a slow phone) waits for.
  mapBox.dataset.ready = "true";
  locate.addEventListener("click", () => {
    navigator.geolocation?.getCurrentPosition((p) => {
      lon.value = p.coords.longitude.toFixed(6);
      lat.value = p.coords.latitude.toFixed(6);
      fromInputs();
      saveDraft();
    });
  });

  photos.addEventListener("change", () => checkPhotos());
  function checkPhotos(): boolean {
    // A reporter without an account sends photos under the create reply's grant, which takes five.
    const tooMany = !user && (photos.files?.length ?? 0) > GRANT_PHOTOS ? t("photo_count", { n: String(GRANT_PHOTOS) }) : "";
    return mark(fPhotos, photos, photoProblem(photos, cfg.max_upload_bytes) || tooMany);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const checks: [boolean, { error: HTMLElement }, HTMLElement, Key][] = [
      [!!picked, fCat, select, "category_required"],
      [description.value.trim().length >= 5, fDesc, description, "description_required"],
      [!!lon.value && Number.isFinite(Number(lon.value)), fLon, lon, "location_required"],
      [!!lat.value && Number.isFinite(Number(lat.value)), fLat, lat, "location_required"],
    ];
    let ok = checkPhotos();
    for (const [good, f, control, key] of checks) ok = mark(f, control, good ? "" : t(key)) && ok;
    if (!ok) {
      (form.querySelector("[aria-invalid=true]") as HTMLElement | null)?.focus();
      return;
    }
    submit.disabled = true;
    status.textContent = t("submitting");
    const files = Array.from(photos.files ?? []);
    try {
      const payload = {
        category_code: picked,
        // An inspector's report from the street is the grid's own (巡查上报), not a citizen's.
        channel: user?.grants.some((g) => g.role === "inspector") ? "inspector" : "web_app",
        description: description.value.trim(),
        lon: Number(lon.value),
        lat: Number(lat.value),
        address: address.value.trim(),
      };
      const reply = await callFull<CaseOut>("POST", "/api/v1/cases", payload, {
        headers: { "Idempotency-Key": retryKey(payload) },
      });
      const created = reply.body;
      // The server screens a web report against open cases nearby; the numbers it names are
      // other reporters' cases, so the citizen is told only that one exists.
      const similar = (reply.headers.get("Possible-Duplicate-Of") ?? "").split(",").map((n) => n.trim()).filter(Boolean);
      // The case exists from here on: its number is shown whatever becomes of the photos, and
      // the form is closed, so that sending it again cannot report the problem twice.
      localStorage.removeItem(DRAFT);
      form.querySelectorAll("input, textarea, select").forEach((el) => ((el as HTMLInputElement).disabled = true));
      status.replaceChildren(
        h("p", {}, t("report_done"), " ", h("strong", { id: "case-number" }, created.number)),
        ...(similar.length ? [h("p", { class: "notice", id: "possible-duplicate" }, t("report_similar"))] : []),
        // Without an account the case page is closed to them: the public view by number is not.
        h("a", { href: user ? `#/case/${created.id}` : `#/track/${encodeURIComponent(created.number)}`, id: "follow-case" }, t("follow_case")),
      );
      const failed = await sendPhotos(created.id, files, reply.headers.get("Upload-Token"));
      if (failed.length) {
        status.append(h("p", { class: "error", role: "alert", id: "photos-failed" }, t("photos_failed", { n: String(failed.length) }), " ", failed.join(" ")));
      }
      status.dataset.photos = failed.length ? "failed" : "sent";
    } catch (err) {
      submit.disabled = false;
      status.textContent = "";
      if (err instanceof ApiError && err.problems.length) {
        const byField: Record<string, [{ error: HTMLElement }, HTMLElement]> = {
          category_code: [fCat, select],
          description: [fDesc, description],
          lon: [fLon, lon],
          lat: [fLat, lat],
          address: [fAddr, address],
          file: [fPhotos, photos],
        };
        for (const p of err.problems) {
          const target = byField[p.field.replace(/^body\./, "")] ?? null;
          if (target) mark(target[0], target[1], problemText(p));
          else status.append(h("p", { class: "error" }, problemText(p)));
        }
      } else if (!(err instanceof ApiError && err.status === 401)) {
        status.append(h("p", { class: "error", role: "alert" }, String(err)));
      }
    }
  });
}

const GRANT_PHOTOS = 5;

// One key per report as sent: a retry after a lost reply returns the case already made instead
// of a second one, and a report changed since is a new one.
let attempt: { body: string; key: string } | null = null;

function retryKey(payload: unknown): string {
  const body = JSON.stringify(payload);
  if (attempt?.body !== body) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    attempt = { body, key: Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("") };
  }
  return attempt.key;
}

/** Each photo in its own request; the messages of those refused (the case stands either way).
 * ``grant`` is the create reply's Upload-Token, sent by a reporter who is not signed in. */
async function sendPhotos(caseId: number, files: File[], grant: string | null): Promise<string[]> {
  const failed: string[] = [];
  for (const file of files) {
    const body = new FormData();
    body.append("file", file);
    try {
      await call("POST", `/api/v1/cases/${caseId}/attachments`, body, { headers: grant ? { "Upload-Token": grant } : {} });
    } catch (err) {
      failed.push(`${file.name}: ${err instanceof ApiError && err.problems.length ? problemText(err.problems[0]) : String(err)}`);
    }
  }
  return failed;
}

function mark(f: { error: HTMLElement }, control: HTMLElement, message: string): boolean {
  f.error.textContent = message;
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
  return !message;
}
