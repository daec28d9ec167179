// The taxonomy's classes edited in the browser, for a city admin: names and keywords inline, a
// class added or deactivated (a class cases were filed under is never dropped), the whole
// document saved as a new version the server checks as a file load (each problem lands next to
// the row and field its path names), and an older version put back in use. Others with the tab
// see the classes in use, read-only.
import { ApiError, call, currentUser, get, post, type Category, type FieldProblem } from "../api";
import { clear, h, nextId } from "../dom";
import { cityToday, currentLang, fmtDate, fmtNumber, t } from "../i18n";
import { problemText as rulesProblemText } from "./admin_rules";

type Kind = "component" | "event";
const SECTIONS: [string, Kind, string][] = [["components", "component", "C"], ["events", "event", "E"]];

interface ClassDoc {
  minor: string;
  name_zh: string;
  name_en: string;
  keywords?: { zh?: string[]; en?: string[] };
  urgency?: string;
  emergency?: boolean;
  active?: boolean;
}
interface MajorDoc {
  major: string;
  name_zh: string;
  name_en: string;
  classes: ClassDoc[];
}
interface TaxonomyDoc {
  name: string;
  version: string;
  note: string;
  components: MajorDoc[];
  events: MajorDoc[];
}
interface Version {
  id: number;
  name: string;
  label: string;
  note: string;
  source: string;
  category_count: number;
  active: boolean;
  in_use: boolean;
  loaded_at: string;
}
interface VersionWithDocument extends Version {
  document: TaxonomyDoc;
}

/** One class of the draft: where it sits (kind, major), what the admin may change, its row. */
interface Row {
  kind: Kind;
  major: MajorDoc;
  cls: ClassDoc;
  fresh: boolean;
  tr?: HTMLTableRowElement;
}

// Strings of this tab only, so that the shared dictionary stays as it is.
const ZH = {
  editor_hint: "在表中直接修改类别的中英文名称和关键词，新增或停用类别，然后保存为新版本。已被案件或部件使用的类别只能停用，不能删除。",
  in_use: "当前使用：第 {id} 版 {label}（{n} 个类别，{at}）",
  kind_component: "部件",
  kind_event: "事件",
  minor: "小类编号",
  keywords_zh: "中文关键词",
  keywords_en: "英文关键词",
  keywords_hint: "用逗号分隔",
  state: "状态",
  active: "启用",
  inactive: "已停用",
  reactivate: "重新启用",
  remove_new: "移除",
  new_class: "新增类别",
  major_pick: "所属大类",
  add: "加入表中",
  added: "已加入 {code}，保存后生效。",
  version_label: "版本号",
  note: "说明",
  note_hint: "说明改了什么、为什么（记入版本记录）",
  save_version: "保存为新版本",
  saved: "已保存为第 {id} 版。",
  unchanged: "没有改动：第 {id} 版仍在使用。",
  conflict: "其他人已保存了新的分类版本（第 {n} 版）。请重新加载后再修改。",
  reload: "重新加载",
  problems: "有 {n} 个问题：",
  versions: "版本记录",
  version: "版本",
  loaded_at: "时间",
  classes: "类别数",
  source: "来源",
  in_use_mark: "使用中",
  switched_off: "未启用",
  use_version: "启用此版本",
  activated: "第 {id} 版已重新启用。",
  shown: "显示 {n} / {total} 个类别",
  r_two_digits: "编号须为两位数字，如 01。",
  r_not_zero: "编号从 01 开始。",
  r_unique_code: "编号重复：该类别已存在。",
  r_required: "必填。",
  r_class_in_use: "已有案件或部件使用该类别，不能删除；请改为停用",
  r_keywords_shape: "关键词须为词语列表。",
  r_boolean: "须为是或否。",
  r_known_field: "未知字段。",
  r_max_length: "太长。",
};
const EN: Record<keyof typeof ZH, string> = {
  editor_hint: "Edit a class's Chinese and English names and keywords in the table, add or deactivate classes, then save the whole as a new version. A class cases or components were filed under can be deactivated, never removed.",
  in_use: "In use: version {id}, {label} ({n} classes, {at})",
  kind_component: "Component",
  kind_event: "Event",
  minor: "Minor code",
  keywords_zh: "Chinese keywords",
  keywords_en: "English keywords",
  keywords_hint: "separated by commas",
  state: "State",
  active: "active",
  inactive: "deactivated",
  reactivate: "Reactivate",
  remove_new: "Remove",
  new_class: "Add a class",
  major_pick: "Major class",
  add: "Add to the table",
  added: "{code} added; it counts once saved.",
  version_label: "Version label",
  note: "Note",
  note_hint: "What changed and why (kept with the version)",
  save_version: "Save as a new version",
  saved: "Saved as version {id}.",
  unchanged: "Nothing changed: version {id} stays in use.",
  conflict: "Someone saved another version of the taxonomy meanwhile (version {n}). Reload, then apply your change again.",
  reload: "Reload",
  problems: "{n} problems:",
  versions: "Versions",
  version: "Version",
  loaded_at: "When",
  classes: "Classes",
  source: "Source",
  in_use_mark: "in use",
  switched_off: "off",
  use_version: "Use this version",
  activated: "Version {id} is in use again.",
  shown: "{n} of {total} classes shown",
  r_two_digits: "Codes are two digits, such as 01.",
  r_not_zero: "Codes start at 01.",
  r_unique_code: "This code is taken: the class exists already.",
  r_required: "Required.",
  r_class_in_use: "Cases or components were filed under this class: deactivate it instead of removing it",
  r_keywords_shape: "Keywords are a list of words.",
  r_boolean: "Yes or no.",
  r_known_field: "Unknown field.",
  r_max_length: "Too long.",
};
type Word = keyof typeof ZH;

