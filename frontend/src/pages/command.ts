import { categories, currentUser, get, may, type CaseOut, type Me } from "../api";
import { clear, h } from "../dom";
import { cityToday, currentLang, fmtDate, fmtNumber, t, word, type Key } from "../i18n";
import { go } from "../main";
import type maplibregl from "maplibre-gl";
import {
  addCellsLayer, areaDoc, askCells, bboxOf, boundsOf, CELL_COLOUR, drawAreas, EMPTY, loaded, newCityMap,
  resolutionFor, setData, setVisible, type Cells, type Map,
} from "../map";
import { caseView } from "./case";
import { categoryLabel, lightBadge, loadCategoryNames } from "./parts";
import { exportForm } from "./export";
import { endRates, loadRates } from "./rates";

interface DistrictTally {
  district: string;
  open: number;
  red: number;
  yellow: number;
}

interface FeedItem {
  id: number;
  number: string;
  status: string;
  category_code: string;
  district: string | null;
  light: string;
  updated_at: string;
}

export interface CaseBrief {
  id: number;
  number: string;
  status: string;
  category_code: string;
  light: string;
  deadline: string | null;
  district: string | null;
  unit_grid: string | null;
  lon: number;
  lat: number;
}

interface Spike {
  category_code: string;
  area_code: string;
  observed: number;
  expected: number;
  low: number;
  high: number;
}

let feed: EventSource | null = null;

/** Communities are many and hidden at first: their boundaries are fetched and drawn when
 * first shown, not before the first render. */
async function showLayer(map: Map, ids: string[], visible: boolean): Promise<void> {
  if (visible && ids[0] === "areas-community" && !map.getSource("areas-community")) {
    drawAreas(map, "community", await areaDoc("community"));
    map.moveLayer("areas-community", "heat");
  }
  setVisible(map, ids, visible);
}

/** Whether the point lies in a ring (even-odd rule; GeoJSON rings are [lon, lat]). */
function inRing(x: number, y: number, ring: number[][]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function contains(g: GeoJSON.Geometry, x: number, y: number): boolean {
  const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
  return polygons.some((rings) => inRing(x, y, rings[0]) && !rings.slice(1).some((hole) => inRing(x, y, hole)));
}

// The areas a busy cell is named by, finest first (subdistricts, then districts).
let placeAreas: GeoJSON.Feature[] = [];

/** Where a cell is, in words: the finest area holding its centre, else its centre's degrees. */
function placeOf(f: GeoJSON.Feature): string {
  const ring = f.geometry.type === "Polygon" ? f.geometry.coordinates[0] : [];
  if (!ring.length) return String(f.properties?.cell ?? "");
  const corners = ring.slice(0, -1);
  const x = corners.reduce((a, c) => a + c[0], 0) / corners.length;
  const y = corners.reduce((a, c) => a + c[1], 0) / corners.length;
  const area = placeAreas.find((a) => contains(a.geometry, x, y));
  return area ? areaName(area, String(area.properties?.code ?? "")) : t("cell_near", { lat: y.toFixed(4), lon: x.toFixed(4) });
}

/** A count of open cases in English's singular or plural (Chinese has one form). */
function counted(n: number, one: Key, many: Key, vars: Record<string, string> = {}): string {
  return t(n === 1 ? one : many, { ...vars, n: fmtNumber(n) });
}

/** The busiest cells in view, as buttons: the drill-down without a mouse. Each says where it
 * is: eight buttons named only by their counts would be alike to a screen reader. */
function listBusiest(doc: GeoJSON.FeatureCollection, box: HTMLElement, open: (cell: string) => void): void {
  const cells = doc.features
    .map((f) => ({ cell: f.properties?.cell, total: f.properties?.total, red: f.properties?.red, place: placeOf(f) }))
    .sort((a, b) => Number(b.red) - Number(a.red) || Number(b.total) - Number(a.total))
    .slice(0, 8);
  clear(box);
  box.append(
    h("h3", {}, t("busiest_cells")),
    cells.length
      ? h("ol", { class: "drill-list", id: "busy-cells" }, cells.map((p) =>
          h("li", {}, h("button", { type: "button", class: "link", "data-cell": String(p.cell), onclick: () => open(String(p.cell)) },
            t("cell_place", { place: p.place, label: t("cell_label", { n: fmtNumber(Number(p.total)), red: fmtNumber(Number(p.red)) }) })))))
      : h("p", {}, t("none")),
  );
}

let busyBox: HTMLElement | null = null;
let openCell: (cell: string) => void = () => undefined;

/** The zoom at which ``fitBounds`` shows ``b`` in a box of ``w`` × ``h`` pixels (Web
 * Mercator, 512-pixel tiles): the first view's cells can be asked for before the map exists. */
function fitZoom(b: maplibregl.LngLatBounds, w: number, h: number, pad: number): number {
  const y = (lat: number): number => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)) / (2 * Math.PI);
  const across = (b.getEast() - b.getWest()) / 360;
  const high = y(b.getNorth()) - y(b.getSouth());
  return Math.min(Math.log2((w - 2 * pad) / (512 * across)), Math.log2((h - 2 * pad) / (512 * high)));
}

