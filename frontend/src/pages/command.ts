import { currentUser, get } from "../api";
import { h, nextId } from "../dom";
import { fmtDate, fmtNumber, t, word, type Key } from "../i18n";
import { go } from "../main";
import { addAreas, cityMap, setVisible, type Map } from "../map";

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

let feed: EventSource | null = null;

function resolutionFor(zoom: number): number {
  return Math.max(5, Math.min(10, Math.round(zoom * 0.75 - 1)));
}

async function loadCells(map: Map): Promise<void> {
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
  const t0 = performance.now();
  const doc = await get<GeoJSON.FeatureCollection & { total: number; resolution: number }>(
    `/api/v1/map/cells?resolution=${resolutionFor(map.getZoom())}&bbox=${bbox}`,
  );
  const source = map.getSource("cells") as { setData?: (d: unknown) => void } | undefined;
  source?.setData?.(doc);
  document.body.dataset.cells = String(doc.features.length);
  document.body.dataset.cellsMs = String(Math.round(performance.now() - t0));
}

const GRID_ZOOM = 14;

/** Unit grids only when zoomed in: a city has tens of thousands. */
async function loadGrids(map: Map): Promise<void> {
  if (map.getZoom() < GRID_ZOOM) return;
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
  const doc = await get<GeoJSON.FeatureCollection>(`/api/v1/map/unit-grids?bbox=${bbox}`);
  (map.getSource("grids") as { setData?: (d: unknown) => void } | undefined)?.setData?.(doc);
}

export async function commandPage(main: HTMLElement): Promise<void> {
  feed?.close();
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fcommand");
  const started = performance.now();
  document.body.classList.add("wide");
  const mapBox = h("div", { class: "map full", id: "command-map" });
  const layers = h("fieldset", { class: "layers" }, h("legend", {}, t("layers")));
  const feedList = h("ol", { class: "feed", id: "feed", "aria-live": "polite" });
  const table = h("div", { id: "district-table" });
  const ranking = h("div", { id: "ranking" });
  main.append(
    h("h1", {}, t("command_title")),
    h("div", { class: "command" }, mapBox,
      h("aside", { "aria-label": t("command_title") }, layers,
        h("section", { "aria-labelledby": "feed-h" }, h("h2", { id: "feed-h" }, t("live_feed")), feedList),
        h("section", { "aria-labelledby": "table-h" }, h("h2", { id: "table-h" }, t("districts_table")), table),
        h("section", { "aria-labelledby": "rank-h" }, h("h2", { id: "rank-h" }, t("rates_table")), ranking))),
  );

  const map = await cityMap(mapBox);
  await addAreas(map, "district", true);
  await addAreas(map, "subdistrict");
  await addAreas(map, "community");
  map.addSource("cells", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({
    id: "cells",
    type: "fill",
    source: "cells",
    paint: {
      "fill-color": ["match", ["get", "light"], "red", "#c62828", "yellow", "#f9a825", "#2e7d32"],
      "fill-opacity": ["interpolate", ["linear"], ["get", "total"], 1, 0.45, 50, 0.85],
      "fill-outline-color": "#333333",
    },
  });
  map.addSource("grids", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "grids", type: "line", source: "grids", minzoom: GRID_ZOOM, paint: { "line-color": "#6c757d", "line-width": 0.5 } });
  map.on("click", "cells", (e) => map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, 17) }));
  await loadCells(map);
  map.on("moveend", () => {
    void loadCells(map);
    void loadGrids(map);
  });
  setVisible(map, ["areas-community"], false);

  const toggles: [Key, string[], boolean][] = [
    ["l_district", ["areas-district", "areas-district-fill"], true],
    ["l_subdistrict", ["areas-subdistrict"], true],
    ["l_community", ["areas-community"], false],
    ["l_grids", ["grids"], true],
    ["l_cells", ["cells"], true],
  ];
  for (const [key, ids, on] of toggles) {
    const id = nextId("layer");
    const box = h("input", { type: "checkbox", id, checked: on });
    box.addEventListener("change", () => setVisible(map, ids, box.checked));
    layers.append(h("div", { class: "check" }, box, h("label", { for: id }, t(key))));
  }
  document.body.dataset.firstRenderMs = String(Math.round(performance.now() - started));

  const tallies = await get<DistrictTally[]>("/api/v1/map/districts");
  const sum = (k: keyof Omit<DistrictTally, "district">): number => tallies.reduce((a, r) => a + r[k], 0);
  const cols: (keyof Omit<DistrictTally, "district">)[] = ["open", "red", "yellow"];
  table.append(
    h("table", {},
      h("caption", { class: "visually-hidden" }, t("districts_table")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("district")), cols.map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, [...tallies].sort((a, b) => b.red - a.red || b.open - a.open).map((r) =>
        h("tr", {}, h("th", { scope: "row" }, r.district), cols.map((c) => h("td", {}, fmtNumber(r[c])))))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, t("total")), cols.map((c) => h("td", {}, fmtNumber(sum(c))))))),
  );

  void loadRanking(ranking, user.actions.includes("analytics.read"));

  feed = new EventSource("/api/v1/map/feed");
  feed.addEventListener("case", (ev) => {
    const item = JSON.parse((ev as MessageEvent<string>).data) as FeedItem;
    feedList.prepend(
      h("li", { class: `light-${item.light}`, "data-case": item.number },
        h("a", { href: `#/case/${item.id}` }, item.number), " ",
        word("s_", item.status), " · ", item.category_code, " · ", item.district ?? "", " ",
        h("time", { datetime: item.updated_at }, fmtDate(item.updated_at))),
    );
    while (feedList.children.length > 50) feedList.lastElementChild?.remove();
  });
  window.addEventListener("hashchange", () => {
    feed?.close();
    document.body.classList.remove("wide");
  }, { once: true });
}

/** The analytics issue's monthly three-rate ranking, shown as the API gives it. */
async function loadRanking(box: HTMLElement, allowed: boolean): Promise<void> {
  const month = new Date().toISOString().slice(0, 7);
  const r = allowed
    ? await get<{ rows: Record<string, unknown>[] }>(`/api/v1/analytics/ranking?month=${month}&unit=district`).catch(() => null)
    : null;
  const rows = r?.rows ?? [];
  if (!rows.length) {
    box.append(h("p", {}, t("none")));
    return;
  }
  const cols = Object.keys(rows[0]).slice(0, 6);
  const cell = (v: unknown): string => (typeof v === "number" ? fmtNumber(Math.round(v * 1000) / 1000) : String(v ?? ""));
  box.append(
    h("table", {},
      h("caption", { class: "visually-hidden" }, t("rates_table")),
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.slice(0, 20).map((row) => h("tr", {}, cols.map((c) => h("td", {}, cell(row[c]))))))),
  );
}
