// Labelled fields with their error line, and the server's problems put next to them: what the
// grid and routing admin tabs share.
import { ApiError } from "../api";
import { h, nextId } from "../dom";
import { t } from "../i18n";
import { problemText } from "./parts";

export type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export interface Field {
  name: string;
  el: Control;
  error: HTMLElement;
  row: HTMLElement;
}

export function field(name: string, label: string, el: Control, hint?: string): Field {
  el.id ||= nextId(name);
  el.setAttribute("name", name);
  const error = h("p", { class: "field-error", id: `${el.id}-err`, "aria-live": "polite" });
  const hintEl = hint ? h("p", { class: "hint", id: `${el.id}-hint` }, hint) : null;
  el.setAttribute("aria-describedby", [hintEl?.id, error.id].filter(Boolean).join(" "));
  const row = h("div", { class: "field" }, h("label", { for: el.id }, label), el, hintEl, error);
  return { name, el, error, row };
}

export function choices(values: [string, string][], selected?: string): HTMLOptionElement[] {
  return values.map(([v, label]) => h("option", { value: v, selected: v === selected }, label));
}

/** The server's field problems next to their fields (by name, or by ``aliases``: the field the
 * server names → ours); the rest, with their feature, in ``general``. */
export function showProblems(
  err: unknown,
  fields: Field[],
  general: HTMLElement,
  aliases: Record<string, string> = {},
): void {
  clearProblems(fields, general);
  if (!(err instanceof ApiError)) {
    general.textContent = String(err);
    return;
  }
  const rest: string[] = [];
  for (const p of err.problems) {
    const name = aliases[p.field] ?? p.field;
    // A field also takes the problems of its parts (``grants.0.role`` → ``grants``).
    const target = fields.find((f) => f.name === name || name.startsWith(`${f.name}.`));
    const where = (p as { record?: string }).record;
    const text = problemText(p);
    if (target && !where) {
      target.error.textContent = target.error.textContent ? `${target.error.textContent} ${text}` : text;
      target.el.setAttribute("aria-invalid", "true");
    } else rest.push(`${where ? `${where} · ` : ""}${p.field}: ${text}`);
  }
  if (!err.problems.length) general.textContent = err.detail || err.title;
  else if (rest.length) {
    general.append(h("p", {}, t("ag_problems", { n: String(rest.length) })), h("ul", {}, rest.map((r) => h("li", {}, r))));
  }
  const first = fields.find((f) => f.el.getAttribute("aria-invalid") === "true");
  if (first) first.el.focus();
  else if (general.textContent) general.focus();
}

export function clearProblems(fields: Field[], general: HTMLElement): void {
  for (const f of fields) {
    f.error.textContent = "";
    f.el.removeAttribute("aria-invalid");
  }
  while (general.firstChild) general.removeChild(general.firstChild);
}

export function required(fields: Field[]): boolean {
  let ok = true;
  for (const f of fields) {
    if (f.el.hasAttribute("required") && !f.el.value.trim()) {
      f.error.textContent = t("required");
      f.el.setAttribute("aria-invalid", "true");
      if (ok) f.el.focus();
      ok = false;
    }
  }
  return ok;
}

/** A region for messages that are not about one field: focusable, announced. */
export function generalErrors(id: string): HTMLElement {
  return h("div", { class: "error", id, role: "alert", tabindex: -1 });
}

/** ``el.append`` that skips what is not there (``cond ? node : null``). */
export function put(el: Element, ...kids: (Node | string | null | false | undefined)[]): void {
  for (const k of kids) if (k !== null && k !== false && k !== undefined) el.append(k);
}
