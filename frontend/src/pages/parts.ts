// Pieces several pages share: the traffic light, a case's category and a table of cases.
import { categories, type CaseOut, type Category } from "../api";
import { h } from "../dom";
import { currentLang, fmtDate, t, word } from "../i18n";

let byCode = new Map<string, Category>();

/** Loads the taxonomy's names (once per page load) for ``categoryLabel``; pages await it
 * alongside their own data before they draw. */
export async function loadCategoryNames(): Promise<void> {
  const all = await categories();
  if (all.length) byCode = new Map(all.map((c) => [c.code, c]));
}

/** A category's name in the current language, as staff read it; the code stays in small
 * secondary text (and the tooltip) for those who work by code. An unknown code (a class the
 * taxonomy in use no longer has) shows as the code alone. */
export function categoryLabel(code: string): HTMLElement {
  const c = byCode.get(code);
  if (!c) return h("span", { class: "category", "data-code": code }, code);
  const name = currentLang() === "zh" ? c.name_zh : c.name_en || c.name_zh;
  const major = currentLang() === "zh" ? c.major_name_zh : c.major_name_en || c.major_name_zh;
  return h(
    "span",
    { class: "category", "data-code": code, title: major ? `${code} · ${major}` : code },
    name,
    " ",
    h("small", { class: "code" }, code),
  );
}

export function lightBadge(light: string | undefined | null): HTMLElement {
  if (!light) return h("span", { class: "light none" }, "—");
  return h("span", { class: `light ${light}` }, h("span", { class: "dot", "aria-hidden": "true" }), word("", light));
}

export function caseTable(items: CaseOut[], caption: string, select?: (c: CaseOut) => HTMLElement): HTMLElement {
  if (!items.length) return h("p", { class: "empty" }, t("none"));
  return h(
    "table",
    { class: "cases" },
    h("caption", {}, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        select ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("select"))) : null,
        [t("number"), t("category"), t("status"), t("light"), t("deadline"), t("district"), t("created")].map((x) =>
          h("th", { scope: "col" }, x),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      items.map((c) =>
        h(
          "tr",
          {},
          select ? h("td", {}, select(c)) : null,
          h("td", {}, h("a", { href: `#/case/${c.id}`, class: "case-link" }, c.number)),
          h("td", {}, categoryLabel(c.category_code)),
          h("td", {}, word("s_", c.status)),
          h("td", {}, lightBadge(c.clock?.light)),
          h("td", {}, fmtDate(c.clock?.deadline)),
          h("td", {}, c.location.district ?? ""),
          h("td", {}, fmtDate(c.created_at)),
        ),
      ),
    ),
  );
}