async function loadCells(map: Map, asked?: Promise<Cells>): Promise<void> {
  const t0 = performance.now();
  const doc = await (asked ?? askCells(map));
  setData(map, "cells", doc);
  if (busyBox) listBusiest(doc, busyBox, openCell);
  const top = Math.max(1, ...doc.features.map((f) => Number(f.properties?.total ?? 0)));
  // The 3-D view's tallest column is a quarter of the view's width, whatever the zoom.
  const b = map.getBounds();
  const across = (b.getEast() - b.getWest()) * 111_320 * Math.cos((map.getCenter().lat * Math.PI) / 180);
  map.setPaintProperty("cells-3d", "fill-extrusion-height", ["*", ["/", ["get", "total"], top], across * 0.25]);
  document.body.dataset.cellsMax = String(top);
  document.body.dataset.cells = String(doc.features.length);
  document.body.dataset.cellsMs = String(Math.round(performance.now() - t0));
}

const GRID_ZOOM = 14;

/** Unit grids only when zoomed in: a city has tens of thousands. */
async function loadGrids(map: Map): Promise<void> {
  if (map.getZoom() < GRID_ZOOM) return;
  setData(map, "grids", await get<GeoJSON.FeatureCollection>(`/api/v1/map/unit-grids?bbox=${bboxOf(map)}`));
}

/** The heat of the period: cases reported in the last N days, as weighted cell centres. */
async function loadHeat(map: Map, days: number): Promise<void> {
  const doc = await get<GeoJSON.FeatureCollection & { total: number }>(
    `/api/v1/map/heat?days=${days}&resolution=${resolutionFor(map.getZoom())}&bbox=${bboxOf(map)}`,
  );
  const top = Math.max(1, ...doc.features.map((f) => Number(f.properties?.count ?? 0)));
  map.setPaintProperty("heat", "heatmap-weight", ["interpolate", ["linear"], ["get", "count"], 0, 0, top, 1]);
  setData(map, "heat", doc);
  document.body.dataset.heat = String(doc.total);
}