function w(key: Word, vars: Record<string, string> = {}): string {
  let s: string = (currentLang() === "zh" ? ZH : EN)[key];
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, v);
  return s;
}

/** A server problem in the user's language: this tab's words for its rules, else the rule
 * editors' (which fall back to the server's message). */
function problemText(p: FieldProblem): string {
  const key = `r_${p.rule}`;
  if (!(key in ZH)) return rulesProblemText(p);
  const text = w(key as Word);
  const record = (p as { record?: string }).record;
  return p.rule === "class_in_use" && record ? `${text}: ${record}` : text;
}

const VERSIONS = "/api/v1/taxonomy/versions";
const words = (text: string): string[] => [...new Set(text.split(/[,，、;；]/).map((s) => s.trim()).filter(Boolean))];
const codeOf = (r: Row): string => `${r.kind === "component" ? "C" : "E"}${r.major.major}${r.cls.minor}`;

export async function categoriesTab(box: HTMLElement): Promise<void> {
  const user = await currentUser();
  const cityAdmin = !!user?.grants.some((g) => g.role === "city_admin" && g.scope === "city");
  await (cityAdmin ? editor(box) : readOnly(box));
}

// --- read-only, for those who may not change the taxonomy -----------------------------------------

async function readOnly(box: HTMLElement): Promise<void> {
  const cats = await get<(Category & { urgency: string; emergency: boolean })[]>("/api/v1/categories");
  const filter = h("input", { type: "search", id: "category-filter", name: "filter" });
  const tbody = h("tbody", {});
  const draw = (): void => {
    const q = filter.value.trim().toLowerCase();
    clear(tbody);
    for (const c of cats) {
      const name = currentLang() === "zh" ? c.name_zh : c.name_en || c.name_zh;
      const major = currentLang() === "zh" ? c.major_name_zh : c.major_name_en || c.major_name_zh;
      const kw = [...c.keywords.zh, ...c.keywords.en].join(", ");
      if (q && ![c.code, name, major, kw].some((s) => s.toLowerCase().includes(q))) continue;
      tbody.append(h("tr", {}, h("td", {}, c.code), h("td", {}, c.kind), h("td", {}, major), h("td", {}, name),
        h("td", {}, c.urgency), h("td", {}, c.emergency ? t("yes") : ""), h("td", {}, kw)));
    }
  };
  filter.addEventListener("input", draw);
  box.append(
    h("p", { class: "hint" }, t("categories_hint", { n: fmtNumber(cats.length) })),
    h("div", { class: "field" }, h("label", { for: filter.id }, t("category_search")), filter),
    h("table", { class: "cases", id: "category-table" },
      h("caption", { class: "visually-hidden" }, t("adm_categories")),
      h("thead", {}, h("tr", {}, [t("code"), t("kind"), t("major"), t("category"), t("urgency"), t("emergency"), t("keywords")].map((x) => h("th", { scope: "col" }, x)))),
      tbody),
  );
  draw();
}

