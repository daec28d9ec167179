// Areas and unit grids for admins: upload a GeoJSON file, see what it would change (a dry run:
// a list by code and the shapes on a map, coloured by change), then apply the same plan; and
// correct an area's names. The server checks everything and answers every problem at once.
import { ApiError, call, get } from "../api";
import { clear, h } from "../dom";
import { fmtNumber, t, type Key } from "../i18n";
import { boundsOf, drawAreas, loaded, newCityMap, type Map } from "../map";
import { choices, clearProblems, field, generalErrors, put, required, showProblems, type Field } from "./admin_forms";

/** As the server's limit (api/v1/grid_admin.py): a larger file is refused before it is sent. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
const LEVELS = ["city", "district", "subdistrict", "community"];
const CHANGE_COLOURS: Record<string, string> = {
  create: "#2a9d8f",
  version: "#e9c46a",
  correct: "#e9c46a",
  update: "#8ab6d6",
  unchanged: "#adb5bd",
  retire: "#e63946",
};

interface PlanItem {
  code: string;
  change: string;
  record: string | null;
  parent_code: string | null;
  name_zh: string | null;
  name_en: string | null;
}

interface Plan {
  dry_run: boolean;
  applied: boolean;
  source: string;
  valid_from: string;
  new: string[];
  changed: string[];
  unchanged: string[];
  retired: string[];
  items: PlanItem[];
  rejected: { field: string; message: string; record: string | null }[];
  repaired: { field: string; message: string; record: string | null }[];
  summary: string | null;
  advice: string | null;
  map: GeoJSON.FeatureCollection;
}

interface AreaOut {
  code: string;
  level: string;
  parent_code: string | null;
  name_zh: string | null;
  name_en: string | null;
  valid_from: string;
  valid_to: string | null;
}

export async function gridTab(box: HTMLElement): Promise<void> {
  const areas = h("section", { "aria-labelledby": "ag-areas-h" });
  const reloadAreas = await areasSection(areas);
  box.append(importSection(reloadAreas), areas);
}

function changeWord(change: string): string {
  return t(`ag_change_${change}` as Key);
}

// --- import -------------------------------------------------------------------------------------

function importSection(afterApply: (parent: string | null) => Promise<void>): HTMLElement {
  const kind = field("kind", t("ag_kind"), h("select", {}, choices([["areas", t("ag_kind_areas")], ["unit-grids", t("ag_kind_grids")]])));
  const file = field("file", t("ag_file"), h("input", { type: "file", accept: ".geojson,.json,application/geo+json,application/json", required: true }), t("ag_file_hint", { n: fmtNumber(MAX_FILE_BYTES / (1024 * 1024)) }));
  const level = field("level", t("ag_level"), h("select", {}, choices(LEVELS.map((l) => [l, t(`ag_level_${l}` as Key)]), "community")));
  const code = field("code_field", t("ag_code_field"), h("input", { value: "code", required: true, maxlength: 100 }));
  const name = field("name_field", t("ag_name_field"), h("input", { value: "name", maxlength: 100 }));
  const nameEn = field("name_en_field", t("ag_name_en_field"), h("input", { value: "", maxlength: 100 }));
  const parentPrefix = field("parent_from_code_prefix", t("ag_parent_prefix"), h("input", { type: "number", min: 1, max: 31, value: "" }), t("ag_parent_prefix_hint"));
  const parentField = field("parent_field", t("ag_parent_field"), h("input", { maxlength: 100 }));
  const parentCode = field("parent_code", t("ag_parent_code"), h("input", { maxlength: 32 }));
  const community = field("community_field", t("ag_community_field"), h("input", { value: "community", maxlength: 100 }));
  const crs = field("crs", t("ag_crs"), h("select", {}, choices([["", t("ag_crs_file")], ["wgs84", "WGS84"], ["gcj02", "GCJ-02"], ["bd09", "BD-09"]])));
  const validFrom = field("valid_from", t("ag_valid_from"), h("input", { type: "date" }), t("ag_valid_from_hint"));
  const areaOnly = [level, name, nameEn, parentPrefix, parentField, parentCode];
  const fields: Field[] = [kind, file, code, community, crs, validFrom, ...areaOnly];
  const general = generalErrors("ag-import-errors");
  const result = h("div", { id: "ag-plan", "aria-live": "polite" });
  const check = h("button", { type: "submit", id: "ag-check" }, t("ag_check"));
  const apply = h("button", { type: "button", id: "ag-apply", disabled: true }, t("ag_apply"));
  let checked: string | null = null; // the query of the plan shown, so Apply writes what was seen

  const showForKind = (): void => {
    const areasKind = kind.el.value === "areas";
    for (const f of areaOnly) f.row.hidden = !areasKind;
    community.row.hidden = areasKind;
    apply.disabled = true;
    checked = null;
  };
  kind.el.addEventListener("change", showForKind);
  for (const f of fields) f.el.addEventListener("change", () => { if (f !== kind) { apply.disabled = true; checked = null; } });

  const query = (dryRun: boolean): string => {
    const q = new URLSearchParams();
    const set = (k: string, f: Field): void => { if (f.el.value.trim()) q.set(k, f.el.value.trim()); };
    set("code_field", code);
    set("crs", crs);
    set("valid_from", validFrom);
    if (kind.el.value === "areas") {
      for (const f of [level, name, nameEn, parentPrefix, parentField, parentCode]) set(f.name, f);
    } else set("community_field", community);
    q.set("dry_run", String(dryRun));
    return q.toString();
  };

  const send = async (dryRun: boolean): Promise<void> => {
    clearProblems(fields, general);
    if (!required(fields)) return;
    const chosen = (file.el as HTMLInputElement).files?.[0];
    if (!chosen) return;
    if (chosen.size > MAX_FILE_BYTES) {
      file.error.textContent = t("ag_file_too_large", { n: fmtNumber(MAX_FILE_BYTES / (1024 * 1024)) });
      file.el.setAttribute("aria-invalid", "true");
      file.el.focus();
      return;
    }
    const form = new FormData();
    form.append("file", chosen, chosen.name);
    const q = query(dryRun);
    if (!dryRun && checked !== query(true)) return;
    check.disabled = apply.disabled = true;
    try {
      const plan = await call<Plan>("POST", `/api/v1/${kind.el.value}/import?${q}`, form);
      await showPlan(result, plan);
      checked = dryRun ? query(true) : null;
      apply.disabled = !dryRun;
      if (!dryRun) await afterApply(kind.el.value === "areas" ? plan.items[0]?.parent_code ?? null : null);
    } catch (err) {
      planMap?.remove();
      planMap = null;
      clear(result);
      checked = null;
      showProblems(err, fields, general, { parent: "parent_code", community: "community_field", geometry: "file" });
      if (err instanceof ApiError && err.problems.length && err.problems.every((p) => (p as { record?: string }).record)) {
        file.error.textContent = t("ag_file_refused");
        file.el.setAttribute("aria-invalid", "true");
      }
    } finally {
      check.disabled = false;
    }
  };

  const form = h("form", { id: "ag-import", novalidate: true, "aria-labelledby": "ag-import-h" },
    h("fieldset", {}, h("legend", {}, t("ag_what")), kind.row, file.row),
    h("fieldset", {}, h("legend", {}, t("ag_fields")), level.row, code.row, name.row, nameEn.row, community.row, parentPrefix.row, parentField.row, parentCode.row),
    h("fieldset", {}, h("legend", {}, t("ag_when_where")), crs.row, validFrom.row),
    general,
    h("div", { class: "actions" }, check, apply),
  );
  form.addEventListener("submit", (e) => { e.preventDefault(); void send(true); });
  apply.addEventListener("click", () => void send(false));
  showForKind();
  return h("section", { "aria-labelledby": "ag-import-h" }, h("h2", { id: "ag-import-h" }, t("ag_import")), h("p", { class: "hint" }, t("ag_import_hint")), form, result);
}

let planMap: Map | null = null;

async function showPlan(box: HTMLElement, plan: Plan): Promise<void> {
  planMap?.remove(); // a new check replaces the last plan's map and its WebGL context
  planMap = null;
  clear(box);
  // Each count wears its map colour, so the list is the map's legend.
  const counts: [Key, string[], string][] = [["ag_new", plan.new, "create"], ["ag_changed", plan.changed, "version"], ["ag_unchanged", plan.unchanged, "unchanged"], ["ag_retired", plan.retired, "retire"]];
  put(box, 
    h("h3", { id: "ag-plan-h", tabindex: -1 }, plan.applied ? t("ag_applied") : t("ag_plan")),
    plan.summary ? h("p", { id: "ag-summary" }, plan.summary) : null,
    plan.advice ? h("p", { class: "hint" }, plan.advice) : null,
    h("ul", { class: "plan-counts" }, counts.map(([key, codes, change]) => h("li", { "data-count": key },
      h("span", { "aria-hidden": "true", style: `display:inline-block;width:0.9em;height:0.9em;margin-right:0.4em;border:1px solid #333;background:${CHANGE_COLOURS[change]}` }),
      `${t(key)}: ${fmtNumber(codes.length)}`))),
  );
  const mapBox = h("div", { class: "map small", id: "ag-plan-map", style: "height: 320px" });
  box.append(mapBox);
  box.append(h("table", { class: "cases", id: "ag-plan-table" },
    h("caption", {}, t("ag_plan_list")),
    h("thead", {}, h("tr", {}, [t("ag_code"), t("ag_change"), t("ag_record"), t("ag_parent"), t("ag_name_zh"), t("ag_name_en")].map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, plan.items.map((i) => h("tr", { "data-code": i.code, "data-change": i.change },
      h("td", {}, i.code), h("td", {}, changeWord(i.change)), h("td", {}, i.record ?? ""),
      h("td", {}, i.parent_code ?? ""), h("td", {}, i.name_zh ?? ""), h("td", {}, i.name_en ?? "")))),
  ));
  for (const [title, list] of [[t("ag_skipped"), plan.rejected], [t("ag_repaired"), plan.repaired]] as const) {
    if (list.length) box.append(h("h4", {}, title), h("ul", {}, list.map((p) => h("li", {}, `${p.record ?? ""} ${p.field}: ${p.message}`))));
  }
  (box.querySelector("#ag-plan-h") as HTMLElement).focus();
  await drawPlan(mapBox, plan.map);
}

async function drawPlan(container: HTMLElement, doc: GeoJSON.FeatureCollection): Promise<void> {
  const map: Map = await newCityMap(container);
  planMap = map;
  await loaded(map);
  // The districts as they stand (fetched afresh: an import may just have changed them), for
  // orientation around what the file changes.
  const districts = await get<GeoJSON.FeatureCollection>("/api/v1/areas.geojson?level=district&tolerance=30").catch(() => null);
  if (districts?.features.length) drawAreas(map, "district", districts);
  map.addSource("plan", { type: "geojson", data: doc });
  const colour = ["match", ["get", "change"], ...Object.entries(CHANGE_COLOURS).flat(), "#666"] as unknown as string;
  map.addLayer({ id: "plan-fill", type: "fill", source: "plan", paint: { "fill-color": colour, "fill-opacity": 0.45 } });
  map.addLayer({ id: "plan-line", type: "line", source: "plan", paint: { "line-color": colour, "line-width": 1.5 } });
  if (doc.features.length) map.fitBounds(boundsOf(doc.features), { padding: 20, animate: false });
  container.dataset.features = String(doc.features.length);
}

// --- areas and their names ----------------------------------------------------------------------

async function areasSection(box: HTMLElement): Promise<(parent: string | null) => Promise<void>> {
  const level = field("area_level", t("ag_level"), h("select", {}, choices([["", t("ag_any")], ...LEVELS.map((l): [string, string] => [l, t(`ag_level_${l}` as Key)])])));
  const parent = field("area_parent", t("ag_parent"), h("input", { maxlength: 32 }), t("ag_parent_hint"));
  const list = h("div", { id: "ag-areas" });
  const editor = h("div", { id: "ag-area-editor" });
  const load = async (): Promise<void> => {
    const q = new URLSearchParams({ limit: "500" });
    if (level.el.value) q.set("level", level.el.value);
    if (parent.el.value.trim()) q.set("parent", parent.el.value.trim());
    const rows = await get<AreaOut[]>(`/api/v1/areas?${q.toString()}`);
    clear(list);
    put(list, h("table", { class: "cases" },
      h("caption", { class: "visually-hidden" }, t("ag_areas")),
      h("thead", {}, h("tr", {}, [t("ag_code"), t("ag_level"), t("ag_parent"), t("ag_name_zh"), t("ag_name_en"), t("ag_valid_from"), t("actions")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((a) => h("tr", { "data-area": a.code },
        h("td", {}, a.code), h("td", {}, t(`ag_level_${a.level}` as Key)), h("td", {}, a.parent_code ?? ""),
        h("td", {}, a.name_zh ?? ""), h("td", {}, a.name_en ?? ""), h("td", {}, a.valid_from),
        h("td", {}, h("button", { type: "button", class: "link", "aria-label": `${t("edit")} ${a.code}`, onclick: () => edit(a) }, t("edit"))))))),
      rows.length ? null : h("p", {}, t("ag_no_areas")));
  };
  const edit = (a: AreaOut): void => {
    clear(editor);
    const zh = field("name_zh", t("ag_name_zh"), h("input", { value: a.name_zh ?? "", required: true, maxlength: 200 }));
    const en = field("name_en", t("ag_name_en"), h("input", { value: a.name_en ?? "", maxlength: 200 }));
    const general = generalErrors("ag-rename-errors");
    const form = h("form", { novalidate: true, id: "ag-rename" },
      h("h3", {}, t("ag_rename", { code: a.code })), h("p", { class: "hint" }, t("ag_rename_hint")),
      zh.row, en.row, general,
      h("div", { class: "actions" }, h("button", { type: "submit" }, t("save")), h("button", { type: "button", onclick: () => clear(editor) }, t("ag_cancel"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearProblems([zh, en], general);
      if (!required([zh, en])) return;
      try {
        await call("PATCH", `/api/v1/areas/${encodeURIComponent(a.code)}`, { name_zh: zh.el.value, name_en: en.el.value.trim() || null });
        clear(editor);
        await load();
        (list.querySelector(`[data-area="${a.code}"] button`) as HTMLElement | null)?.focus();
      } catch (err) {
        showProblems(err, [zh, en], general);
      }
    });
    editor.append(form);
    zh.el.focus();
  };
  level.el.addEventListener("change", () => void load());
  parent.el.addEventListener("change", () => void load());
  box.append(h("h2", { id: "ag-areas-h" }, t("ag_areas")), h("div", { class: "row filters" }, level.row, parent.row), list, editor);
  await load();
  return async (newParent: string | null): Promise<void> => {
    if (newParent) {
      parent.el.value = newParent;
      level.el.value = "";
    }
    await load();
  };
}
