// The dispatch catalogue (直派) for admins: duty rules filtered by area, category prefix and
// department; add a rule, end one; test the route a category at a point would take; and which
// inspectors patrol which unit grids.
import { categories, get, post, type Category } from "../api";
import { clear, h } from "../dom";
import { cityToday, currentLang, t, type Key } from "../i18n";
import { boundsOf, cityMap, drawAreas, Marker } from "../map";
import { choices, clearProblems, field, generalErrors, put, required, showProblems, type Field } from "./admin_forms";

/** Rows of an inspector's grids drawn at once: a subdistrict's inspector may patrol hundreds. */
const SHOWN_ASSIGNMENTS = 200;

interface DutyRule {
  id: number;
  area_code: string;
  category_prefix: string;
  department_code: string;
  kind: string;
  valid_from: string;
  valid_to: string | null;
}

interface Explained {
  category: string;
  location: { inside: boolean; district: string | null; subdistrict: string | null; community: string | null; unit_grid: string | null };
  route: { department_code: string; rule: string; rule_id: number | null; explanation: string } | null;
  rules_here: DutyRule[];
}

interface Assignment {
  id: number;
  user_id: number;
  username: string | null;
  unit_grid_code: string;
  valid_from: string;
  valid_to: string | null;
}

export async function routingTab(box: HTMLElement): Promise<void> {
  // New rules are for classes in use; a deactivated class keeps its name elsewhere only.
  const cats = (await categories()).filter((c) => c.active !== false);
  const depts = await get<{ code: string; name_zh: string; name_en: string }[]>("/api/v1/departments").catch(() => []);
  const deptList = h("datalist", { id: "ar-departments" }, depts.map((d) => h("option", { value: d.code }, currentLang() === "zh" ? d.name_zh : d.name_en || d.name_zh)));
  const catList = h("datalist", { id: "ar-categories" }, cats.map((c: Category) => h("option", { value: c.code }, currentLang() === "zh" ? c.name_zh : c.name_en)));
  const rules = h("section", { "aria-labelledby": "ar-rules-h" });
  const reload = await rulesSection(rules);
  box.append(deptList, catList, rules, addRuleSection(reload), testRouteSection(), await inspectorsSection());
}

function dateInput(value = ""): HTMLInputElement {
  return h("input", { type: "date", value });
}

// --- the rules ----------------------------------------------------------------------------------

async function rulesSection(box: HTMLElement): Promise<() => Promise<void>> {
  const area = field("area", t("ar_area"), h("input", { maxlength: 32 }));
  const prefix = field("category_prefix", t("ar_prefix"), h("input", { maxlength: 16, list: "ar-categories" }), t("ar_prefix_filter_hint"));
  const dept = field("department", t("ar_department"), h("input", { maxlength: 64, list: "ar-departments" }));
  const ended = h("input", { type: "checkbox", id: "ar-ended", name: "include_ended" });
  const list = h("div", { id: "ar-rules" });
  const general = generalErrors("ar-rules-errors");
  const load = async (): Promise<void> => {
    const q = new URLSearchParams();
    if (area.el.value.trim()) q.set("area", area.el.value.trim());
    if (prefix.el.value.trim()) q.set("category_prefix", prefix.el.value.trim().toUpperCase());
    if (dept.el.value.trim()) q.set("department", dept.el.value.trim());
    if (ended.checked) q.set("include_ended", "true");
    const rows = await get<DutyRule[]>(`/api/v1/duty-rules?${q.toString()}`);
    clear(list);
    put(list, h("table", { class: "cases" },
      h("caption", { class: "visually-hidden" }, t("ar_rules")),
      h("thead", {}, h("tr", {}, ["#", t("ar_area"), t("ar_prefix"), t("ar_department"), t("ar_kind"), t("ar_from"), t("ar_to"), t("actions")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-rule": r.id },
        h("td", {}, r.id), h("td", {}, r.area_code), h("td", {}, r.category_prefix), h("td", {}, r.department_code),
        h("td", {}, t(`ar_kind_${r.kind}` as Key)), h("td", {}, r.valid_from), h("td", {}, r.valid_to ?? ""),
        h("td", {}, r.valid_to ? "" : endControl(r, load, general)))))),
      rows.length ? null : h("p", {}, t("ar_no_rules")));
  };
  for (const f of [area, prefix, dept]) f.el.addEventListener("change", () => void load());
  ended.addEventListener("change", () => void load());
  box.append(
    h("h2", { id: "ar-rules-h" }, t("ar_rules")),
    h("p", { class: "hint" }, t("ar_rules_hint")),
    h("div", { class: "row filters" }, area.row, prefix.row, dept.row, h("div", { class: "check" }, ended, h("label", { for: ended.id }, t("ar_include_ended")))),
    general, list,
  );
  await load();
  return load;
}

