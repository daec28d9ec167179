// The city's time limits and working calendar, edited in the browser: each save is checked by
// the server (the file's rules, and the past kept as it was) and stored as a new revision; a
// stale page gets 409 and is reloaded rather than overwriting someone else's change.
import { ApiError, call, get, post, type FieldProblem } from "../api";
import { clear, h, nextId } from "../dom";
import { cityToday, currentLang, fmtDate, fmtNumber, t, type Key } from "../i18n";
import { problemText as sharedProblemText } from "./parts";

type Doc = Record<string, unknown>;

interface InForce {
  file: string;
  revision: number;
  source: "file" | "revision";
  saved_by_name: string | null;
  saved_at: string | null;
  note: string | null;
}

interface Revision {
  revision: number;
  saved_by_name: string;
  saved_at: string;
  note: string;
}

// Strings of these two tabs only, so that the shared dictionary stays as it is.
const WORDS = {
  zh: {
    source_file: "当前使用配置文件 {file}（尚无保存的修订）。",
    source_revision: "当前生效：第 {n} 次修订，{who} 于 {at} 保存：{note}",
    history_title: "修订记录",
    history_empty: "尚无修订：使用配置文件。",
    revision: "修订",
    saved_at: "保存时间",
    saved_by: "保存人",
    note: "说明",
    note_hint: "说明改了什么、为什么（记入修订记录）",
    save_revision: "保存为新修订",
    saved_revision: "已保存为第 {n} 次修订。",
    conflict: "其他人已保存第 {n} 次修订。请重新加载后再修改。",
    reload: "重新加载",
    year: "年份",
    add_year: "新增年份",
    add_holiday: "添加节假日",
    add_make_up: "添加调休上班日",
    make_up_for: "调休原因",
    remove: "删除",
    holiday_zh: "节日名称（中文）",
    holiday_en: "节日名称（英文）",
    new_version: "新建时限版本",
    new_version_hint: "以当前生效版本为基础；生效日期须晚于今天，已生效的版本不能修改。",
    start_version: "从生效版本开始新版本",
    version_label: "版本号",
    step: "环节",
    amount: "时长",
    unit: "单位",
    add_rule: "添加规则",
    defaults: "默认时限",
    check: "检查",
    check_passed: "检查通过。",
    json_title: "以 JSON 编辑整个文件",
    json_hint: "在下面修改整个文件（与 YAML 文件结构相同），服务器按保存时的同一套规则检查并列出所有问题。",
    u_working_hours: "工作小时",
    u_working_days: "工作日",
    u_natural_hours: "自然小时",
    r_version_in_use_unchanged: "该版本已生效，按它立案的案件沿用其规则，不能修改；请新增一个明天及以后生效的版本。",
    r_version_in_use_kept: "已生效的版本不能删除：按它立案的案件仍在使用。",
    r_starts_after_today: "新版本的生效日期必须晚于今天。",
    r_past_days_unchanged: "今天以前的日期不能改变上班/休息安排（已结案件的用时按它计算）",
    r_working_periods_unchanged: "今天及以前的工作时段不能修改（案件用时按它计算）；请添加一个明天及以后生效的调整。",
    r_unique_date: "同一天只能有一个调整。",
    hours_changes: "工作时间调整",
    hours_changes_hint: "新的每日工作时段从起始日期起生效（如夏季作息），直到下一个调整；之前的日子保持原时段。",
    hours_none: "尚无调整：全年使用上面的工作时段。",
    hours_from: "起始日期",
    hours_name: "名称（如夏季作息）",
    hours_periods: "工作时段",
    hours_periods_hint: "如 08:00-12:00, 14:00-18:00",
    hours_bad: "时段格式为 HH:MM-HH:MM，多个时段用逗号分隔。",
    hours_add: "添加工作时间调整",
    hours_in_force: "已生效",
    r_holiday_or_make_up: "同一天不能既是节假日又是调休上班日",
    r_limit_unit: "单位须为工作小时、工作日或自然小时。",
    r_limit_amount: "时长须为正数。",
    r_date: "请填写日期。",
    r_date_order: "结束日期早于开始日期。",
    r_required: "必填。",
    r_unique_version: "每个版本须有不同的、非空的版本号。",
    r_known_urgency: "未知的紧急程度。",
    r_defaults_complete: "默认值须包含派遣、处置、核查三个环节。",
  },
  en: {
    source_file: "The file {file} is in force (no revision saved yet).",
    source_revision: "In force: revision {n}, saved by {who} on {at}: {note}",
    history_title: "Revisions",
    history_empty: "No revision yet: the file is in force.",
    revision: "Revision",
    saved_at: "Saved",
    saved_by: "By",
    note: "Note",
    note_hint: "What changed and why (kept in the history)",
    save_revision: "Save as a new revision",
    saved_revision: "Saved as revision {n}.",
    conflict: "Someone saved revision {n} meanwhile. Reload, then apply your change again.",
    reload: "Reload",
    year: "Year",
    add_year: "Add a year",
    add_holiday: "Add the holiday",
    add_make_up: "Add the make-up working day",
    make_up_for: "For",
    remove: "Remove",
    holiday_zh: "Holiday name (Chinese)",
    holiday_en: "Holiday name (English)",
    new_version: "A new version of the time limits",
    new_version_hint: "Starts from the version in force; it must start after today, and versions in force cannot change.",
    start_version: "Start a new version from the one in force",
    version_label: "Version label",
    step: "Step",
    amount: "Amount",
    unit: "Unit",
    add_rule: "Add a rule",
    defaults: "Defaults",
    check: "Check",
    check_passed: "It passes.",
    json_title: "Edit the whole document as JSON",
    json_hint: "Edit the whole document below (the YAML file's shape); the server checks it with the rules a save applies and lists every problem.",
    u_working_hours: "working hours",
    u_working_days: "working days",
    u_natural_hours: "natural hours",
    r_version_in_use_unchanged: "This version is in force: cases filed under it keep its rules, so it cannot change. Add a version starting after today.",
    r_version_in_use_kept: "A version in force cannot go: cases filed under it still use it.",
    r_starts_after_today: "A new version must start after today.",
    r_past_days_unchanged: "Days before today keep their working or non-working status (closed cases' times were counted on them)",
    r_working_periods_unchanged: "Working periods of days up to today cannot change (cases' times were counted on them); add a change that starts after today.",
    r_unique_date: "One change per day.",
    hours_changes: "Changes of working hours",
    hours_changes_hint: "New daily working periods in force from a date (summer hours, say) until the next change; the days before keep theirs.",
    hours_none: "No change: the periods above hold all year.",
    hours_from: "From",
    hours_name: "Name (e.g. summer hours)",
    hours_periods: "Working periods",
    hours_periods_hint: "e.g. 08:00-12:00, 14:00-18:00",
    hours_bad: "Periods are HH:MM-HH:MM, separated by commas.",
    hours_add: "Add the change of hours",
    hours_in_force: "in force",
    r_holiday_or_make_up: "A day cannot be both a holiday and a make-up working day",
    r_limit_unit: "The unit is working hours, working days or natural hours.",
    r_limit_amount: "The amount is a positive number.",
    r_date: "Enter a date.",
    r_date_order: "The end is before the start.",
    r_required: "Required.",
    r_unique_version: "Every version needs a distinct, non-empty label.",
    r_known_urgency: "Unknown urgency.",
    r_defaults_complete: "The defaults set dispatch, handle and check.",
  },
};
type Word = keyof (typeof WORDS)["en"];

