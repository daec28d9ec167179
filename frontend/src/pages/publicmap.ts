// The public map: open cases as H3 cells coloured by their worst light, and the recent requests
// in the view, for anyone, signed in or not. Both sources are public and carry no personal data:
// the cells are counts (asked with public=true, so a signed-in citizen sees the whole city, not
// only their own reports), and the list is Open311's GET requests (GeoReport v2 is public by
// the standard and never returns the reporter).
import { get } from "../api";
import { clear, h } from "../dom";
import { fmtDate, fmtNumber, t, word } from "../i18n";
import {
  addCellsLayer, alive, areaDoc, askCells, bboxOf, boundsOf, drawAreas, loaded, Marker, newCityMap, setData, type Map,
} from "../map";
import { categoryLabel, lightBadge, loadCategoryNames } from "./parts";

/** A GeoReport v2 service request, the fields this page shows. */
interface Request311 {
  service_request_id: string;
  status: "open" | "closed";
  service_name: string;
  service_code: string;
  description: string | null;
  requested_datetime: string;
  address: string | null;
  lat: number;
  long: number;
}

const RECENT_DAYS = 30;
const RECENT_SHOWN = 20;
const EXCERPT = 80;

function excerpt(r: Request311): string {
  const text = (r.address || r.description || "").replace(/\s+/g, " ").trim();
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT - 1)}…` : text;
}

async function loadCells(map: Map): Promise<void> {
  const doc = await askCells(map, "&public=true");
  if (!alive(map)) return; // the page was left while the cells were on their way
  setData(map, "cells", doc);
  document.body.dataset.cells = String(doc.features.length);
}

function recentQuery(map: Map): string {
  const since = new Date(Date.now() - RECENT_DAYS * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
  return `/open311/v2/requests.json?bbox=${bboxOf(map)}&start_date=${since}&page_size=${RECENT_SHOWN}`;
}

export async function publicMapPage(main: HTMLElement): Promise<void> {
  const namesLoaded = loadCategoryNames();
  const districtsAsked = areaDoc("district");
  const mapBox = h("div", { class: "map public", id: "public-map" });
  const list = h("ol", { class: "recent", id: "recent" });
  const legend = h(
    "ul",
    { class: "legend" },
    ["red", "yellow", "green"].map((light) => h("li", {}, lightBadge(light))),
  );
  main.append(
    h("h1", {}, t("map_title")),
    h("p", { class: "lead" }, t("map_intro")),
    h(
      "div",
      { class: "command public-map" },
      mapBox,
      h(
        "aside",
        { "aria-label": t("map_title") },
        h("section", { "aria-labelledby": "legend-h" }, h("h2", { id: "legend-h" }, t("map_legend")), legend),
        h("section", { "aria-labelledby": "recent-h" }, h("h2", { id: "recent-h" }, t("recent_requests")), list),
      ),
    ),
  );

  const districts = await districtsAsked;
  const map = await newCityMap(mapBox);
  window.addEventListener(
    "hashchange",
    () => {
      map.remove(); // a WebGL context each: browsers keep only a few
      delete document.body.dataset.cells;
      delete document.body.dataset.recent;
    },
    { once: true },
  );
  if (districts.features.length) map.fitBounds(boundsOf(districts.features), { padding: 20, animate: false });
  await Promise.all([loaded(map), namesLoaded]);
  if (!alive(map)) return;
  drawAreas(map, "district", districts);
  addCellsLayer(map);
  const marker = new Marker({ color: "#0b4f8a" });

  // A move the list asked for keeps the list as it is: redrawn, it would lose the focus.
  let fromList = false;
  const centre = (r: Request311): void => {
    fromList = true;
    marker.setLngLat([r.long, r.lat]).addTo(map);
    map.easeTo({ center: [r.long, r.lat], zoom: Math.max(map.getZoom(), 15), duration: 0 });
  };
  const loadRecent = async (): Promise<void> => {
    const found = await get<Request311[]>(recentQuery(map));
    if (!alive(map)) return;
    clear(list);
    list.append(
      ...(found.length
        ? found.map((r) =>
            h(
              "li",
              { "data-request": r.service_request_id },
              h(
                "button",
                { type: "button", class: "link", title: t("show_on_map"), onclick: () => centre(r) },
                categoryLabel(r.service_code),
              ),
              h(
                "p",
                {},
                h("span", { class: `state ${r.status}` }, word("", r.status)),
                " · ",
                h("time", { datetime: r.requested_datetime }, fmtDate(r.requested_datetime)),
              ),
              excerpt(r) ? h("p", { class: "excerpt" }, excerpt(r)) : null,
            ),
          )
        : [h("li", {}, t("none"))]),
    );
    document.body.dataset.recent = String(found.length);
    list.setAttribute("aria-label", `${t("recent_requests")}: ${fmtNumber(found.length)}`);
  };
  map.on("moveend", () => {
    void loadCells(map);
    if (!fromList) void loadRecent();
    fromList = false;
  });
  await Promise.all([loadCells(map), loadRecent()]);
}