function endControl(r: DutyRule, reload: () => Promise<void>, general: HTMLElement): HTMLElement {
  const wrap = h("span", {});
  const open = h("button", { type: "button", class: "link", "aria-label": `${t("ar_end")} #${r.id}` }, t("ar_end"));
  open.addEventListener("click", () => {
    clear(wrap);
    const to = field("valid_to", t("ar_end_on"), dateInput(cityToday()));
    const confirm = h("button", { type: "button" }, t("ar_end_confirm"));
    confirm.addEventListener("click", async () => {
      clearProblems([to], general);
      try {
        await post(`/api/v1/duty-rules/${r.id}/end`, { valid_to: to.el.value || null });
        await reload();
      } catch (err) {
        showProblems(err, [to], general);
      }
    });
    wrap.append(to.row, confirm);
    to.el.focus();
  });
  wrap.append(open);
  return wrap;
}

function addRuleSection(reload: () => Promise<void>): HTMLElement {
  const area = field("area_code", t("ar_area"), h("input", { required: true, maxlength: 32 }));
  const prefix = field("category_prefix", t("ar_prefix"), h("input", { required: true, maxlength: 16, list: "ar-categories" }), t("ar_prefix_hint"));
  const dept = field("department_code", t("ar_department"), h("input", { required: true, maxlength: 64, list: "ar-departments" }));
  const kind = field("kind", t("ar_kind"), h("select", {}, choices([["owner", t("ar_kind_owner")], ["territorial", t("ar_kind_territorial")]])));
  const from = field("valid_from", t("ar_from"), dateInput(cityToday()));
  const fields: Field[] = [area, prefix, dept, kind, from];
  const general = generalErrors("ar-add-errors");
  const done = h("p", { role: "status", id: "ar-added" });
  const form = h("form", { id: "ar-add", novalidate: true },
    ...fields.map((f) => f.row), general,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("ar_add"))), done);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(fields, general);
    done.textContent = "";
    if (!required(fields)) return;
    try {
      const rule = await post<DutyRule>("/api/v1/duty-rules", {
        area_code: area.el.value.trim(),
        category_prefix: prefix.el.value.trim().toUpperCase(),
        department_code: dept.el.value.trim(),
        kind: kind.el.value,
        valid_from: from.el.value || null,
      });
      done.textContent = t("ar_added", { id: String(rule.id) });
      await reload();
    } catch (err) {
      showProblems(err, fields, general);
    }
  });
  return h("section", { "aria-labelledby": "ar-add-h" }, h("h2", { id: "ar-add-h" }, t("ar_add_rule")), form);
}

// --- test a route -------------------------------------------------------------------------------

