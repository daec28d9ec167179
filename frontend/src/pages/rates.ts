// The command centre's evaluation panel: the hotline's monthly three-rate ranking and each
// department's on-time close rate, as tables and charts, for a month the leader picks.
// Loaded on demand, so the chart library never delays the map's first render.
import type { Chart as ChartType } from "chart.js";
import { get } from "../api";
import { clear, h } from "../dom";
import { cityToday, currentLang, fmtNumber, fmtPercent, t, type Key } from "../i18n";

interface RankingRow {
  rank: number | null;  // null: no score this month (nothing to rate), listed last
  unit: string;
  name: string | null;
  response_rate: number | null;
  resolution_rate: number | null;
  satisfaction_rate: number | null;
  score: number | null;
  band: string | null;
}

interface OnTimeRow {
  department_code: string;
  period_start: string;
  dispatched: number;
  held: number;
  closed_on_time: number;
  on_time_close_rate: number | null;
}

type Unit = "district" | "subdistrict" | "department";
type Names = Map<string, string>;

const BAR = "#1565c0";
const charts: ChartType[] = [];

/** Ends the panel's charts (each holds a canvas and a resize observer). */
export function endRates(): void {
  while (charts.length) charts.pop()?.destroy();
}

function local(zh: string | undefined, en: string | undefined, code: string): string {
  return (currentLang() === "zh" ? zh : en || zh) || code;
}

async function areaNames(level: Unit, areas: (level: string) => Promise<GeoJSON.FeatureCollection>): Promise<Names> {
  const names: Names = new Map();
  if (level === "department") {
    const rows = await get<{ code: string; name_zh: string; name_en: string }[]>("/api/v1/departments").catch(() => []);
    for (const d of rows) names.set(d.code, local(d.name_zh, d.name_en, d.code));
    return names;
  }
  const doc = await areas(level).catch(() => null);
  for (const f of doc?.features ?? []) {
    const p = f.properties ?? {};
    names.set(String(p.code), local(p.name_zh, p.name_en, String(p.code)));
  }
  return names;
}

/** The month before ``month`` (YYYY-MM). */
function previous(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

function lastDay(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0")}`;
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? "–" : fmtPercent(v));

async function barChart(canvas: HTMLCanvasElement, labels: string[], values: number[], max: number, label: string): Promise<void> {
  const { Chart, BarController, BarElement, CategoryScale, LinearScale, Tooltip } = await import("chart.js");
  Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);
  if (!canvas.isConnected) return; // the panel was redrawn while the library loaded
  charts.push(
    new Chart(canvas, {
      type: "bar",
      data: { labels, datasets: [{ label, data: values, backgroundColor: BAR }] },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { min: 0, max, ticks: { callback: (v) => (max === 1 ? pct(Number(v)) : fmtNumber(Number(v))) } } },
        plugins: { tooltip: { callbacks: { label: (c) => `${label}: ${max === 1 ? pct(c.parsed.x) : fmtNumber(Math.round((c.parsed.x ?? 0) * 10) / 10)}` } } },
      },
    }),
  );
}

/** A chart's canvas, described for screen readers; the table beside it holds the figures. */
function chartBox(id: string, summary: string, rows: number): [HTMLElement, HTMLCanvasElement] {
  const canvas = h("canvas", { id, role: "img", "aria-label": summary });
  const box = h("div", { class: "chart", style: `height: ${Math.max(6, rows * 1.6 + 3)}rem` }, canvas);
  return [box, canvas];
}

function table(caption: string, heads: Key[], rows: (string | number)[][], id: string): HTMLElement {
  return h("div", { class: "table-scroll" },
    h("table", { id },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))));
}

async function showRanking(box: HTMLElement, month: string, unit: Unit, names: Names, current: () => boolean): Promise<void> {
  const r = await get<{ rows: RankingRow[] }>(`/api/v1/analytics/ranking?month=${month}&unit=${unit}`).catch(() => null);
  if (!current()) return;
  const rows = r?.rows ?? [];
  Object.assign(box.dataset, { rows: String(rows.length), month, unit });
  if (!rows.length) {
    box.append(h("p", { class: "hint" }, t("rates_none")));
    return;
  }
  const name = (row: RankingRow): string => names.get(row.unit) ?? row.name ?? row.unit;
  const scored = rows.filter((row) => row.score !== null).slice(0, 15);
  // No callbacks yet this month: no unit has a score, and the table alone says so.
  const [chart, canvas] = chartBox("ranking-chart", t("rates_chart", { n: String(scored.length) }), scored.length);
  box.append(
    scored.length ? chart : "",
    table(t("rates_table"), ["rank", "rank_unit", "response_rate", "resolution_rate", "satisfaction_rate", "score", "band"],
      rows.map((row) => [row.rank ?? "–", name(row), pct(row.response_rate), pct(row.resolution_rate), pct(row.satisfaction_rate),
        row.score === null ? "–" : fmtNumber(Math.round(row.score * 10) / 10), row.band ?? "–"]), "ranking-table"),
  );
  if (scored.length) await barChart(canvas, scored.map(name), scored.map((row) => row.score ?? 0), 100, t("score"));
}