function w(key: Word, vars: Record<string, string> = {}): string {
  let s: string = WORDS[currentLang()][key] ?? WORDS.en[key];
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, v);
  return s;
}

/** A server problem in the user's language: these tabs' own words for their rules (the shared
 * words for the common ones), and the dates it names. */
export function problemText(p: FieldProblem): string {
  const key = `r_${p.rule}` as Word;
  const text = sharedProblemText(p, key in WORDS.en ? w(key) : undefined);
  const dates = p.message.match(/\d{4}-\d{2}-\d{2}/g) ?? [];
  const named = p.rule === "past_days_unchanged" || p.rule === "holiday_or_make_up" ? dates.filter((d) => d !== cityToday()) : [];
  return named.length ? `${text}: ${named.join(", ")}` : text;
}

// --- shared parts ---------------------------------------------------------------------------------

function sourceLine(f: InForce): HTMLElement {
  const text = f.source === "file"
    ? w("source_file", { file: f.file })
    : w("source_revision", { n: String(f.revision), who: f.saved_by_name ?? "", at: fmtDate(f.saved_at), note: f.note ?? "" });
  return h("p", { id: "rules-source", "data-revision": f.revision }, text);
}

async function historySection(path: string): Promise<HTMLElement> {
  const rows = await get<Revision[]>(`${path}/history`);
  return h("section", { "aria-labelledby": "rules-history-h", id: "rules-history" },
    h("h2", { id: "rules-history-h" }, w("history_title")),
    rows.length
      ? h("table", { class: "cases" },
        h("caption", { class: "visually-hidden" }, w("history_title")),
        h("thead", {}, h("tr", {}, [w("revision"), w("saved_at"), w("saved_by"), w("note")].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows.map((r) => h("tr", { "data-revision": r.revision },
          h("td", {}, String(r.revision)), h("td", {}, fmtDate(r.saved_at)), h("td", {}, r.saved_by_name), h("td", {}, r.note)))))
      : h("p", {}, w("history_empty")));
}

/** Show problems next to the elements whose ``data-path`` they name; the rest in ``general``. */
function showProblems(root: HTMLElement, general: HTMLElement, err: unknown): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-path-error]")) el.textContent = "";
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  clear(general);
  if (!(err instanceof ApiError)) {
    general.append(h("p", { class: "field-error", role: "alert" }, String(err)));
    return;
  }
  if (err.status === 409) {
    const n = /revision (\d+)/.exec(err.detail)?.[1] ?? "?";
    general.append(h("p", { class: "field-error", role: "alert", "data-conflict": "true" }, w("conflict", { n }), " ",
      h("button", { type: "button", class: "secondary", onclick: () => location.reload() }, w("reload"))));
    return;
  }
  const rest: FieldProblem[] = [];
  for (const p of err.problems) {
    // The elements that name the field, or the nearest part of its path, take the message.
    let path = p.field;
    let targets: HTMLElement[] = [];
    while (path && !targets.length) {
      targets = [...root.querySelectorAll<HTMLElement>(`[data-path-error="${CSS.escape(path)}"]`)];
      path = /(\.[^.[\]]*|\[\d+\])$/.test(path) ? path.replace(/(\.[^.[\]]*|\[\d+\])$/, "") : "";
    }
    for (const target of targets) {
      target.textContent = [target.textContent, problemText(p)].filter(Boolean).join(" · ");
      target.closest("[data-path]")?.setAttribute("aria-invalid", "true");
    }
    if (!targets.length) rest.push(p);
  }
  if (rest.length || !err.problems.length) {
    general.append(h("p", { class: "field-error", role: "alert" }, err.detail || err.title),
      h("ul", { class: "problems" }, rest.map((p) => h("li", {}, h("code", {}, p.field), ` ${problemText(p)}`))));
  }
}