function testRouteSection(): HTMLElement {
  const category = field("category", t("category"), h("input", { required: true, maxlength: 16, list: "ar-categories" }));
  const lon = field("lon", t("ar_lon"), h("input", { required: true, inputmode: "decimal", type: "number", step: "any", min: -180, max: 180 }));
  const lat = field("lat", t("ar_lat"), h("input", { required: true, inputmode: "decimal", type: "number", step: "any", min: -90, max: 90 }));
  const on = field("on", t("ar_route_on"), dateInput());
  const fields: Field[] = [category, lon, lat, on];
  const general = generalErrors("ar-test-errors");
  const out = h("div", { id: "ar-route", "aria-live": "polite" });
  const form = h("form", { id: "ar-test", novalidate: true }, ...fields.map((f) => f.row), general,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("ar_test"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(fields, general);
    clear(out);
    if (!required(fields)) return;
    const q = new URLSearchParams({ category: category.el.value.trim().toUpperCase(), lon: lon.el.value, lat: lat.el.value });
    if (on.el.value) q.set("on", on.el.value);
    try {
      const r = await get<Explained>(`/api/v1/duty-rules/explain?${q.toString()}`);
      const loc = r.location;
      put(out, 
        h("h3", {}, t("ar_route")),
        loc.inside
          ? h("p", {}, [loc.district, loc.subdistrict, loc.community, loc.unit_grid].filter(Boolean).join(" › "))
          : h("p", {}, t("ar_outside")),
        r.route
          ? h("dl", { class: "route facts" },
            h("dt", {}, t("ar_department")), h("dd", { id: "ar-route-dept" }, r.route.department_code),
            h("dt", {}, t("ar_rule")), h("dd", { id: "ar-route-rule" }, t(`ar_rule_${r.route.rule}` as Key), r.route.rule_id ? ` #${r.route.rule_id}` : ""),
            h("dt", {}, t("ar_why")), h("dd", {}, r.route.explanation))
          : loc.inside ? h("p", {}, t("ar_no_route")) : null,
        r.rules_here.length
          ? h("details", {}, h("summary", {}, t("ar_rules_here", { n: String(r.rules_here.length) })),
            h("ul", {}, r.rules_here.map((x) => h("li", {}, `#${x.id} ${x.area_code} ${x.category_prefix} → ${x.department_code} (${t(`ar_kind_${x.kind}` as Key)})`))))
          : null,
      );
    } catch (err) {
      showProblems(err, fields, general);
    }
  });
  const mapBox = h("div", { class: "map small", id: "ar-test-map", style: "height: 280px" });
  void pickOnMap(mapBox, lon, lat);
  return h("section", { "aria-labelledby": "ar-test-h" }, h("h2", { id: "ar-test-h" }, t("ar_test_route")), h("p", { class: "hint" }, t("ar_test_hint")), form, mapBox, out);
}

/** A click on the map fills the point's fields (which stay the keyboard's way in). */
async function pickOnMap(container: HTMLElement, lon: Field, lat: Field): Promise<void> {
  const map = await cityMap(container);
  // Fetched afresh, not from the page's cache: the admin may just have imported a district.
  const districts = await get<GeoJSON.FeatureCollection>("/api/v1/areas.geojson?level=district&tolerance=30").catch(() => null);
  if (districts?.features.length) {
    drawAreas(map, "district", districts);
    map.fitBounds(boundsOf(districts.features), { padding: 20, animate: false });
  }
  let pin: InstanceType<typeof Marker> | null = null;
  const place = (x: number, y: number): void => {
    pin ??= new Marker().setLngLat([x, y]).addTo(map);
    pin.setLngLat([x, y]);
  };
  map.on("click", (e) => {
    lon.el.value = e.lngLat.lng.toFixed(6);
    lat.el.value = e.lngLat.lat.toFixed(6);
    place(e.lngLat.lng, e.lngLat.lat);
  });
  for (const f of [lon, lat]) {
    f.el.addEventListener("change", () => {
      const x = Number(lon.el.value);
      const y = Number(lat.el.value);
      if (lon.el.value && lat.el.value && Math.abs(x) <= 180 && Math.abs(y) <= 90) place(x, y);
    });
  }
  container.dataset.ready = "true";
}

// --- inspectors' grids --------------------------------------------------------------------------