// --- the editor -------------------------------------------------------------------------------------

function rowsOf(doc: TaxonomyDoc): Row[] {
  const rows: Row[] = [];
  for (const [section, kind] of SECTIONS) {
    for (const major of doc[section as "components" | "events"] ?? []) {
      for (const cls of major.classes) rows.push({ kind, major, cls, fresh: false });
    }
  }
  return rows;
}

/** The draft back into the file's shape, and each row's path in it (for the server's problems). */
function documentOf(base: TaxonomyDoc, rows: Row[], label: string): { doc: TaxonomyDoc; paths: Map<Row, string> } {
  const paths = new Map<Row, string>();
  const doc: TaxonomyDoc = { name: base.name, version: label, note: base.note, components: [], events: [] };
  for (const [section, kind] of SECTIONS) {
    const majors = base[section as "components" | "events"] ?? [];
    doc[section as "components" | "events"] = majors.map((major, mi) => {
      const mine = rows.filter((r) => r.kind === kind && r.major === major);
      mine.forEach((r, ci) => paths.set(r, `${section}[${mi}].classes[${ci}]`));
      return { major: major.major, name_zh: major.name_zh, name_en: major.name_en, classes: mine.map((r) => ({ ...r.cls })) };
    });
  }
  return { doc, paths };
}

