import { currentUser, get, post, type CaseOut, type Me } from "../api";
import { clear, h, nextId } from "../dom";
import { t, word, type Key } from "../i18n";
import { go } from "../main";
import { actionsFor, FLASH, reasonNeeded } from "./case";
import { caseTable, errorText, loadCategoryNames } from "./parts";

interface Queue {
  key: Key;
  permission: string;
  query: string;
}

// Each role sees the queues its permissions act on; "overdue" is everyone's. Every queue is
// found by the server: a page filtered here would miss whatever lies past its hundred cases.
const QUEUES: Queue[] = [
  { key: "q_to_verify", permission: "case.verify", query: "status=to_verify" },
  { key: "q_to_file", permission: "case.file", query: "status=to_file" },
  // Returned: a department sent the case back, and it waits to go to another one.
  { key: "q_to_dispatch", permission: "case.dispatch", query: "status=to_dispatch&returned=false" },
  { key: "q_returned", permission: "case.dispatch", query: "status=to_dispatch&returned=true" },
  { key: "q_dispatched", permission: "case.accept", query: "status=dispatched" },
  { key: "q_handling", permission: "case.report_back", query: "status=handling" },
  // Requests are found by the server (a request on any handling case, not only the oldest
  // hundred of them): a request waits only while its case is handling.
  { key: "q_extension", permission: "case.extend.approve", query: "extension_pending=true" },
  { key: "q_hold", permission: "case.hold", query: "hold_pending=true" },
  { key: "q_to_check", permission: "case.check", query: "status=to_check" },
  { key: "q_to_close", permission: "case.close", query: "status=to_close" },
  // Work that is late now: the running step's light is red (``overdue=true`` would also list
  // cases closed late, which are history, not work).
  { key: "q_overdue", permission: "case.read", query: "light=red" },
];

// A report back needs a photo of its own and an extension request its own amount: those are
// done one case at a time. Everything else may be done to several cases at once.
const NOT_IN_BULK = new Set(["report_back", "extend_request"]);

export async function workbenchPage(main: HTMLElement): Promise<void> {
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fwork");
  const mine = QUEUES.filter((q) => user.actions.includes(q.permission));
  // What the last page did to a case that has left this user's reach, said once.
  const flash = sessionStorage.getItem(FLASH);
  sessionStorage.removeItem(FLASH);
  main.append(
    h("h1", {}, t("work_title")),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => go("#/work") }, t("refresh"))),
  );
  if (flash) main.querySelector("h1")!.after(h("p", { class: "notice", role: "status", id: "work-flash" }, flash));
  const [pages] = await Promise.all([
    Promise.all(mine.map((q) => get<{ items: CaseOut[]; next_cursor: string | null }>(`/api/v1/cases?${q.query}&limit=100&sort=created_at`))),
    loadCategoryNames(),
  ]);
  const selected = new Map<number, CaseOut>();
  const bulk = bulkForm(user, selected);
  const nav = h("nav", { "aria-label": t("queue"), class: "queues" }, h("ul", {}));
  main.append(nav, bulk.form);
  mine.forEach((q, i) => {
    const items = pages[i].items;
    // The oldest hundred are shown; "100+" says more wait behind them.
    const count = `(${items.length}${pages[i].next_cursor ? "+" : ""})`;
    const id = `queue-${q.key}`;
    nav.querySelector("ul")!.append(h("li", {}, h("a", { href: `#/work`, onclick: (e: Event) => { e.preventDefault(); document.getElementById(id)?.focus(); } }, `${t(q.key)} ${count}`)));
    const pick = (c: CaseOut): HTMLElement => {
      const box = h("input", { type: "checkbox", class: "pick", "data-case": c.number, "aria-label": `${t("select")} ${c.number}` });
      box.addEventListener("change", () => {
        // The same case may sit in two queues (overdue and its step): keep both boxes alike.
        for (const other of document.querySelectorAll<HTMLInputElement>(`input.pick[data-case="${c.number}"]`)) other.checked = box.checked;
        if (box.checked) selected.set(c.id, c);
        else selected.delete(c.id);
        bulk.update();
      });
      return box;
    };
    main.append(
      h("section", { id, tabindex: -1, class: "queue", "aria-labelledby": `${id}-h`, "data-queue": q.key.slice(2) },
        h("h2", { id: `${id}-h` }, `${t(q.key)} `, h("span", { class: "count" }, count)),
        caseTable(items, t(q.key), pick)),
    );
  });
}