export async function commandPage(main: HTMLElement): Promise<void> {
  feed?.close();
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fcommand");
  if (!may(user, "case.read")) return evaluationOnly(main, user);
  const started = performance.now();
  performance.mark("command:start");
  // Everything the first view needs is asked for at once, while the map's code and style load:
  // boundaries, category names and the district table; the cells as soon as the view is set.
  const namesLoaded = loadCategoryNames();
  const districtsAsked = areaDoc("district");
  const subdistrictsAsked = areaDoc("subdistrict");
  const talliesAsked = get<DistrictTally[]>("/api/v1/map/districts");
  document.body.classList.add("wide");
  const mapBox = h("div", { class: "map full", id: "command-map" });
  const layers = h("fieldset", { class: "layers" }, h("legend", {}, t("layers")));
  const drill = h("section", { id: "drill", "aria-labelledby": "drill-h", tabindex: -1 },
    h("h2", { id: "drill-h" }, t("drill_title")), h("p", { class: "hint" }, t("drill_hint")));
  busyBox = h("div", { id: "busy" });
  const spikeList = h("div", { id: "spikes" });
  const feedList = h("ol", { class: "feed", id: "feed", "aria-live": "polite" });
  const table = h("div", { id: "district-table" });
  const rates = h("section", { id: "rates", class: "rates", "aria-labelledby": "rates-h" },
    h("h2", { id: "rates-h" }, t("rates_title")));
  main.append(
    h("h1", {}, t("command_title")),
    h("div", { class: "command" }, mapBox,
      h("aside", { "aria-label": t("command_title") }, layers, drill, busyBox,
        h("section", { "aria-labelledby": "feed-h" }, h("h2", { id: "feed-h" }, t("live_feed")), feedList),
        h("section", { "aria-labelledby": "table-h" }, h("h2", { id: "table-h" }, t("districts_table")), table),
        h("section", { "aria-labelledby": "spikes-h" }, h("h2", { id: "spikes-h" }, t("spikes_title")), spikeList))),
  );

  const districts = await districtsAsked;
  const city = districts.features.length ? boundsOf(districts.features) : null;
  // The first view is the whole city: its cells are asked for without a box, at the resolution
  // the fitted zoom will want, while the map is made.
  const cellsAsked = city
    ? get<Cells>(`/api/v1/map/cells?resolution=${resolutionFor(fitZoom(city, mapBox.clientWidth, mapBox.clientHeight, 20))}`)
    : null;
  const map = await newCityMap(mapBox);
  // Leaving the page ends its feed and its map (a WebGL context each: browsers keep only a few).
  window.addEventListener("hashchange", () => {
    feed?.close();
    endRates();
    map.remove();
    document.body.classList.remove("wide");
    delete document.body.dataset.view;
    busyBox = null;
  }, { once: true });
  if (city) map.fitBounds(city, { padding: 20, animate: false });
  await Promise.all([loaded(map), namesLoaded]);
  performance.mark("command:map-loaded");
  drawAreas(map, "district", districts);
  const subdistricts = await subdistrictsAsked;
  drawAreas(map, "subdistrict", subdistricts);
  placeAreas = [...subdistricts.features, ...districts.features];
  map.addSource("heat", { type: "geojson", data: EMPTY });
  map.addLayer({
    id: "heat",
    type: "heatmap",
    source: "heat",
    layout: { visibility: "none" },
    paint: {
      "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 8, 12, 14, 40],
      "heatmap-intensity": 1,
      "heatmap-opacity": 0.75,
    },
  });
  map.addSource("spikes", { type: "geojson", data: EMPTY });
  map.addLayer({
    id: "spikes",
    type: "fill",
    source: "spikes",
    paint: { "fill-color": "#6a1b9a", "fill-opacity": 0.3, "fill-outline-color": "#4a148c" },
  });
  addCellsLayer(map);
  // The 3-D view: the same cells raised by how many cases are open in each.
  map.addLayer({
    id: "cells-3d",
    type: "fill-extrusion",
    source: "cells",
    layout: { visibility: "none" },
    paint: {
      "fill-extrusion-color": CELL_COLOUR,
      "fill-extrusion-height": 0,
      "fill-extrusion-opacity": 0.85,
    },
  });
  map.addSource("hotspots", { type: "geojson", data: EMPTY });
  map.addLayer({
    id: "hotspots",
    type: "line",
    source: "hotspots",
    paint: { "line-color": "#d81b60", "line-width": 3 },
  });
  map.addSource("grids", { type: "geojson", data: EMPTY });
  map.addLayer({ id: "grids", type: "line", source: "grids", minzoom: GRID_ZOOM, paint: { "line-color": "#6c757d", "line-width": 0.5 } });
  map.addLayer({ id: "grids-hit", type: "fill", source: "grids", minzoom: GRID_ZOOM, paint: { "fill-opacity": 0 } });
  // One click, the finest thing under it: a unit grid once they are drawn, else the H3 cell.
  map.on("click", (e) => {
    const hits = map.queryRenderedFeatures(e.point, { layers: ["grids-hit", "cells", "cells-3d"].filter((id) => map.getLayer(id)) });
    const grid = hits.find((f) => f.layer.id === "grids-hit")?.properties?.code;
    const cell = hits.find((f) => f.layer.id !== "grids-hit")?.properties?.cell;
    if (grid && map.getZoom() >= GRID_ZOOM) void drillGrid(drill, user, String(grid));
    else if (cell) void drillCell(map, drill, user, String(cell));
  });
  for (const id of ["cells", "cells-3d"]) {
    map.on("mouseenter", id, () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", id, () => (map.getCanvas().style.cursor = ""));
  }
  openCell = (cell) => void drillCell(map, drill, user, cell);
  await loadCells(map, cellsAsked ?? undefined);
  performance.mark("command:cells");

  const heatDays = h("select", { id: "heat-days", name: "heat-days" },
    [7, 30, 90, 365].map((d) => h("option", { value: d, selected: d === 30 }, t("last_days", { n: String(d) }))));
  const heatBox = h("input", { type: "checkbox", id: "layer-heat" });
  const hotspotCategory = h("select", { id: "hotspot-category", name: "hotspot-category", disabled: !user.actions.includes("analytics.read") },
    h("option", { value: "" }, t("choose_category")));
  const hotspotNote = h("p", { class: "hint", id: "hotspot-note", "aria-live": "polite" });
  const redraw = (): void => {
    void loadCells(map);
    void loadGrids(map);
    if (heatBox.checked) void loadHeat(map, Number(heatDays.value));
  };
  map.on("moveend", redraw);

  const toggles: [Key, string[], boolean][] = [
    ["l_district", ["areas-district", "areas-district-fill"], true],
    ["l_subdistrict", ["areas-subdistrict"], true],
    ["l_community", ["areas-community"], false],
    ["l_grids", ["grids", "grids-hit"], true],
    ["l_cells", ["cells"], true],
    ["l_hotspots", ["hotspots"], true],
    ["l_spikes", ["spikes"], true],
  ];
  for (const [key, ids, on] of toggles) {
    const id = `layer-${ids[0]}`;
    const box = h("input", { type: "checkbox", id, checked: on });
    box.addEventListener("change", () => void showLayer(map, ids, box.checked));
    layers.append(h("div", { class: "check" }, box, h("label", { for: id }, t(key))));
  }
  heatBox.addEventListener("change", () => {
    setVisible(map, ["heat"], heatBox.checked);
    if (heatBox.checked) void loadHeat(map, Number(heatDays.value));
  });
  heatDays.addEventListener("change", () => {
    if (heatBox.checked) void loadHeat(map, Number(heatDays.value));
  });
  layers.append(
    h("div", { class: "check" }, heatBox, h("label", { for: heatBox.id }, t("l_heat"))),
    h("div", { class: "field" }, h("label", { for: heatDays.id, class: "sub" }, t("heat_period")), heatDays),
    h("div", { class: "field" }, h("label", { for: hotspotCategory.id, class: "sub" }, t("hotspot_category")), hotspotCategory),
    hotspotNote,
  );
  const view3d = h("button", { type: "button", class: "secondary", id: "view-3d", "aria-pressed": "false" }, t("view_3d"));
  view3d.addEventListener("click", () => {
    const on = view3d.getAttribute("aria-pressed") !== "true";
    view3d.setAttribute("aria-pressed", String(on));
    setVisible(map, ["cells-3d"], on);
    setVisible(map, ["cells"], !on);
    map.easeTo({ pitch: on ? 60 : 0, bearing: on ? -20 : 0, duration: 0 });
    document.body.dataset.view = on ? "3d" : "2d";
  });
  layers.append(view3d);
  // First render: boundaries and cells are in the map and its next frame is drawn. What the
  // first view does not show (unit grids, analytics, the feed) is asked for only then, so it
  // does not compete with it for the browser's or the server's time.
  const firstRender = new Promise<void>((resolve) => {
    map.once("idle", () => {
      performance.mark("command:first-render");
      document.body.dataset.firstRenderMs = String(Math.round(performance.now() - started));
      resolve();
    });
    setTimeout(resolve, 5000); // a map that never settles must not hold the rest back
  });
  map.triggerRepaint();
  const here = location.hash;
  renderDistricts(table, map, districts, await talliesAsked,
    (code) => void drillDistrict(map, drill, user, code, districts, subdistricts));
  await firstRender;
  if (location.hash !== here) return; // left before the map settled
  void loadGrids(map);

  if (user.actions.includes("analytics.read")) {
    void fillCategories(hotspotCategory);
    hotspotCategory.addEventListener("change", () => {
      void loadHotspots(map, hotspotCategory.value, Number(heatDays.value), hotspotNote);
    });
    void loadSpikes(map, spikeList, districts.features.length ? "subdistrict" : "district");
  } else {
    spikeList.append(h("p", {}, t("none")));
  }

  // The export sits with the evaluation: the same staff read the figures and take the rows.
  if (may(user, "analytics.read") || may(user, "analytics.export")) main.append(rates);
  if (may(user, "analytics.read")) loadRates(rates, areaDoc);
  if (may(user, "analytics.export")) rates.append(exportForm(user, areaDoc));

  feed = new EventSource("/api/v1/map/feed");
  // Marks the stream as connected, so a slow page and a stream that misses a case tell apart.
  feed.addEventListener("open", () => feedList.setAttribute("data-state", "open"));
  feed.addEventListener("error", () => feedList.setAttribute("data-state", "reconnecting"));
  feed.addEventListener("case", (ev) => {
    const item = JSON.parse((ev as MessageEvent<string>).data) as FeedItem;
    feedList.prepend(
      h("li", { class: `light-${item.light}`, "data-case": item.number },
        h("a", { href: `#/case/${item.id}` }, item.number), " ",
        word("s_", item.status), " · ", categoryLabel(item.category_code), " · ", item.district ?? "", " ",
        h("time", { datetime: item.updated_at }, fmtDate(item.updated_at))),
    );
    while (feedList.children.length > 50) feedList.lastElementChild?.remove();
  });
}

/** An area's name in the current language (its code when it has none). */
function areaName(f: GeoJSON.Feature | undefined, code: string): string {
  const p = f?.properties ?? {};
  return String((currentLang() === "zh" ? p.name_zh : p.name_en || p.name_zh) ?? code);
}

/** The districts' open, red and yellow counts; a district's name fits the map to it and offers
 * its subdistricts (``choose``). */
function renderDistricts(
  table: HTMLElement, map: Map, districts: GeoJSON.FeatureCollection, tallies: DistrictTally[], choose: (code: string) => void,
): void {
  const names = new globalThis.Map<string, string>();
  for (const f of districts.features) names.set(String(f.properties?.code), areaName(f, String(f.properties?.code)));
  const sum = (k: keyof Omit<DistrictTally, "district">): number => tallies.reduce((a, r) => a + r[k], 0);
  const cols: (keyof Omit<DistrictTally, "district">)[] = ["open", "red", "yellow"];
  table.append(
    h("table", {},
      h("caption", { class: "visually-hidden" }, t("districts_table")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("district")), cols.map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, [...tallies].sort((a, b) => b.red - a.red || b.open - a.open).map((r) =>
        h("tr", {},
          h("th", { scope: "row" },
            h("button", {
              type: "button", class: "link", "data-district": r.district,
              onclick: () => {
                // City → district: fit the map to it; finer cells and then grids follow the zoom.
                const f = districts.features.find((x) => x.properties?.code === r.district);
                if (f) map.fitBounds(boundsOf([f]), { padding: 20, duration: 0 });
                choose(r.district);
              },
            }, names.get(r.district) ?? r.district)),
          cols.map((c) => h("td", {}, fmtNumber(r[c])))))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, t("total")), cols.map((c) => h("td", {}, fmtNumber(sum(c))))))),
  );

}