async function editor(box: HTMLElement, notice?: HTMLElement): Promise<void> {
  const current = await get<{ id: number }>("/api/v1/taxonomy");
  const [version, versions] = await Promise.all([
    get<VersionWithDocument>(`${VERSIONS}/${current.id}`),
    get<Version[]>(VERSIONS),
  ]);
  const base = version.document;
  const rows = rowsOf(base);
  // The table of inputs needs the page's width; leaving the tab gives it back.
  const main = box.closest("main");
  if (main) {
    main.style.maxWidth = "none";
    window.addEventListener("hashchange", () => main.style.removeProperty("max-width"), { once: true });
  }
  const general = h("div", { class: "result", id: "taxonomy-problems", "aria-live": "polite", tabindex: -1 });

  const filter = h("input", { type: "search", id: "category-filter", name: "filter" });
  const shown = h("p", { class: "hint", id: "category-count", "aria-live": "polite" });
  const tbody = h("tbody", {});
  const applyFilter = (): void => {
    const q = filter.value.trim().toLowerCase();
    let n = 0;
    for (const r of rows) {
      if (!r.tr) continue;
      const hay = [codeOf(r), r.cls.name_zh, r.cls.name_en, r.major.name_zh, r.major.name_en, ...(r.cls.keywords?.zh ?? []), ...(r.cls.keywords?.en ?? [])];
      const hit = !q || r.tr.hasAttribute("data-invalid") || hay.some((s) => s.toLowerCase().includes(q));
      r.tr.hidden = !hit;
      if (hit) n += 1;
    }
    shown.textContent = w("shown", { n: fmtNumber(n), total: fmtNumber(rows.length) });
  };
  filter.addEventListener("input", applyFilter);

  const rowEl = (r: Row): HTMLTableRowElement => {
    const code = codeOf(r);
    const slot = (name: string): HTMLElement => h("span", { class: "field-error", "data-slot": name });
    const text = (name: "name_zh" | "name_en", label: string): HTMLElement => {
      const el = h("input", { value: r.cls[name], maxlength: 200, style: "min-width: 9rem", "aria-label": `${label} ${code}`, "data-field": name });
      el.addEventListener("input", () => { r.cls[name] = el.value; });
      return h("td", {}, el, slot(name));
    };
    const kw = (lang: "zh" | "en", label: string): HTMLElement => {
      const el = h("input", { value: (r.cls.keywords?.[lang] ?? []).join(", "), style: "min-width: 13rem", "aria-label": `${label} ${code}`, "data-field": `keywords_${lang}` });
      el.addEventListener("input", () => { r.cls.keywords = { zh: r.cls.keywords?.zh ?? [], en: r.cls.keywords?.en ?? [], [lang]: words(el.value) }; });
      return h("td", {}, el, slot(`keywords.${lang}`));
    };
    const prefix = `${r.kind === "component" ? "C" : "E"}${r.major.major}`;
    let codeCell: HTMLElement;
    if (r.fresh) {
      const minor = h("input", { value: r.cls.minor, maxlength: 4, style: "width: 4rem", "aria-label": `${w("minor")} ${prefix}`, "data-field": "minor" });
      minor.addEventListener("input", () => { r.cls.minor = minor.value.trim(); r.tr?.setAttribute("data-code", codeOf(r)); });
      codeCell = h("td", {}, h("span", { style: "white-space: nowrap" }, prefix, " ", minor), slot("minor"));
    } else codeCell = h("td", {}, code, slot("minor"));
    const active = r.cls.active !== false;
    const toggle = r.fresh
      ? h("button", { type: "button", class: "link", "aria-label": `${w("remove_new")} ${code}`, onclick: () => { rows.splice(rows.indexOf(r), 1); r.tr?.remove(); applyFilter(); } }, w("remove_new"))
      : h("button", {
          type: "button", class: "link", "data-toggle": code, "aria-label": `${active ? t("deactivate") : w("reactivate")} ${code}`,
          onclick: () => {
            if (active) r.cls.active = false;
            else delete r.cls.active;
            const fresh = rowEl(r);
            r.tr?.replaceWith(fresh);
            r.tr = fresh;
          },
        }, active ? t("deactivate") : w("reactivate"));
    const major = currentLang() === "zh" ? r.major.name_zh : r.major.name_en || r.major.name_zh;
    const tr = h("tr", { "data-code": code, "data-active": String(active), class: active ? undefined : "inactive" },
      codeCell,
      h("td", {}, `${w(r.kind === "component" ? "kind_component" : "kind_event")} ${r.major.major} ${major}`),
      text("name_zh", t("name_zh")), text("name_en", t("name_en")),
      kw("zh", w("keywords_zh")), kw("en", w("keywords_en")),
      h("td", {}, active ? w("active") : w("inactive")),
      h("td", {}, toggle, " ", slot("")));
    return tr;
  };
  for (const r of rows) {
    r.tr = rowEl(r);
    tbody.append(r.tr);
  }

  box.append(
    h("p", { id: "taxonomy-in-use", "data-version": version.id },
      w("in_use", { id: String(version.id), label: version.label, n: fmtNumber(version.category_count), at: fmtDate(version.loaded_at) })),
    notice ?? "",
    h("p", { class: "hint" }, w("editor_hint")),
    h("div", { class: "field" }, h("label", { for: filter.id }, t("category_search")), filter),
    shown,
    h("table", { class: "cases", id: "category-table" },
      h("caption", { class: "visually-hidden" }, t("adm_categories")),
      h("thead", {}, h("tr", {}, [t("code"), t("major"), t("name_zh"), t("name_en"), w("keywords_zh"), w("keywords_en"), w("state"), t("actions")].map((x) => h("th", { scope: "col" }, x)))),
      tbody),
    addForm(base, (r) => {
      rows.push(r);
      r.tr = rowEl(r);
      const last = [...rows].reverse().find((x) => x !== r && x.major === r.major && x.tr);
      if (last?.tr) last.tr.after(r.tr);
      else tbody.append(r.tr);
      applyFilter();
    }),
    saveForm(base, version, rows, general, box),
    general,
    versionsSection(versions, box),
  );
  applyFilter();
}

function labelled(label: string, el: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  el.id ||= nextId("tax");
  return h("div", { class: "field" }, h("label", { for: el.id }, label), el, hint ? h("p", { class: "hint" }, hint) : null);
}