interface Bulk {
  form: HTMLFormElement;
  update: () => void;
}

/** One action for every selected case for which the workflow and the user's grants allow it.
 * Each case is its own request and its own transaction: a failure is named and the rest go on. */
function bulkForm(user: Me, selected: Map<number, CaseOut>): Bulk {
  const count = h("p", { id: "bulk-count", "aria-live": "polite" });
  const action = h("select", { id: nextId("bulk-action"), name: "action" });
  const reason = h("textarea", { id: nextId("bulk-reason"), name: "reason", rows: 2, maxlength: 2000 });
  const dept = h("input", { id: nextId("bulk-dept"), name: "department_code" });
  const passed = h("input", { id: nextId("bulk-passed"), type: "checkbox", name: "passed", checked: true });
  const deptRow = h("div", { class: "field", hidden: true }, h("label", { for: dept.id }, t("department")), dept,
    h("p", { class: "hint" }, t("bulk_dept_hint")));
  const passedRow = h("div", { class: "check", hidden: true }, passed, h("label", { for: passed.id }, t("passed")));
  const error = h("p", { class: "field-error", role: "alert" });
  const results = h("ul", { id: "bulk-results", class: "bulk-results" });
  const button = h("button", { type: "submit", id: "bulk-go" }, t("bulk_do"));
  const form = h("form", { class: "action bulk", id: "bulk", novalidate: true, "aria-labelledby": "bulk-h" },
    h("h2", { id: "bulk-h" }, t("bulk_title")), count,
    h("div", { class: "field" }, h("label", { for: action.id }, t("bulk_action")), action),
    h("div", { class: "field" }, h("label", { for: reason.id }, t("reason")), reason),
    deptRow, passedRow, error, button, results);

  const shown = (): void => {
    deptRow.hidden = action.value !== "dispatch";
    passedRow.hidden = action.value !== "check";
  };
  action.addEventListener("change", shown);

  const update = (): void => {
    const cases = [...selected.values()];
    count.textContent = t("bulk_selected", { n: String(cases.length) });
    let common: string[] | null = null;
    for (const c of cases) {
      const mine = actionsFor(c, user).filter((a) => !NOT_IN_BULK.has(a));
      common = common === null ? mine : common.filter((a) => mine.includes(a));
    }
    const keep = action.value;
    clear(action);
    const options = common ?? [];
    if (!options.length) action.append(h("option", { value: "" }, cases.length ? t("bulk_no_common") : t("bulk_pick")));
    for (const a of options) action.append(h("option", { value: a, selected: a === keep }, word("", a)));
    action.disabled = !options.length;
    button.disabled = !options.length;
    shown();
  };
  update();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const act = action.value;
    const note = reason.value.trim();
    error.textContent = "";
    reason.removeAttribute("aria-invalid");
    if (!act) return;
    if (reasonNeeded(act, [...selected.values()]) && !note) {
      error.textContent = t("reason_required");
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    button.disabled = true;
    clear(results);
    let failed = 0;
    const batch = [...selected.values()];
    for (const c of batch) {
      const body: Record<string, unknown> = { expected_version: c.version, reason: note };
      if (act === "dispatch" && dept.value.trim()) body.department_code = dept.value.trim();
      if (act === "check") body.passed = passed.checked;
      try {
        const after = await post<CaseOut>(`/api/v1/cases/${c.id}/${act.replace("_", "-")}`, body);
        // Done: out of the selection; what failed stays ticked, to be looked at or tried again.
        selected.delete(c.id);
        for (const box of document.querySelectorAll<HTMLInputElement>(`input.pick[data-case="${c.number}"]`)) {
          // The row now says where the case went; it leaves the queue on the next refresh.
          box.checked = false;
          box.disabled = true;
          const status = box.closest("tr")?.children[3];
          if (status) status.textContent = word("s_", after.status);
        }
        results.append(h("li", { class: "ok", "data-case": c.number, "data-ok": "true" },
          h("a", { href: `#/case/${c.id}` }, c.number), ` ✓ ${word("s_", after.status)}`));
      } catch (err) {
        failed += 1;
        const why = errorText(err);
        results.append(h("li", { class: "failed", "data-case": c.number, "data-ok": "false" },
          h("a", { href: `#/case/${c.id}` }, c.number), ` ✗ ${why}`));
      }
    }
    results.prepend(h("li", { id: "bulk-summary" }, t("bulk_summary", { ok: String(batch.length - failed), failed: String(failed) })));
    update();
  });
  return { form, update };
}