async function inspectorsSection(): Promise<HTMLElement> {
  const page = await get<{ items: { id: number; username: string }[] }>("/api/v1/users?role=inspector&limit=500").catch(() => ({ items: [] }));
  const people: [string, string][] = page.items.map((u) => [String(u.id), u.username]);
  const who = field("user_id", t("ar_inspector"), h("select", {}, choices([["", t("ag_any")], ...people])));
  const area = field("area", t("ar_grid_area"), h("input", { maxlength: 15 }), t("ar_grid_area_hint"));
  const list = h("div", { id: "ar-assignments", "aria-live": "polite" });
  const general = generalErrors("ar-insp-errors");
  const load = async (): Promise<void> => {
    clear(list);
    const q = new URLSearchParams();
    if (who.el.value) q.set("user_id", who.el.value);
    if (area.el.value.trim()) q.set("area", area.el.value.trim());
    if (!q.toString()) {
      list.append(h("p", { class: "hint" }, t("ar_choose_filter")));
      return;
    }
    const rows = await get<Assignment[]>(`/api/v1/inspector-grids?${q.toString()}`);
    const shown = rows.slice(0, SHOWN_ASSIGNMENTS);
    put(list, h("table", { class: "cases" },
      h("caption", { class: "visually-hidden" }, t("ar_inspectors")),
      h("thead", {}, h("tr", {}, [t("ar_inspector"), t("ar_grid"), t("ar_from"), t("ar_to"), t("actions")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, shown.map((a) => h("tr", { "data-assignment": a.id },
        h("td", {}, a.username ?? String(a.user_id)), h("td", {}, a.unit_grid_code), h("td", {}, a.valid_from),
        h("td", {}, a.valid_to ?? ""),
        // An assignment with an end already set holds until then; it is not ended twice.
        h("td", {}, a.valid_to ? "" : h("button", {
          type: "button", class: "link", "aria-label": `${t("ar_end")} ${a.username ?? a.user_id} ${a.unit_grid_code}`,
          onclick: async () => {
            clearProblems([], general);
            try {
              await post("/api/v1/inspector-grids/end", { user_id: a.user_id, unit_grid_code: a.unit_grid_code });
              await load();
            } catch (err) {
              showProblems(err, [], general);
            }
          },
        }, t("ar_end"))))))),
      rows.length > shown.length ? h("p", {}, t("ar_more", { n: String(rows.length - shown.length) })) : null,
      rows.length ? null : h("p", {}, t("ar_no_assignments")));
  };
  area.el.addEventListener("change", () => void load());
  who.el.addEventListener("change", () => void load());

  const inspector = field("user_id", t("ar_inspector"), h("select", { required: true }, choices([["", ""], ...people])));
  const grids = field("unit_grid_codes", t("ar_grids"), h("textarea", { required: true, rows: 3 }), t("ar_grids_hint"));
  const from = field("valid_from", t("ar_from"), dateInput(cityToday()));
  const fields = [inspector, grids, from];
  const assignErrors = generalErrors("ar-assign-errors");
  const done = h("p", { role: "status" });
  const form = h("form", { id: "ar-assign", novalidate: true }, ...fields.map((f) => f.row), assignErrors,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("ar_assign"))), done);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(fields, assignErrors);
    done.textContent = "";
    if (!required(fields)) return;
    try {
      const r = await post<{ added: number }>("/api/v1/inspector-grids", {
        user_id: Number(inspector.el.value),
        unit_grid_codes: grids.el.value.split(/[\s,;]+/).filter(Boolean),
        valid_from: from.el.value || null,
      });
      done.textContent = t("ar_assigned", { n: String(r.added) });
      await load();
    } catch (err) {
      showProblems(err, fields, assignErrors);
    }
  });
  const section = h("section", { "aria-labelledby": "ar-insp-h" },
    h("h2", { id: "ar-insp-h" }, t("ar_inspectors")), h("div", { class: "row filters" }, who.row, area.row), general, list,
    h("h3", {}, t("ar_assign_title")), form);
  await load();
  return section;
}
