// MapLibre with the city's own data: its boundaries from the grid API, and a basemap only when
// the city's settings name one. No glyphs or sprites are needed: no text layers are drawn.
import maplibregl from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import { get, webConfig } from "./api";
import { t } from "./i18n";

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

export async function cityMap(container: HTMLElement): Promise<Map> {
  container.setAttribute("role", "region");
  container.setAttribute("aria-label", t("map_label"));
  const map = new maplibregl.Map({
    container,
    style: await baseStyle(),
    center: [116.4, 39.9],
    zoom: 9,
    attributionControl: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  await new Promise<void>((resolve) => {
    if (map.loaded()) resolve();
    else map.once("load", () => resolve());
  });
  return map;
}

const AREA_STYLE: Record<string, { color: string; width: number }> = {
  district: { color: "#1d3557", width: 2.5 },
  subdistrict: { color: "#457b9d", width: 1.2 },
  community: { color: "#8d99ae", width: 0.6 },
};

/** Add a level's boundaries as a line layer; fit the map to the districts. */
export async function addAreas(map: Map, level: string, fit = false): Promise<GeoJSON.FeatureCollection> {
  const tolerance = level === "district" ? 30 : 10;
  const doc = await get<GeoJSON.FeatureCollection>(
    `/api/v1/areas.geojson?level=${level}&tolerance=${tolerance}`,
  );
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
  if (fit && doc.features.length) map.fitBounds(boundsOf(doc.features), { padding: 20, animate: false });
  return doc;
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
