// An inspector's own patch: the unit grids they are assigned today and the open cases in them.
import { currentUser, get } from "../api";
import { h } from "../dom";
import { fmtDate, fmtNumber, t, word } from "../i18n";
import { go } from "../main";
import { boundsOf, loaded, newCityMap } from "../map";
import { categoryLabel, lightBadge, loadCategoryNames } from "./parts";

interface GridTally {
  code: string;
  open: number;
  red: number;
  yellow: number;
}

interface MyGrids {
  grids: GridTally[];
  cases: GeoJSON.FeatureCollection;
  truncated: boolean;
}

/** The shapes change only with the grid or the assignment: the browser keeps them and asks
 * again with their ETag (the server answers 304), so only the tallies travel each visit. */
function shapes(): Promise<GeoJSON.FeatureCollection> {
  return get<GeoJSON.FeatureCollection>("/api/v1/map/my-grids/shapes");
}

const LIGHT_COLOUR = ["match", ["get", "light"], "red", "#c62828", "yellow", "#f9a825", "#2e7d32"];

export async function gridsPage(main: HTMLElement): Promise<void> {
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fmy-grids");
  const [mine, outlines] = await Promise.all([get<MyGrids>("/api/v1/map/my-grids"), shapes(), loadCategoryNames()]);
  const tally = new globalThis.Map(mine.grids.map((g) => [g.code, g]));
  const grids: GeoJSON.FeatureCollection = {
    type: "FeatureCollection",
    features: outlines.features.map((f) => ({ ...f, properties: { ...f.properties, ...tally.get(String(f.properties?.code)) } })),
  };
  const opened = mine.grids.reduce((a, g) => a + g.open, 0);
  const mapBox = h("div", { class: "map small", id: "grids-map" });
  main.append(
    h("h1", {}, t("my_grids_title")),
    h("p", { class: "lead", id: "my-grids-summary" },
      t("my_grids_summary", { grids: fmtNumber(mine.grids.length), cases: fmtNumber(opened) })),
    mapBox,
  );
  const map = await newCityMap(mapBox);
  const all = [...grids.features, ...mine.cases.features];
  if (all.length) map.fitBounds(boundsOf(all), { padding: 20, animate: false, maxZoom: 16 });
  await loaded(map);
  map.addSource("mine", { type: "geojson", data: grids });
  map.addLayer({
    id: "mine-fill",
    type: "fill",
    source: "mine",
    paint: {
      "fill-color": ["case", [">", ["get", "red"], 0], "#c62828", [">", ["get", "yellow"], 0], "#f9a825", [">", ["get", "open"], 0], "#2e7d32", "#0b4f8a"],
      "fill-opacity": ["case", [">", ["get", "open"], 0], 0.35, 0.08],
    },
  });
  map.addLayer({ id: "mine-line", type: "line", source: "mine", paint: { "line-color": "#0b4f8a", "line-width": 1 } });
  map.addSource("open", { type: "geojson", data: mine.cases });
  map.addLayer({
    id: "open",
    type: "circle",
    source: "open",
    paint: { "circle-radius": 7, "circle-color": LIGHT_COLOUR as never, "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 },
  });
  map.on("click", "open", (e) => {
    const id = e.features?.[0]?.properties?.id;
    if (id) go(`#/case/${id}`);
  });
  map.on("mouseenter", "open", () => (map.getCanvas().style.cursor = "pointer"));
  map.on("mouseleave", "open", () => (map.getCanvas().style.cursor = ""));
  document.body.dataset.myGrids = String(mine.grids.length);

  const busy = mine.grids.filter((g) => g.open > 0).sort((a, b) => b.red - a.red || b.open - a.open);
  main.append(
    h("section", { "aria-labelledby": "mg-cases-h" },
      h("h2", { id: "mg-cases-h" }, t("my_grids_cases")),
      mine.cases.features.length
        ? h("table", { class: "cases", id: "my-grid-cases" },
            h("caption", { class: "visually-hidden" }, t("my_grids_cases")),
            h("thead", {}, h("tr", {}, [t("number"), t("unit_grid"), t("category"), t("status"), t("light"), t("deadline")].map((x) => h("th", { scope: "col" }, x)))),
            h("tbody", {}, mine.cases.features.map((f) => {
              const p = f.properties ?? {};
              return h("tr", {},
                h("td", {}, h("a", { href: `#/case/${p.id}`, class: "case-link" }, String(p.number))),
                h("td", {}, String(p.unit_grid ?? "")),
                h("td", {}, categoryLabel(String(p.category_code))),
                h("td", {}, word("s_", String(p.status))),
                h("td", {}, lightBadge(String(p.light))),
                h("td", {}, fmtDate(p.deadline as string | null)));
            })))
        : h("p", {}, t("none")),
      mine.truncated ? h("p", { class: "notice" }, t("truncated")) : null),
    h("section", { "aria-labelledby": "mg-grids-h" },
      h("h2", { id: "mg-grids-h" }, t("my_grids_busy")),
      busy.length
        ? h("ul", {}, busy.map((g) => h("li", {}, `${g.code}: ${fmtNumber(g.open)} ${t("open")}`,
            g.red ? ` · ${fmtNumber(g.red)} ${t("red")}` : "")))
        : h("p", {}, t("none"))),
  );
}