function errorSlot(path: string): HTMLElement {
  return h("span", { class: "field-error", "data-path-error": path });
}

function labelled(label: string, el: HTMLInputElement | HTMLSelectElement): HTMLElement {
  el.id ||= nextId("rule");
  return h("div", { class: "field" }, h("label", { for: el.id }, label), el);
}

/** The note and save button every editor ends with; ``save`` gets the note. */
function saveForm(form: string, save: (note: string) => Promise<void>, extra: HTMLElement[] = []): { form: HTMLFormElement; general: HTMLElement } {
  const note = h("input", { id: nextId("note"), name: "note", maxlength: 500, required: true });
  const noteErr = errorSlot("note");
  const general = h("div", { class: "result", "aria-live": "polite" });
  const el = h("form", { class: "action", novalidate: true, "data-form": form },
    h("div", { class: "field", "data-path": "note" }, h("label", { for: note.id }, w("note")), note, h("p", { class: "hint" }, w("note_hint")), noteErr),
    h("div", { class: "row" }, ...extra, h("button", { type: "submit" }, w("save_revision"))), general);
  el.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    noteErr.textContent = "";
    if (!note.value.trim()) {
      noteErr.textContent = t("required");
      note.setAttribute("aria-invalid", "true");
      note.focus();
      return;
    }
    await save(note.value.trim());
  });
  return { form: el, general };
}

const put = <T>(path: string, body: unknown): Promise<T> => call<T>("PUT", path, body);

/** Edit a copy of the whole document and have the server check it: every broken rule listed. */
function checker<T>(path: string, doc: unknown, ok: (r: T) => string): HTMLElement {
  const area = h("textarea", { id: nextId("doc"), name: "document", rows: 14, class: "code", spellcheck: false }, JSON.stringify(doc, null, 2));
  const out = h("div", { id: "check-result", "aria-live": "polite" });
  const form = h("form", { class: "action", novalidate: true, "data-form": "check" },
    h("h2", {}, w("json_title")), h("p", { class: "hint" }, w("json_hint")),
    h("label", { for: area.id }, t("document")), area, out, h("button", { type: "submit" }, t("check_do")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(out);
    let body: unknown;
    try {
      body = JSON.parse(area.value);
    } catch (err) {
      out.append(h("p", { class: "field-error", "data-ok": "false" }, `${t("not_json")}: ${String(err)}`));
      area.setAttribute("aria-invalid", "true");
      return;
    }
    area.removeAttribute("aria-invalid");
    try {
      const r = await post<T>(path, body);
      out.append(h("p", { role: "status", "data-ok": "true" }, ok(r)));
    } catch (err) {
      const problems = err instanceof ApiError ? err.problems : [];
      area.setAttribute("aria-invalid", "true");
      out.append(h("p", { class: "field-error", "data-ok": "false" }, err instanceof ApiError ? err.detail || err.title : String(err)),
        h("ul", { class: "problems" }, problems.map((p) => h("li", {}, h("code", {}, p.field), ` ${problemText(p)} (${p.rule})`))));
    }
  });
  return form;
}

