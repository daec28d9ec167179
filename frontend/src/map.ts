// MapLibre with the city's own data: its boundaries from the grid API, and a basemap only when
// the city's settings name one. No glyphs or sprites are needed: no text layers are drawn.
import maplibregl from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import { get, webConfig } from "./api";
import { t } from "./i18n";

// MapLibre parses its tiles in web workers whose start (their own copy of the library) took a
// second of a loaded machine's time before the command centre's first frame: start them as
// soon as this chunk is here (main.ts fetches it while the browser idles), not with a map.
maplibregl.prewarm();

export type Map = maplibregl.Map;
export const { Marker } = maplibregl;

type StyleSpec = maplibregl.StyleSpecification;

async function baseStyle(): Promise<string | StyleSpec> {
  const cfg = await webConfig();
  const empty: StyleSpec = {
    version: 8,
    sources: {},
    layers: [{ id: "paper", type: "background", paint: { "background-color": "#f4f1ea" } }],
  };
  if (!cfg.basemap_url) return empty;
  if (cfg.basemap_url.includes("{z}")) {
    empty.sources.basemap = {
      type: "raster",
      tiles: [cfg.basemap_url],
      tileSize: 256,
      attribution: cfg.basemap_attribution,
    };
    empty.layers.push({ id: "basemap", type: "raster", source: "basemap" });
    return empty;
  }
  return cfg.basemap_url;
}

/** A map of the city, constructed but perhaps not loaded yet: a page may place the camera
 * and ask for its data while the style and the first frame are prepared. */
export async function newCityMap(container: HTMLElement): Promise<Map> {
  container.setAttribute("role", "region");
  container.setAttribute("aria-label", t("map_label"));
  const map = new maplibregl.Map({
    container,
    style: await baseStyle(),
    center: [116.4, 39.9],
    zoom: 9,
    attributionControl: false,
    locale: controlWords(),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  // Listened for at once: "load" fires only once, perhaps while the page awaits its data.
  ready.set(map, new Promise<void>((resolve) => map.once("load", () => resolve())));
  return map;
}

const ready = new WeakMap<Map, Promise<void>>();

/** MapLibre's own words (its buttons' titles and labels) in the user's language. */
function controlWords(): Record<string, string> {
  return {
    "NavigationControl.ZoomIn": t("map_zoom_in"),
    "NavigationControl.ZoomOut": t("map_zoom_out"),
    "NavigationControl.ResetBearing": t("map_reset_bearing"),
    "Map.Title": t("map_label"),
    "Marker.Title": t("map_marker"),
    "Popup.Close": t("map_popup_close"),
  };
}

/** Resolves when the map's style is loaded and its first frame drawn. */
export function loaded(map: Map): Promise<void> {
  return ready.get(map) ?? Promise.resolve();
}

export async function cityMap(container: HTMLElement): Promise<Map> {
  const map = await newCityMap(container);
  await loaded(map);
  return map;
}

const AREA_STYLE: Record<string, { color: string; width: number }> = {
  district: { color: "#1d3557", width: 2.5 },
  subdistrict: { color: "#457b9d", width: 1.2 },
  community: { color: "#8d99ae", width: 0.6 },
};

const areaDocs = new globalThis.Map<string, Promise<GeoJSON.FeatureCollection>>();

/** A level's boundaries, asked once per page load (they change only when the grid does). */
export function areaDoc(level: string): Promise<GeoJSON.FeatureCollection> {
  let doc = areaDocs.get(level);
  if (!doc) {
    const tolerance = level === "district" ? 30 : 10;
    doc = get<GeoJSON.FeatureCollection>(`/api/v1/areas.geojson?level=${level}&tolerance=${tolerance}`);
    doc.catch(() => areaDocs.delete(level));
    areaDocs.set(level, doc);
  }
  return doc;
}

/** Add a level's boundaries as a line layer; fit the map to the districts. */
export async function addAreas(map: Map, level: string, fit = false): Promise<GeoJSON.FeatureCollection> {
  const doc = await areaDoc(level);
  drawAreas(map, level, doc);
  if (fit && doc.features.length) map.fitBounds(boundsOf(doc.features), { padding: 20, animate: false });
  return doc;
}

/** Draw boundaries already fetched (the map must be loaded). */
export function drawAreas(map: Map, level: string, doc: GeoJSON.FeatureCollection): void {
  const id = `areas-${level}`;
  map.addSource(id, { type: "geojson", data: doc });
  if (level === "district") {
    map.addLayer({
      id: `${id}-fill`,
      type: "fill",
      source: id,
      paint: { "fill-color": "#ffffff", "fill-opacity": 0.35 },
    });
  }
  const style = AREA_STYLE[level] ?? { color: "#666", width: 1 };
  map.addLayer({
    id,
    type: "line",
    source: id,
    paint: { "line-color": style.color, "line-width": style.width },
  });
}

export function boundsOf(features: GeoJSON.Feature[]): maplibregl.LngLatBounds {
  const b = new maplibregl.LngLatBounds();
  for (const f of features) if (f.geometry) eachCoord(f.geometry, (c) => b.extend(c as [number, number]));
  return b;
}

function eachCoord(g: GeoJSON.Geometry, fn: (c: GeoJSON.Position) => void): void {
  if (g.type === "Polygon") g.coordinates.forEach((r) => r.forEach(fn));
  else if (g.type === "MultiPolygon") g.coordinates.forEach((p) => p.forEach((r) => r.forEach(fn)));
  else if (g.type === "GeometryCollection") g.geometries.forEach((x) => eachCoord(x, fn));
  else if (g.type === "Point") fn(g.coordinates);
}

export function setVisible(map: Map, layerIds: string[], visible: boolean): void {
  for (const id of layerIds) {
    if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
  }
}

// Open cases as H3 cells: the command centre's layer and the public map's.
export type Cells = GeoJSON.FeatureCollection & { total: number; resolution: number };
export const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };
/** A cell's colour: its worst light. */
export const CELL_COLOUR: maplibregl.ExpressionSpecification = ["match", ["get", "light"], "red", "#c62828", "yellow", "#f9a825", "#2e7d32"];

/** Finer cells as the map zooms in (H3 5 for the whole city … 10 for a street). */
export function resolutionFor(zoom: number): number {
  return Math.max(5, Math.min(10, Math.round(zoom * 0.75 - 1)));
}

export function bboxOf(map: Map): string {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
}

/** Whether ``map`` is still on the page: a reply may arrive after its page was left and the
 * map removed (MapLibre then has no style to ask for a source). */
export function alive(map: Map): boolean {
  return !!(map as unknown as { style?: unknown }).style;
}

export function setData(map: Map, id: string, doc: unknown): void {
  if (!alive(map)) return;
  (map.getSource(id) as { setData?: (d: unknown) => void } | undefined)?.setData?.(doc);
}

/** The open cells in the map's view at its zoom's resolution; ``extra`` adds query parameters. */
export function askCells(map: Map, extra = ""): Promise<Cells> {
  return get<Cells>(`/api/v1/map/cells?resolution=${resolutionFor(map.getZoom())}&bbox=${bboxOf(map)}${extra}`);
}

/** The "cells" source and its flat layer, empty until ``setData``. */
export function addCellsLayer(map: Map): void {
  map.addSource("cells", { type: "geojson", data: EMPTY });
  map.addLayer({
    id: "cells",
    type: "fill",
    source: "cells",
    paint: {
      "fill-color": CELL_COLOUR,
      "fill-opacity": ["interpolate", ["linear"], ["get", "total"], 1, 0.45, 50, 0.85],
      "fill-outline-color": "#333333",
    },
  });
}
