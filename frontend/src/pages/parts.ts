// Pieces several pages share: the traffic light and a table of cases.
import type { CaseOut } from "../api";
import { h } from "../dom";
import { fmtDate, t, word } from "../i18n";

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
          h("td", {}, c.category_code),
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