async function fillCategories(select: HTMLSelectElement): Promise<void> {
  const cats = await categories();
  for (const c of cats) {
    select.append(h("option", { value: c.code }, `${c.code} ${currentLang() === "zh" ? c.name_zh : c.name_en || c.name_zh}`));
  }
}

async function loadHotspots(map: Map, category: string, days: number, note: HTMLElement): Promise<void> {
  if (!category) {
    setData(map, "hotspots", EMPTY);
    note.textContent = "";
    return;
  }
  const doc = await get<GeoJSON.FeatureCollection>(`/api/v1/map/hotspots?category=${encodeURIComponent(category)}&days=${Math.max(days, 7)}`);
  setData(map, "hotspots", doc);
  note.textContent = t("hotspots_found", { n: fmtNumber(doc.features.length) });
  document.body.dataset.hotspots = String(doc.features.length);
}

/** This week's spikes (far above the seasonal baseline) shade their areas. */
async function loadSpikes(map: Map, box: HTMLElement, level: string): Promise<void> {
  const today = cityToday();
  const found = await get<Spike[]>(`/api/v1/analytics/spikes?week_of=${today}&level=${level}`).catch(() => [] as Spike[]);
  document.body.dataset.spikes = String(found.length);
  if (!found.length) {
    box.append(h("p", {}, t("none")));
    return;
  }
  const codes = new Set(found.map((s) => s.area_code));
  const areas = await areaDoc(level);
  setData(map, "spikes", { type: "FeatureCollection", features: areas.features.filter((f) => codes.has(String(f.properties?.code))) });
  const names = new globalThis.Map(areas.features.map((f) => {
    const p = f.properties ?? {};
    return [String(p.code), String((currentLang() === "zh" ? p.name_zh : p.name_en || p.name_zh) ?? "")] as const;
  }));
  box.append(
    h("table", {},
      h("caption", { class: "visually-hidden" }, t("spikes_title")),
      h("thead", {}, h("tr", {}, [t("category"), t("area"), t("observed"), t("expected")].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, found.slice(0, 20).map((s) =>
        h("tr", {}, h("td", {}, categoryLabel(s.category_code)), h("td", {}, `${names.get(s.area_code) ?? ""} ${s.area_code}`.trim()), h("td", {}, fmtNumber(s.observed)),
          h("td", {}, `${fmtNumber(Math.round(s.expected * 10) / 10)} (${s.low}–${s.high})`))))),
  );
}

/** The side panel's latest drill. A drill that waits for the server renders only if no other
 * began meanwhile: a slow answer must not replace what the user chose after it. */
const drillTurns = new WeakMap<HTMLElement, number>();
function takeTurn(panel: HTMLElement): () => boolean {
  const mine = (drillTurns.get(panel) ?? 0) + 1;
  drillTurns.set(panel, mine);
  return () => drillTurns.get(panel) === mine;
}

/** District → its subdistricts, in the side panel (the map already fits the district). */
function drillDistrict(
  map: Map, panel: HTMLElement, user: Me, code: string, districts: GeoJSON.FeatureCollection, subdistricts: GeoJSON.FeatureCollection,
): void {
  const mine = subdistricts.features
    .filter((f) => String(f.properties?.parent_code) === code)
    .sort((a, b) => String(a.properties?.code).localeCompare(String(b.properties?.code)));
  const name = areaName(districts.features.find((f) => String(f.properties?.code) === code), code);
  takeTurn(panel);
  clear(panel);
  panel.dataset.district = code;
  for (const k of ["subdistrict", "cell", "grid", "case"]) delete panel.dataset[k];
  panel.append(
    h("h2", { id: "drill-h" }, t("drill_district", { name })),
    h("p", { class: "hint" }, t("drill_district_hint")),
    mine.length
      ? h("ul", { class: "drill-list", id: "drill-subdistricts" }, mine.map((f) => {
          const sub = String(f.properties?.code);
          return h("li", {}, h("button", {
            type: "button", class: "link", "data-subdistrict": sub,
            onclick: () => void drillSubdistrict(map, panel, user, f, () => drillDistrict(map, panel, user, code, districts, subdistricts)),
          }, areaName(f, sub)), " ", h("small", { class: "code" }, sub));
        }))
      : h("p", {}, t("none")),
  );
  panel.focus();
}

/** Cases read for a subdistrict's grid list: one page of the cases API (its largest). */
const SUBDISTRICT_CASES = 200;

/** Subdistrict → the map fits it (the busiest cells in view follow) → its unit grids with open
 * cases, most red first → a grid's cases (``drillGrid``). The counts come from the cases API's
 * area filter: the map API tallies districts only. */
async function drillSubdistrict(map: Map, panel: HTMLElement, user: Me, f: GeoJSON.Feature, back: () => void): Promise<void> {
  const code = String(f.properties?.code);
  const current = takeTurn(panel);
  map.fitBounds(boundsOf([f]), { padding: 20, duration: 0 });
  const query = OPEN_STATUSES.map((s) => `status=${s}`).join("&");
  const page = await get<{ items: CaseOut[]; next_cursor: string | null }>(
    `/api/v1/cases?area=${encodeURIComponent(code)}&${query}&limit=${SUBDISTRICT_CASES}`,
  );
  const grids = new globalThis.Map<string, { open: number; red: number }>();
  for (const c of page.items) {
    if (!c.location.unit_grid) continue;
    const g = grids.get(c.location.unit_grid) ?? { open: 0, red: 0 };
    g.open += 1;
    if (c.clock?.light === "red") g.red += 1;
    grids.set(c.location.unit_grid, g);
  }
  const rows = [...grids].sort(([, a], [, b]) => b.red - a.red || b.open - a.open);
  if (!current()) return;
  const again = (): void => void drillSubdistrict(map, panel, user, f, back);
  clear(panel);
  panel.dataset.subdistrict = code;
  for (const k of ["cell", "grid", "case"]) delete panel.dataset[k];
  panel.append(
    h("p", {}, h("button", { type: "button", class: "secondary", id: "drill-up", onclick: back }, t("back_to_district"))),
    h("h2", { id: "drill-h" }, counted(page.items.length, "drill_subdistrict_one", "drill_subdistrict", { name: areaName(f, code) })),
    ...(page.next_cursor ? [h("p", { class: "hint" }, t("drill_subdistrict_more", { n: fmtNumber(SUBDISTRICT_CASES) }))] : []),
    h("h3", {}, t("drill_grids")),
    rows.length
      ? h("ol", { class: "drill-list", id: "drill-grids" }, rows.map(([grid, n]) =>
          h("li", {}, h("button", {
            type: "button", class: "link", "data-grid": grid, "aria-label": `${t("unit_grid")} ${grid}`,
            onclick: () => void drillGrid(panel, user, grid, again),
          }, grid), " ", t("cell_label", { n: fmtNumber(n.open), red: fmtNumber(n.red) }))))
      : h("p", {}, t("none")),
  );
  panel.focus();
}

/** A cell → its open cases → one case, in the side panel; the map zooms in on the cell. */
async function drillCell(map: Map, panel: HTMLElement, user: Me, cell: string): Promise<void> {
  const current = takeTurn(panel);
  const page = await get<{ cell: string; resolution: number; total: number; items: CaseBrief[] }>(
    `/api/v1/map/cells/${cell}/cases?limit=100`,
  );
  if (!current()) return;
  const again = (): void => void drillCell(map, panel, user, cell);
  clear(panel);
  panel.dataset.cell = cell;
  for (const k of ["grid", "case"]) delete panel.dataset[k];
  panel.append(
    h("h2", { id: "drill-h" }, counted(page.total, "drill_cell_one", "drill_cell")),
    h("p", { class: "hint" }, `H3 ${cell} (res ${page.resolution})`),
    page.items.length
      ? h("ul", { class: "drill-list" }, page.items.map((c) =>
          h("li", {},
            h("button", { type: "button", class: "link", "data-case": c.number, onclick: () => void drillCase(panel, user, c.id, again) }, c.number),
            " ", lightBadge(c.light), " ", word("s_", c.status), " · ", categoryLabel(c.category_code), " · ",
            c.unit_grid
              ? h("button", { type: "button", class: "link", "data-grid": c.unit_grid, "aria-label": `${t("unit_grid")} ${c.unit_grid}`, onclick: () => void drillGrid(panel, user, c.unit_grid!) }, c.unit_grid)
              : "")))
      : h("p", {}, t("none")),
  );
  panel.focus();
  const [lng, lat] = centreOf(page.items);
  if (page.resolution < 9 && Number.isFinite(lng)) {
    map.easeTo({ center: [lng, lat], zoom: Math.min(map.getZoom() + 2, 17), duration: 0 });
  }
}

const OPEN_STATUSES = ["to_verify", "to_file", "to_dispatch", "dispatched", "handling", "on_hold", "to_check", "to_close"];

/** A unit grid → its open cases (the cases API's area filter takes a grid code) → one case;
 * ``up`` goes back to the list the grid was chosen from (a subdistrict's). */
async function drillGrid(panel: HTMLElement, user: Me, code: string, up?: () => void): Promise<void> {
  const current = takeTurn(panel);
  const query = OPEN_STATUSES.map((s) => `status=${s}`).join("&");
  const page = await get<{ items: CaseOut[] }>(`/api/v1/cases?area=${encodeURIComponent(code)}&${query}&limit=100&sort=created_at`);
  if (!current()) return;
  const again = (): void => void drillGrid(panel, user, code, up);
  clear(panel);
  panel.dataset.grid = code;
  for (const k of ["cell", "case"]) delete panel.dataset[k];
  panel.append(
    ...(up ? [h("p", {}, h("button", { type: "button", class: "secondary", id: "drill-up", onclick: up }, t("back_to_list")))] : []),
    h("h2", { id: "drill-h" }, counted(page.items.length, "drill_grid_one", "drill_grid", { code })),
    page.items.length
      ? h("ul", { class: "drill-list" }, page.items.map((c) =>
          h("li", {},
            h("button", { type: "button", class: "link", "data-case": c.number, onclick: () => void drillCase(panel, user, c.id, again) }, c.number),
            " ", lightBadge(c.clock?.light), " ", word("s_", c.status), " · ", categoryLabel(c.category_code))))
      : h("p", {}, t("none")),
  );
  panel.focus();
}

async function drillCase(panel: HTMLElement, user: Me, id: number, back: () => void): Promise<void> {
  const current = takeTurn(panel);
  clear(panel);
  // The list's marks go: a test (or a script) waiting for the list again waits for its re-render.
  for (const k of ["cell", "grid"]) delete panel.dataset[k];
  panel.dataset.case = String(id);
  panel.append(
    h("p", {}, h("button", { type: "button", class: "secondary", id: "drill-back", onclick: back }, t("back_to_list"))),
  );
  const body = h("div", { class: "drill-case" });
  panel.append(body);
  await caseView(body, id, user, 2, () => void drillCase(panel, user, id, back));
  if (current()) panel.focus();
}

function centreOf(items: CaseBrief[]): [number, number] {
  if (!items.length) return [NaN, NaN];
  const lng = items.reduce((a, c) => a + c.lon, 0) / items.length;
  const lat = items.reduce((a, c) => a + c.lat, 0) / items.length;
  return [lng, lat];
}


/** The command centre of one who reads the figures but no cases (an analyst): the evaluation
 * and the export, without the map of cases, the feed and the district table, which are cases. */
function evaluationOnly(main: HTMLElement, user: Me): void {
  if (!may(user, "analytics.read") && !may(user, "analytics.export")) {
    main.append(h("p", { class: "error" }, t("not_allowed")));
    return;
  }
  const rates = h("section", { id: "rates", class: "rates", "aria-labelledby": "rates-h" },
    h("h2", { id: "rates-h" }, t("rates_title")));
  main.append(h("h1", {}, t("rates_only_title")), rates);
  window.addEventListener("hashchange", () => endRates(), { once: true });
  if (may(user, "analytics.read")) loadRates(rates, areaDoc);
  if (may(user, "analytics.export")) rates.append(exportForm(user, areaDoc));
}
