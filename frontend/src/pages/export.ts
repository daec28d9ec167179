// The command centre's case export: the lake's cases of a period as a file (CSV, Parquet or
// GeoJSON), as far as the user's grants reach; the server narrows the rows, the form only asks.
import { ApiError, download, type Me } from "../api";
import { h } from "../dom";
import { cityToday, currentLang, t } from "../i18n";
import { clearProblems, field, generalErrors, required, showProblems } from "./admin_forms";

const FORMATS = ["csv", "parquet", "geojson"] as const;

/** The last full month before ``today`` (YYYY-MM-DD): its first and last day. */
export function lastFullMonth(today: string): [string, string] {
  const [y, m] = today.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 2, 1));
  const last = new Date(Date.UTC(y, m - 1, 0));
  return [first.toISOString().slice(0, 10), last.toISOString().slice(0, 10)];
}

/** Districts and subdistricts the user's grants lie over: all of them for a city or department
 * grant (a department's cases may be anywhere), else those a grant's area is or holds. The
 * list only helps to choose; what a file holds is still the server's decision. */
function visible(user: Me, features: GeoJSON.Feature[]): GeoJSON.Feature[] {
  const areas = user.grants.map((g) => g.scope);
  if (areas.some((s) => s === "city" || s.startsWith("dept:"))) return features;
  const mine = new Set(areas);
  return features.filter((f) => mine.has(String(f.properties?.code)) || mine.has(String(f.properties?.parent_code)));
}

function areaOptions(user: Me, level: string, doc: GeoJSON.FeatureCollection | null): HTMLElement | null {
  const rows = visible(user, doc?.features ?? []);
  if (!rows.length) return null;
  const name = (p: GeoJSON.GeoJsonProperties): string =>
    (currentLang() === "zh" ? p?.name_zh : p?.name_en || p?.name_zh) || String(p?.code);
  return h("optgroup", { label: t(level === "district" ? "unit_district" : "unit_subdistrict") },
    rows.map((f) => h("option", { value: String(f.properties?.code) }, `${name(f.properties)} (${String(f.properties?.code)})`)));
}

/** Save ``blob`` under ``filename`` the way a link to it would. */
function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // the browser may still be reading it
}

/** The export form; ``areas`` gives a level's boundaries (the map's own copy). */
export function exportForm(user: Me, areas: (level: string) => Promise<GeoJSON.FeatureCollection>): HTMLElement {
  const [first, last] = lastFullMonth(cityToday());
  const start = field("start", t("export_start"), h("input", { type: "date", id: "export-start", value: first, required: true }));
  const end = field("end", t("export_end"), h("input", { type: "date", id: "export-end", value: last, required: true }));
  const format = field("format", t("export_format"),
    h("select", { id: "export-format" }, FORMATS.map((f) => h("option", { value: f }, t(`export_${f}`)))));
  const area = h("select", { id: "export-area" }, h("option", { value: "" }, t("export_area_all")));
  const where = field("area", t("export_area"), area);
  const fields = [start, end, format, where];
  const general = generalErrors("export-error");
  const done = h("p", { class: "hint", id: "export-done", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, t("export_download"));
  const form = h("form", { id: "export-cases", class: "rates-controls", novalidate: true },
    fields.map((f) => f.row), button);
  void Promise.all(["district", "subdistrict"].map((level) => areas(level).catch(() => null))).then((docs) => {
    docs.forEach((doc, i) => {
      const group = areaOptions(user, i === 0 ? "district" : "subdistrict", doc);
      if (group) area.append(group);
    });
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void (async () => {
      clearProblems(fields, general);
      done.textContent = "";
      if (!required([start, end])) return;
      const q = new URLSearchParams({ start: start.el.value, end: end.el.value, format: format.el.value });
      if (area.value) q.set("area", area.value);
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      try {
        const { blob, filename } = await download(`/api/v1/analytics/exports/cases?${q}`);
        save(blob, filename);
        done.textContent = t("export_done", { name: filename });
        form.dataset.saved = filename;
      } catch (err) {
        // A 403's detail is the server's English; the refusal is said in the user's language.
        if (err instanceof ApiError && err.status === 403) {
          general.textContent = t("export_forbidden");
          general.focus();
        } else showProblems(err, fields, general);
      } finally {
        button.disabled = false;
        form.removeAttribute("aria-busy");
      }
    })();
  });
  return h("section", { id: "export", "aria-labelledby": "export-h" },
    h("h3", { id: "export-h" }, t("export_title")),
    h("p", { class: "hint" }, t("export_hint")),
    form, general, done);
}