/** A new class under an existing major: its minor code and names; checked when saved. */
function addForm(base: TaxonomyDoc, add: (r: Row) => void): HTMLElement {
  const majors: [Kind, MajorDoc][] = SECTIONS.flatMap(([section, kind]) => (base[section as "components" | "events"] ?? []).map((m): [Kind, MajorDoc] => [kind, m]));
  const label = (kind: Kind, m: MajorDoc): string => `${kind === "component" ? "C" : "E"}${m.major} ${currentLang() === "zh" ? m.name_zh : m.name_en}`;
  const pick = h("select", { name: "major" }, majors.map(([kind, m], i) => h("option", { value: i }, label(kind, m))));
  const minor = h("input", { name: "minor", maxlength: 4, size: 4 });
  const zh = h("input", { name: "name_zh", maxlength: 200 });
  const en = h("input", { name: "name_en", maxlength: 200 });
  const done = h("p", { role: "status" });
  const button = h("button", { type: "button", class: "secondary", id: "add-class" }, w("add"));
  button.addEventListener("click", () => {
    const [kind, major] = majors[Number(pick.value)];
    const cls: ClassDoc = { minor: minor.value.trim(), name_zh: zh.value.trim(), name_en: en.value.trim(), keywords: { zh: [], en: [] } };
    const r: Row = { kind, major, cls, fresh: true };
    add(r);
    done.textContent = w("added", { code: codeOf(r) });
    for (const el of [minor, zh, en]) el.value = "";
  });
  return h("fieldset", { id: "new-class" }, h("legend", {}, w("new_class")),
    h("div", { class: "row" }, labelled(w("major_pick"), pick), labelled(w("minor"), minor), labelled(t("name_zh"), zh), labelled(t("name_en"), en)),
    button, done);
}

/** The version label, the note, and the save; the server's problems go next to their rows. */
function saveForm(base: TaxonomyDoc, version: VersionWithDocument, rows: Row[], general: HTMLElement, box: HTMLElement): HTMLElement {
  const label = h("input", { id: nextId("tax-label"), name: "version", maxlength: 64, required: true, value: cityToday().replaceAll("-", ".") });
  const note = h("input", { id: nextId("tax-note"), name: "note", maxlength: 500, required: true });
  const labelErr = h("span", { class: "field-error", "data-path-error": "version" });
  const noteErr = h("span", { class: "field-error", "data-path-error": "note" });
  const form = h("form", { class: "action", novalidate: true, "data-form": "save-taxonomy" },
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: label.id }, w("version_label")), label, labelErr),
      h("div", { class: "field" }, h("label", { for: note.id }, w("note")), note, h("p", { class: "hint" }, w("note_hint")), noteErr)),
    h("button", { type: "submit" }, w("save_version")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let ok = true;
    for (const [el, err] of [[label, labelErr], [note, noteErr]] as const) {
      err.textContent = el.value.trim() ? "" : t("required");
      if (el.value.trim()) el.removeAttribute("aria-invalid");
      else {
        el.setAttribute("aria-invalid", "true");
        if (ok) el.focus();
        ok = false;
      }
    }
    if (!ok) return;
    const { doc, paths } = documentOf(base, rows, label.value.trim());
    for (const r of rows) {
      const path = paths.get(r) ?? "";
      for (const s of r.tr?.querySelectorAll<HTMLElement>("[data-slot]") ?? []) {
        const name = s.getAttribute("data-slot") ?? "";
        s.setAttribute("data-path-error", name ? `${path}.${name}` : path);
      }
    }
    try {
      const saved = await post<Version & { created: boolean }>(VERSIONS, { document: doc, note: note.value.trim(), base_version: version.id });
      const msg = h("p", { role: "status", "data-saved": saved.id }, w(saved.created ? "saved" : "unchanged", { id: String(saved.id) }));
      clear(box);
      await editor(box, msg);
    } catch (err) {
      showProblems(box, general, err, rows);
    }
  });
  return form;
}

/** Problems next to the elements whose ``data-path-error`` names their path (or the nearest part
 * of it), or the row of the class they name; the rest listed in ``general``. */
