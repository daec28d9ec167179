import { ApiError, call, callFull, currentUser, get, webConfig, type CaseOut, type Category } from "../api";
import { h, nextId } from "../dom";
import { currentLang, fmtBytes, t, type Key } from "../i18n";
import { addAreas, cityMap, Marker } from "../map";

const DRAFT = "onegrid.draft.report";
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];

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
    for (const f of Array.from(photos.files ?? [])) {
      if (f.size > cfg.max_upload_bytes) return mark(fPhotos, photos, t("photo_too_large", { max: fmtBytes(cfg.max_upload_bytes) }));
      if (!IMAGE_TYPES.includes(f.type)) return mark(fPhotos, photos, t("photo_type"));
    }
    return mark(fPhotos, photos, "");
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
    try {
      const reply = await callFull<CaseOut>("POST", "/api/v1/cases", {
        category_code: picked,
        channel: "web_app",
        description: description.value.trim(),
        lon: Number(lon.value),
        lat: Number(lat.value),
        address: address.value.trim(),
      });
      const created = reply.body;
      // The server screens a web report against open cases nearby; the numbers it names are
      // other reporters' cases, so the citizen is told only that one exists.
      const similar = (reply.headers.get("Possible-Duplicate-Of") ?? "").split(",").map((n) => n.trim()).filter(Boolean);
      for (const file of Array.from(photos.files ?? [])) {
        const body = new FormData();
        body.append("file", file);
        await call("POST", `/api/v1/cases/${created.id}/attachments`, body);
      }
      localStorage.removeItem(DRAFT);
      status.replaceChildren(
        h("p", {}, t("report_done"), " ", h("strong", { id: "case-number" }, created.number)),
        ...(similar.length ? [h("p", { class: "notice", id: "possible-duplicate" }, t("report_similar"))] : []),
        h("a", { href: `#/case/${created.id}` }, t("follow_case")),
      );
      form.querySelectorAll("input, textarea, select").forEach((el) => ((el as HTMLInputElement).disabled = true));
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
          if (target) mark(target[0], target[1], p.message);
          else status.append(h("p", { class: "error" }, p.message));
        }
      } else if (!(err instanceof ApiError && err.status === 401)) {
        status.append(h("p", { class: "error", role: "alert" }, String(err)));
      }
    }
  });
}

function mark(f: { error: HTMLElement }, control: HTMLElement, message: string): boolean {
  f.error.textContent = message;
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
  return !message;
}