// --- the working calendar ---------------------------------------------------------------------------

interface HolidayDoc {
  name?: string;
  name_zh?: string | null;
  from: string;
  to?: string;
}
type MakeUpDoc = string | { date: string; for?: string };
interface YearDoc {
  holidays?: HolidayDoc[];
  make_up_working_days?: MakeUpDoc[];
}
interface CalendarOut extends InForce {
  name: string;
  timezone: string;
  weekend: string[];
  working_periods: string[][];
  day_hours: number;
  working_period_changes: { first: string; name: string; periods: string[][]; day_hours: number }[];
  years: { year: number; holidays: { name: string; name_zh: string | null; first: string; last: string }[]; make_up_working_days: string[]; working_days: number }[];
  document: Doc & { years?: Record<string, YearDoc>; working_period_changes?: PeriodChangeDoc[] };
}
interface PeriodChangeDoc {
  from: string;
  name?: string;
  periods: string[][];
}

/** "08:00-12:00, 14:00-18:00" as [["08:00", "12:00"], ["14:00", "18:00"]], or null if malformed. */
function parsePeriods(text: string): string[][] | null {
  const pairs = text.split(",").map((p) => p.trim()).filter(Boolean).map((p) => p.split(/\s*[-–~]\s*/));
  const ok = pairs.length > 0 && pairs.every((p) => p.length === 2 && p.every((x) => /^\d{2}:\d{2}$/.test(x)));
  return ok ? pairs : null;
}

