// An inspector's own patch: the unit grids they are assigned today and the open cases in them.
import { currentUser, get } from "../api";
import { h } from "../dom";
import { fmtDate, fmtNumber, t, word } from "../i18n";
import { go } from "../main";
import { boundsOf, cityMap } from "../map";
import { categoryLabel, lightBadge, loadCategoryNames } from "./parts";

interface MyGrids {
  grids: GeoJSON.FeatureCollection;
  cases: GeoJSON.FeatureCollection;
  truncated: boolean;
}

const LIGHT_COLOUR = ["match", ["get", "light"], "red", "#c62828", "yellow", "#f9a825", "#2e7d32"];

export async function gridsPage(main: HTMLElement): Promise<void> {
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fmy-grids");
  const [mine] = await Promise.all([get<MyGrids>("/api/v1/map/my-grids"), loadCategoryNames()]);
  const mapBox = h("div", { class: "map small", id: "grids-map" });
  main.append(
    h("h1", {}, t("my_grids_title")),
    h("p", { class: "lead", id: "my-grids-summary" },
      t("my_grids_summary", { grids: fmtNumber(mine.grids.features.length), cases: fmtNumber(mine.cases.features.length) })),
    mapBox,
  );
  const map = await cityMap(mapBox);
  map.addSource("mine", { type: "geojson", data: mine.grids });
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
  const all = [...mine.grids.features, ...mine.cases.features];
  if (all.length) map.fitBounds(boundsOf(all), { padding: 20, animate: false, maxZoom: 16 });
  document.body.dataset.myGrids = String(mine.grids.features.length);

  const busy = mine.grids.features.filter((f) => Number(f.properties?.open) > 0);
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
        ? h("ul", {}, busy.map((f) => h("li", {}, `${f.properties?.code}: ${fmtNumber(Number(f.properties?.open))} ${t("open")}`,
            Number(f.properties?.red) ? ` · ${fmtNumber(Number(f.properties?.red))} ${t("red")}` : "")))
        : h("p", {}, t("none"))),
  );
}