async function showOnTime(box: HTMLElement, month: string, names: Names, current: () => boolean): Promise<void> {
  const before = previous(month);
  const rows = await get<OnTimeRow[]>(
    `/api/v1/analytics/departments/on-time?start=${before}-01&end=${lastDay(month)}&grain=month`,
  ).catch(() => [] as OnTimeRow[]);
  if (!current()) return;
  const now = rows.filter((r) => r.period_start.startsWith(month));
  const then = new Map(rows.filter((r) => r.period_start.startsWith(before)).map((r) => [r.department_code, r.on_time_close_rate]));
  Object.assign(box.dataset, { rows: String(now.length), month });
  if (!now.length) {
    box.append(h("p", { class: "hint" }, t("rates_none")));
    return;
  }
  now.sort((a, b) => (b.on_time_close_rate ?? -1) - (a.on_time_close_rate ?? -1));
  const name = (code: string): string => names.get(code) ?? code;
  const change = (r: OnTimeRow): string => {
    const was = then.get(r.department_code);
    if (was === null || was === undefined || r.on_time_close_rate === null) return "–";
    const points = Math.round((r.on_time_close_rate - was) * 1000) / 10;
    return `${points > 0 ? "+" : ""}${fmtNumber(points)}`;
  };
  const [chart, canvas] = chartBox("on-time-chart", t("on_time_chart", { n: String(now.length) }), now.length);
  box.append(
    chart,
    table(t("on_time_title"), ["department", "dispatched_n", "closed_on_time", "on_time_close_rate", "change_points"],
      now.map((r) => [name(r.department_code), fmtNumber(r.dispatched - r.held), fmtNumber(r.closed_on_time),
        pct(r.on_time_close_rate), change(r)]), "on-time-table"),
  );
  await barChart(canvas, now.map((r) => name(r.department_code)), now.map((r) => r.on_time_close_rate ?? 0), 1, t("on_time_close_rate"));
}

/** Fills ``box`` with the panel; ``areas`` gives a level's boundaries (the map's own copy). */
export function loadRates(box: HTMLElement, areas: (level: string) => Promise<GeoJSON.FeatureCollection>): void {
  // The last complete month: the current one has only the days gone, and its figures move.
  const month = h("input", { type: "month", id: "rates-month", value: lastMonth(cityToday()), max: cityToday().slice(0, 7), required: true });
  const unit = h("select", { id: "rates-unit" },
    (["district", "subdistrict", "department"] as const).map((u) => h("option", { value: u }, t(`unit_${u}`))));
  const ranking = h("div", { id: "rates-ranking", class: "rates-part" });
  const onTime = h("div", { id: "on-time", class: "rates-part" });
  // Names are asked for once per level while the panel lives, not at every redraw.
  const named = new Map<Unit, Promise<Names>>();
  const namesOf = (level: Unit): Promise<Names> => {
    if (!named.has(level)) named.set(level, areaNames(level, areas));
    return named.get(level)!;
  };
  // A later choice overtakes an earlier one still loading: only the latest draw shows.
  let latest = 0;
  const draw = async (): Promise<void> => {
    if (!/^\d{4}-\d{2}$/.test(month.value)) return;
    const mine = ++latest;
    const current = (): boolean => mine === latest;
    const level = unit.value as Unit;
    const [unitNames, departments] = await Promise.all([namesOf(level), namesOf("department")]);
    if (!current()) return;
    endRates();
    for (const part of [ranking, onTime]) {
      clear(part);
      for (const key of ["rows", "month", "unit"]) delete part.dataset[key];
    }
    await Promise.all([
      showRanking(ranking, month.value, level, unitNames, current),
      showOnTime(onTime, month.value, departments, current),
    ]);
  };
  month.addEventListener("change", () => void draw());
  unit.addEventListener("change", () => void draw());
  box.append(
    h("div", { class: "rates-controls" },
      h("label", { for: "rates-month" }, t("month")), month,
      h("label", { for: "rates-unit" }, t("rank_unit")), unit),
    h("div", { class: "rates-grid" },
      h("section", { "aria-labelledby": "rank-h" }, h("h3", { id: "rank-h" }, t("rates_table")), ranking),
      h("section", { "aria-labelledby": "on-time-h" }, h("h3", { id: "on-time-h" }, t("on_time_title")), onTime)),
  );
  void draw();
}

/** The month before ``today``'s (YYYY-MM-DD → YYYY-MM). */
export function lastMonth(today: string): string {
  const [y, m] = today.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}