/** The changes of the daily periods: each from its date on; those in force already stay. */
function periodChanges(draft: CalendarOut["document"], saved: Set<string>, redraw: () => void): HTMLElement {
  const changes = (draft.working_period_changes ??= []);
  const today = cityToday();
  const box = h("section", { id: "hours-changes", "aria-labelledby": "hours-h", "data-path": "working_period_changes" },
    h("h3", { id: "hours-h" }, w("hours_changes")), h("p", { class: "hint" }, w("hours_changes_hint")));
  const rows = changes.map((c, i) => ({ c, i })).sort((a, b) => String(a.c.from).localeCompare(String(b.c.from)));
  box.append(rows.length
    ? h("table", { class: "cases", id: "hours-table" },
        h("caption", { class: "visually-hidden" }, w("hours_changes")),
        h("thead", {}, h("tr", {}, [w("hours_from"), w("hours_name"), w("hours_periods"), "", ""].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows.map(({ c, i }) => h("tr", { "data-path": `working_period_changes[${i}]`, "data-from": String(c.from) },
          h("td", {}, String(c.from)), h("td", {}, c.name ?? ""), h("td", {}, c.periods.map((p) => p.join("–")).join(", ")),
          // A saved change already in force stays; one added in this draft can still go.
          h("td", {}, String(c.from) <= today && saved.has(String(c.from))
            ? w("hours_in_force")
            : h("button", { type: "button", class: "link", "aria-label": `${w("remove")} ${String(c.from)}`, onclick: () => { changes.splice(i, 1); redraw(); } }, w("remove"))),
          h("td", {}, errorSlot(`working_period_changes[${i}]`))))))
    : h("p", {}, w("hours_none")));
  box.append(h("p", {}, errorSlot("working_period_changes")));
  const from = h("input", { type: "date", name: "hours_from", id: nextId("hfrom") });
  const name = h("input", { name: "hours_name", id: nextId("hname"), maxlength: 60 });
  const periods = h("input", { name: "hours_periods", id: nextId("hper"), placeholder: w("hours_periods_hint") });
  const err = h("p", { class: "field-error", role: "alert" });
  const add = h("button", { type: "button", class: "secondary", id: "add-hours" }, w("hours_add"));
  add.addEventListener("click", () => {
    err.textContent = "";
    const pairs = parsePeriods(periods.value);
    if (!from.value) {
      err.textContent = t("required");
      from.focus();
    } else if (!pairs) {
      err.textContent = w("hours_bad");
      periods.setAttribute("aria-invalid", "true");
      periods.focus();
    } else {
      changes.push({ from: from.value, name: name.value.trim(), periods: pairs });
      redraw();
    }
  });
  box.append(h("fieldset", { id: "new-hours" }, h("legend", {}, w("hours_add")),
    h("div", { class: "row" }, labelled(w("hours_from"), from), labelled(w("hours_name"), name), labelled(w("hours_periods"), periods)), add, err));
  return box;
}

const CAL = "/api/v1/admin/calendar";

export async function calendarTab(box: HTMLElement): Promise<void> {
  const cal = await get<CalendarOut>(CAL);
  const draft = structuredClone(cal.document) as CalendarOut["document"];
  draft.years ??= {};
  const years = draft.years;
  const editor = h("div", { id: "calendar-editor" });
  const yearSelect = h("select", { id: nextId("year"), name: "year" });
  let year = String(cal.years.find((y) => String(y.year) === cityToday().slice(0, 4))?.year ?? cal.years.at(-1)?.year ?? cityToday().slice(0, 4));

  const fillYears = (): void => {
    clear(yearSelect);
    yearSelect.append(...Object.keys(years).sort().map((y) => h("option", { value: y, selected: y === year }, y)));
  };
  yearSelect.addEventListener("change", () => {
    year = yearSelect.value;
    drawYear();
  });
  const addYear = h("button", { type: "button", class: "secondary", id: "add-year" }, w("add_year"));
  addYear.addEventListener("click", () => {
    year = String(Math.max(...Object.keys(years).map(Number), Number(cityToday().slice(0, 4))) + 1);
    years[year] ??= { holidays: [], make_up_working_days: [] };
    fillYears();
    drawYear();
  });

  const hours = h("div", { id: "hours-editor" });
  const savedFrom = new Set(cal.working_period_changes.map((c) => c.first));
  const drawHours = (): void => {
    clear(hours);
    hours.append(periodChanges(draft, savedFrom, drawHours));
  };
  const drawYear = (): void => {
    clear(editor);
    const spec = (years[year] ??= {});
    const holidays = (spec.holidays ??= []);
    const makeUps = (spec.make_up_working_days ??= []);
    const base = `years.${year}`;
    const name = (x: HolidayDoc): string => (currentLang() === "zh" ? x.name_zh || x.name : x.name || x.name_zh) ?? "";
    editor.append(
      h("table", { class: "cases", id: "holiday-table", "data-path": `${base}` },
        h("caption", {}, `${t("holidays")} ${year}`),
        h("thead", {}, h("tr", {}, [t("holiday"), t("from"), t("to"), "", ""].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, holidays.map((x, i) => h("tr", { "data-path": `${base}.holidays[${i}]`, "data-holiday": name(x) },
          h("td", {}, name(x)), h("td", {}, String(x.from)), h("td", {}, String(x.to ?? x.from)),
          h("td", {}, h("button", { type: "button", class: "link", "aria-label": `${w("remove")} ${name(x)}`, onclick: () => { holidays.splice(i, 1); drawYear(); } }, w("remove"))),
          h("td", {}, errorSlot(`${base}.holidays[${i}]`)))))),
      h("p", {}, errorSlot(base)),
    );
    const zh = h("input", { name: "name_zh", id: nextId("hzh"), maxlength: 60 });
    const en = h("input", { name: "name_en", id: nextId("hen"), maxlength: 60 });
    const from = h("input", { type: "date", name: "from", id: nextId("hfrom") });
    const to = h("input", { type: "date", name: "to", id: nextId("hto") });
    const addErr = h("p", { class: "field-error", role: "alert" });
    const add = h("button", { type: "button", class: "secondary", id: "add-holiday" }, w("add_holiday"));
    add.addEventListener("click", () => {
      addErr.textContent = "";
      if (!(zh.value.trim() || en.value.trim()) || !from.value) {
        addErr.textContent = t("required");
        (from.value ? zh : from).focus();
        return;
      }
      if (to.value && to.value < from.value) {
        addErr.textContent = w("r_date_order");
        to.focus();
        return;
      }
      holidays.push({ name: en.value.trim() || zh.value.trim(), name_zh: zh.value.trim() || null, from: from.value, to: to.value || from.value });
      drawYear();
    });
    editor.append(h("fieldset", { id: "new-holiday" }, h("legend", {}, w("add_holiday")),
      h("div", { class: "row" }, labelled(w("holiday_zh"), zh), labelled(w("holiday_en"), en), labelled(t("from"), from), labelled(t("to"), to)), add, addErr));

    const mday = (m: MakeUpDoc): string => (typeof m === "string" ? m : m.date);
    editor.append(h("h3", {}, `${t("make_up_days")} ${year}`),
      h("ul", { id: "make-up-list" }, makeUps.map((m, i) => h("li", { "data-path": `${base}.make_up_working_days[${i}]`, "data-make-up": mday(m) },
        `${mday(m)}${typeof m === "object" && m.for ? ` (${m.for})` : ""} `,
        h("button", { type: "button", class: "link", "aria-label": `${w("remove")} ${mday(m)}`, onclick: () => { makeUps.splice(i, 1); drawYear(); } }, w("remove")),
        " ", errorSlot(`${base}.make_up_working_days[${i}]`)))));
    const mdate = h("input", { type: "date", name: "make_up_date", id: nextId("mday") });
    const mfor = h("input", { name: "make_up_for", id: nextId("mfor"), maxlength: 60 });
    const madd = h("button", { type: "button", class: "secondary", id: "add-make-up" }, w("add_make_up"));
    madd.addEventListener("click", () => {
      if (!mdate.value) return mdate.focus();
      makeUps.push(mfor.value.trim() ? { date: mdate.value, for: mfor.value.trim() } : mdate.value);
      drawYear();
    });
    editor.append(h("div", { class: "row" }, labelled(t("make_up_days"), mdate), labelled(w("make_up_for"), mfor), madd));
  };

  const { form, general } = saveForm("save-calendar", async (note) => {
    try {
      const r = await put<{ revision: number }>(CAL, { document: draft, note, base_revision: cal.revision });
      const fresh = h("div", { id: box.id });
      box.replaceWith(fresh);
      await calendarTab(fresh);
      fresh.querySelector("#rules-source")?.after(h("p", { role: "status", "data-saved": r.revision }, w("saved_revision", { n: String(r.revision) })));
    } catch (err) {
      showProblems(box, general, err);
    }
  });

  box.append(
    h("p", {}, `${cal.name} (${cal.timezone})`),
    sourceLine(cal),
    h("dl", { class: "facts" },
      h("dt", {}, t("working_periods")), h("dd", { "data-path": "working_periods" }, cal.working_periods.map((p) => p.join("–")).join(", "), ` (${fmtNumber(cal.day_hours)} h) `, errorSlot("working_periods")),
      h("dt", {}, t("weekend")), h("dd", { "data-path": "weekend" }, cal.weekend.join(", "), " ", errorSlot("weekend"))),
  );
  for (const y of cal.years) {
    box.append(h("section", { "data-year": y.year, "aria-labelledby": `y-${y.year}` },
      h("h2", { id: `y-${y.year}` }, `${y.year}: ${t("working_days_n", { n: fmtNumber(y.working_days) })}`)));
  }
  fillYears();
  box.append(h("section", { "aria-labelledby": "cal-edit-h", id: "calendar-edit" },
    h("h2", { id: "cal-edit-h" }, t("adm_calendar")),
    hours,
    h("div", { class: "row" }, labelled(w("year"), yearSelect), addYear),
    editor, form));
  drawHours();
  drawYear();
  box.append(await historySection(CAL));
}

// --- the time limits ------------------------------------------------------------------------------

type Limit = string | { amount: number | string; unit: string };
interface VersionDoc {
  version: string;
  valid_from: string;
  defaults?: Record<string, Limit>;
  rules?: Record<string, unknown>[];
}
interface LimitsDoc extends Doc {
  name?: string;
  max_extensions?: number;
  versions?: VersionDoc[];
  region_classes?: { default?: string; areas?: Record<string, string> };
}
interface LimitsOut extends InForce {
  in_force: string;
  document: LimitsDoc;
}

const LIMITS = "/api/v1/admin/time-limits";
const STEPS = ["dispatch", "handle", "check"];
const UNITS = ["working_hours", "working_days", "natural_hours"];
const URGENCIES = ["*", "low", "normal", "high", "critical"];

function splitLimit(l: Limit | undefined): { amount: string; unit: string } {
  if (l === undefined) return { amount: "", unit: "working_hours" };
  if (typeof l === "string") {
    const [amount, unit] = l.trim().split(/\s+/, 2);
    return { amount: amount ?? "", unit: unit ?? "working_hours" };
  }
  return { amount: String(l.amount), unit: String(l.unit) };
}

interface RuleRow {
  category: string;
  urgency: string;
  region: string;
  step: string;
  amount: string;
  unit: string;
}

function rowsOf(v: VersionDoc): RuleRow[] {
  const rows: RuleRow[] = [];
  for (const r of v.rules ?? []) {
    for (const step of STEPS) {
      if (r[step] === undefined) continue;
      rows.push({ category: String(r.category ?? "*"), urgency: String(r.urgency ?? "*"), region: String(r.region ?? "*"), step, ...splitLimit(r[step] as Limit) });
    }
  }
  return rows;
}

/** The table's rows back into rules: one rule per (category, urgency, region), in first-seen
 * order, each step as the first row that sets it (the order the server reads them in). Each
 * row's path is returned so that the server's problems land on it. */
function rulesOf(rows: RuleRow[], at: number): { rules: Record<string, unknown>[]; paths: string[] } {
  const rules: Record<string, unknown>[] = [];
  const index = new Map<string, number>();
  const paths: string[] = [];
  for (const row of rows) {
    const key = `${row.category}|${row.urgency}|${row.region}`;
    let i = index.get(key);
    if (i === undefined) {
      i = rules.length;
      index.set(key, i);
      const rule: Record<string, unknown> = {};
      if (row.category !== "*") rule.category = row.category;
      if (row.urgency !== "*") rule.urgency = row.urgency;
      if (row.region !== "*") rule.region = row.region;
      rules.push(rule);
    }
    rules[i][row.step] ??= `${row.amount} ${row.unit}`;
    paths.push(`versions[${at}].rules[${i}]`);
  }
  return { rules, paths };
}

function tomorrow(): string {
  const d = new Date(`${cityToday()}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export async function timeLimitsTab(box: HTMLElement): Promise<void> {
  const doc = await get<LimitsOut>(LIMITS);
  const d = doc.document;
  box.append(
    h("p", {}, t("limits_in_force", { version: doc.in_force, file: doc.file }), " ", t("max_extensions", { n: String(d.max_extensions ?? "") })),
    sourceLine(doc),
    h("p", { class: "hint" }, t("limits_hint")),
  );
  for (const v of d.versions ?? []) {
    box.append(
      h("section", { "data-version": v.version, "aria-labelledby": `v-${v.version}` },
        h("h2", { id: `v-${v.version}` }, `${t("version")} ${v.version} · ${t("valid_from")} ${v.valid_from}`, v.version === doc.in_force ? ` (${t("in_force")})` : ""),
        h("table", { class: "cases" },
          h("caption", {}, t("limits_rules")),
          h("thead", {}, h("tr", {}, [t("category"), t("urgency"), t("region"), ...STEPS.map((s) => t(`step_${s}` as Key))].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {},
            h("tr", { class: "defaults" }, h("td", {}, "*"), h("td", {}, "*"), h("td", {}, "*"), STEPS.map((s) => h("td", {}, limitText(v.defaults?.[s])))),
            (v.rules ?? []).map((r) => h("tr", {}, h("td", {}, String(r.category ?? "*")), h("td", {}, String(r.urgency ?? "*")), h("td", {}, String(r.region ?? "*")),
              STEPS.map((s) => h("td", {}, limitText(r[s] as Limit | undefined)))))))),
    );
  }
  const regions = Object.entries(d.region_classes?.areas ?? {});
  box.append(h("p", {}, `${t("region_classes")}: ${t("default")} ${d.region_classes?.default ?? ""}; `, regions.map(([a, c]) => `${a} ${c}`).join(", ")));

  const holder = h("section", { "aria-labelledby": "new-version-h", id: "new-version" },
    h("h2", { id: "new-version-h" }, w("new_version")), h("p", { class: "hint" }, w("new_version_hint")));
  const start = h("button", { type: "button", id: "start-version" }, w("start_version"));
  start.addEventListener("click", () => {
    start.remove();
    holder.append(versionEditor(doc));
    holder.querySelector<HTMLInputElement>("input")?.focus();
  });
  holder.append(start);
  box.append(holder);
  box.append(checker(`${LIMITS}/check`, d, (r: { in_force: string; versions: { version: string }[] }) =>
    t("check_ok_limits", { versions: r.versions.map((v) => v.version).join(", "), version: r.in_force })));
  box.append(await historySection(LIMITS));
}

function limitText(l: Limit | undefined): string {
  if (l === undefined) return "";
  const { amount, unit } = splitLimit(l);
  return `${amount} ${UNITS.includes(unit) ? w(`u_${unit}` as Word) : unit}`;
}

function versionEditor(doc: LimitsOut): HTMLElement {
  const versions = doc.document.versions ?? [];
  const base = versions.find((v) => v.version === doc.in_force) ?? versions.at(-1);
  const at = versions.length; // the new version goes last
  const p = `versions[${at}]`;
  const label = h("input", { name: "version", id: nextId("vlabel"), maxlength: 32, value: `${tomorrow().slice(0, 7).replace("-", ".")}-new` });
  const from = h("input", { type: "date", name: "valid_from", id: nextId("vfrom"), value: tomorrow(), min: tomorrow() });
  const defaults = STEPS.map((s) => {
    const { amount, unit } = splitLimit(base?.defaults?.[s]);
    return { step: s, amount: h("input", { type: "number", min: 0, step: "any", name: `default_${s}`, id: nextId("damt"), value: amount }), unit: unitSelect(unit) };
  });
  let rows = base ? rowsOf(base) : [];
  const tbody = h("tbody", {});
  const drawRows = (): void => {
    clear(tbody);
    rows.forEach((row, i) => {
      const input = (key: "category" | "region", size: number): HTMLInputElement => {
        const el = h("input", { value: row[key], size, "aria-label": `${t(key === "category" ? "category" : "region")} ${i + 1}`, "data-field": key });
        el.addEventListener("change", () => { row[key] = el.value.trim() || "*"; });
        return el;
      };
      const select = (key: "urgency" | "step" | "unit", values: string[], text: (v: string) => string): HTMLSelectElement => {
        const el = h("select", { "aria-label": `${key} ${i + 1}`, "data-field": key }, values.map((v) => h("option", { value: v, selected: v === row[key] }, text(v))));
        el.addEventListener("change", () => { row[key] = el.value; });
        return el;
      };
      const amount = h("input", { type: "number", min: 0, step: "any", value: row.amount, "aria-label": `${w("amount")} ${i + 1}`, "data-field": "amount" });
      amount.addEventListener("change", () => { row.amount = amount.value; });
      tbody.append(h("tr", { "data-row": i },
        h("td", {}, input("category", 6)), h("td", {}, select("urgency", URGENCIES, (v) => v)), h("td", {}, input("region", 8)),
        h("td", {}, select("step", STEPS, (v) => t(`step_${v}` as Key))), h("td", {}, amount),
        h("td", {}, select("unit", UNITS, (v) => w(`u_${v}` as Word))),
        h("td", {}, h("button", { type: "button", class: "link", onclick: () => { rows.splice(i, 1); drawRows(); } }, w("remove"))),
        h("td", { class: "row-error" })));
    });
  };
  drawRows();
  const addRule = h("button", { type: "button", class: "secondary", id: "add-rule" }, w("add_rule"));
  addRule.addEventListener("click", () => {
    rows = [...rows, { category: "*", urgency: "*", region: "*", step: "handle", amount: "1", unit: "working_days" }];
    drawRows();
  });

  const proposed = (): { document: LimitsDoc; paths: string[] } => {
    const { rules, paths } = rulesOf(rows, at);
    const version: VersionDoc = {
      version: label.value.trim(),
      valid_from: from.value,
      defaults: Object.fromEntries(defaults.map((x) => [x.step, `${x.amount.value} ${x.unit.value}`])),
      rules,
    };
    return { document: { ...structuredClone(doc.document), versions: [...versions, version] }, paths };
  };
  // A rule's problems (versions[n].rules[i] and below) show on every row of that rule.
  const withRows = (general: HTMLElement, err: unknown, paths: string[]): void => {
    for (const [i, tr] of [...tbody.children].entries()) {
      tr.setAttribute("data-path", paths[i]);
      const cell = tr.querySelector(".row-error");
      if (cell) cell.replaceChildren(errorSlot(paths[i]));
    }
    showProblems(editor, general, err);
  };

  const checkBtn = h("button", { type: "button", class: "secondary", id: "check-version" }, w("check"));
  const editor = h("div", { id: "version-editor" });
  const { form, general } = saveForm("save-time-limits", async (note) => {
    const next = proposed();
    try {
      const r = await put<{ revision: number }>(LIMITS, { document: next.document, note, base_revision: doc.revision });
      const box = editor.closest<HTMLElement>("[id^=admin-]");
      if (!box) return;
      const fresh = h("div", { id: box.id });
      box.replaceWith(fresh);
      await timeLimitsTab(fresh);
      fresh.querySelector("#rules-source")?.after(h("p", { role: "status", "data-saved": r.revision }, w("saved_revision", { n: String(r.revision) })));
    } catch (err) {
      withRows(general, err, next.paths);
    }
  }, [checkBtn]);
  checkBtn.addEventListener("click", async () => {
    const next = proposed();
    try {
      await post(`${LIMITS}/check`, next.document);
      withRows(general, new ApiError(200, "", "", []), next.paths);
      clear(general);
      general.append(h("p", { role: "status", "data-ok": "true" }, w("check_passed")));
    } catch (err) {
      withRows(general, err, next.paths);
    }
  });

  editor.append(
    h("div", { class: "row" },
      h("div", { class: "field", "data-path": p }, h("label", { for: label.id }, w("version_label")), label, errorSlot(p)),
      h("div", { class: "field", "data-path": `${p}.valid_from` }, h("label", { for: from.id }, t("valid_from")), from, errorSlot(`${p}.valid_from`))),
    h("fieldset", { "data-path": `${p}.defaults` }, h("legend", {}, w("defaults")),
      h("div", { class: "row" }, defaults.map((x) => h("div", { class: "field", "data-path": `${p}.defaults.${x.step}` },
        h("label", { for: x.amount.id }, t(`step_${x.step}` as Key)), x.amount, x.unit, errorSlot(`${p}.defaults.${x.step}`)))),
      errorSlot(`${p}.defaults`)),
    h("table", { class: "cases", id: "rule-table" },
      h("caption", {}, t("limits_rules")),
      h("thead", {}, h("tr", {}, [t("category"), t("urgency"), t("region"), w("step"), w("amount"), w("unit"), "", ""].map((x) => h("th", { scope: "col" }, x)))),
      tbody),
    addRule, form);
  return editor;
}

function unitSelect(selected: string): HTMLSelectElement {
  return h("select", { "aria-label": w("unit"), id: nextId("unit") }, UNITS.map((u) => h("option", { value: u, selected: u === selected }, w(`u_${u}` as Word))));
}