function showProblems(root: HTMLElement, general: HTMLElement, err: unknown, rows: Row[] = []): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-path-error]")) el.textContent = "";
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of root.querySelectorAll("[data-invalid]")) el.removeAttribute("data-invalid");
  clear(general);
  if (!(err instanceof ApiError)) {
    general.append(h("p", { class: "field-error", role: "alert" }, String(err)));
    return;
  }
  if (err.status === 409) {
    const n = /version (\d+)/.exec(err.detail)?.[1] ?? "?";
    general.append(h("p", { class: "field-error", role: "alert", "data-conflict": "true" }, w("conflict", { n }), " ",
      h("button", { type: "button", class: "secondary", onclick: () => location.reload() }, w("reload"))));
    general.focus();
    return;
  }
  const rest: FieldProblem[] = [];
  for (const p of err.problems) {
    let path = p.field;
    let target: HTMLElement | null = null;
    while (path && !target) {
      target = root.querySelector<HTMLElement>(`[data-path-error="${CSS.escape(path)}"]`);
      path = /(\.[^.[\]]*|\[\d+\])$/.test(path) ? path.replace(/(\.[^.[\]]*|\[\d+\])$/, "") : "";
    }
    const record = (p as { record?: string }).record;
    const row = rows.find((r) => r.tr && codeOf(r) === record);
    if ((!target || !target.closest("tr")) && row?.tr) target = row.tr.querySelector<HTMLElement>("[data-slot='']");
    if (!target) {
      rest.push(p);
      continue;
    }
    target.textContent = [target.textContent, problemText(p)].filter(Boolean).join(" · ");
    target.parentElement?.querySelector("input")?.setAttribute("aria-invalid", "true");
    const tr = target.closest("tr");
    if (tr) {
      tr.hidden = false; // a row the search hides still shows its problem
      tr.setAttribute("data-invalid", "true");
    }
  }
  if (rest.length || !err.problems.length) {
    general.append(h("p", { class: "field-error", role: "alert" }, err.problems.length ? w("problems", { n: String(rest.length) }) : err.detail || err.title),
      h("ul", { class: "problems" }, rest.map((p) => h("li", {}, h("code", {}, p.field), ` ${problemText(p)}`))));
  }
  const first = root.querySelector<HTMLElement>("input[aria-invalid]");
  if (first) first.focus();
  else general.focus();
}

function versionsSection(versions: Version[], box: HTMLElement): HTMLElement {
  const errors = h("div", { class: "result", id: "version-problems", "aria-live": "polite", tabindex: -1 });
  const use = async (v: Version): Promise<void> => {
    try {
      await call<Version>("POST", `${VERSIONS}/${v.id}/activate`);
      const msg = h("p", { role: "status", "data-activated": v.id }, w("activated", { id: String(v.id) }));
      clear(box);
      await editor(box, msg);
    } catch (err) {
      showProblems(errors, errors, err);
    }
  };
  return h("section", { id: "taxonomy-versions", "aria-labelledby": "taxonomy-versions-h" },
    h("h2", { id: "taxonomy-versions-h" }, w("versions")),
    h("table", { class: "cases" },
      h("caption", { class: "visually-hidden" }, w("versions")),
      h("thead", {}, h("tr", {}, [w("version"), w("version_label"), w("loaded_at"), w("classes"), w("source"), w("note"), w("state"), t("actions")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, versions.map((v) => h("tr", { "data-version": v.id, "data-in-use": String(v.in_use) },
        h("td", {}, String(v.id)), h("td", {}, v.label), h("td", {}, fmtDate(v.loaded_at)), h("td", {}, fmtNumber(v.category_count)),
        h("td", {}, v.source), h("td", {}, v.note),
        h("td", {}, v.in_use ? w("in_use_mark") : v.active ? w("active") : w("switched_off")),
        h("td", {}, v.in_use ? "" : h("button", { type: "button", class: "link", "data-use": v.id, "aria-label": `${w("use_version")} ${v.id}`, onclick: () => void use(v) }, w("use_version"))))))),
    errors);
}
