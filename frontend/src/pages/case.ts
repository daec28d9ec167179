import { ApiError, call, currentUser, get, post, webConfig, type CaseOut, type HistoryOut, type Me } from "../api";
import { h, nextId } from "../dom";
import { cityToday, fmtDate, t, word, type Key } from "../i18n";
import { go, type Route } from "../main";
import { categoryLabel, errorText, IMAGE_TYPES, lightBadge, loadCategoryNames, outOfReach, photoProblem, problemText } from "./parts";

interface AttachmentOut {
  id: number;
  filename: string;
  media_type: string;
}

const PERMISSION: Record<string, string> = {
  extend_request: "case.extend.request",
  extend_approve: "case.extend.approve",
  extend_refuse: "case.extend.approve",
  hold_request: "case.hold.request",
  hold_refuse: "case.hold",
};
export const NEEDS_REASON = new Set(["cancel", "return", "handle", "report_back", "rework", "extend_refuse", "hold", "extend_request", "hold_request", "hold_refuse", "reopen"]);

/** Whether ``action`` on every one of ``cases`` needs a note: a hold that approves a
 * department's pending request has the request's own reason, so the shift leader's is optional. */
export function reasonNeeded(action: string, cases: CaseOut[]): boolean {
  if (!NEEDS_REASON.has(action)) return false;
  return !(action === "hold" && cases.length > 0 && cases.every((c) => c.hold_pending));
}
const WITH_PHOTO = new Set(["report_back", "check", "verify", "handle"]);
const OFFERED = ["verify", "file", "cancel", "dispatch", "accept", "return", "handle", "report_back", "check", "close", "rework", "extend_request", "extend_approve", "extend_refuse", "hold_request", "hold", "hold_refuse", "resume", "reopen"];

export async function casePage(main: HTMLElement, route: Route): Promise<void> {
  const id = Number(route.path.split("/")[2]);
  const user = await currentUser();
  if (!user) return go(`#/login?next=${encodeURIComponent(`#/case/${id}`)}`);
  await caseView(main, id, user, 1, (action, number) => void drawAgainOrLeave(id, action, number));
}

/** After an action the case is drawn again, unless the action took it out of the user's reach
 * (a department's return): then the workbench, saying what became of it. */
async function drawAgainOrLeave(id: number, action: string, number: string): Promise<void> {
  try {
    await get<CaseOut>(`/api/v1/cases/${id}`);
  } catch (err) {
    if (!outOfReach(err)) return go(`#/case/${id}`); // the page says what went wrong
    sessionStorage.setItem(FLASH, t("case_left", { number, action: word("", action) }));
    return go("#/work");
  }
  go(`#/case/${id}`);
}

/** A message for the next page to show once (the workbench, after a case left the user's reach). */
export const FLASH = "onegrid.flash";

/** One case: facts, routing, allowed actions, attachments, history. Drawn on its own page
 * (``level`` 1) or in the command centre's side panel (``level`` 2); ``after`` runs once an
 * action has been taken, to draw it again. */
export async function caseView(main: HTMLElement, id: number, user: Me, level: 1 | 2, after: (action: string, number: string) => void): Promise<void> {
  const [c, history, files, cfg] = await Promise.all([
    get<CaseOut>(`/api/v1/cases/${id}`),
    get<HistoryOut[]>(`/api/v1/cases/${id}/history`),
    get<AttachmentOut[]>(`/api/v1/cases/${id}/attachments`),
    webConfig(),
    loadCategoryNames(),
  ]);
  const H = level === 1 ? "h2" : "h3";
  const sub = level === 1 ? "h3" : "h4";
  main.append(
    h(level === 1 ? "h1" : "h2", {}, `${t("case_title")} `, h("span", { id: level === 1 ? "case-number" : "panel-case-number" }, c.number)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("status")),
      h("dd", { id: level === 1 ? "case-status" : "panel-case-status", "data-status": c.status }, word("s_", c.status)),
      h("dt", {}, t("light")),
      h("dd", {}, lightBadge(c.clock?.light), " ", fmtDate(c.clock?.deadline)),
      // A held case says when the department expects to take the work up again.
      c.hold_resume_on ? [h("dt", {}, t("hold_resume_day")), h("dd", { id: level === 1 ? "case-resume-on" : undefined }, c.hold_resume_on)] : null,
      h("dt", {}, t("category")),
      h("dd", { id: level === 1 ? "case-category" : "panel-case-category" }, categoryLabel(c.category_code)),
      h("dt", {}, t("description")),
      h("dd", {}, c.description),
      h("dt", {}, t("location")),
      h("dd", {}, `${c.address} (${c.location.lon.toFixed(5)}, ${c.location.lat.toFixed(5)}) ${c.location.unit_grid ?? ""}`),
      h("dt", {}, t("department")),
      h("dd", { id: level === 1 ? "case-department" : undefined }, c.department_code ?? c.suggested_department_code ?? "—"),
      h("dt", {}, t("reporter")),
      h("dd", {}, [c.reporter.name, c.reporter.phone].filter(Boolean).join(" ") || "—"),
    ),
  );
  if (user.actions.includes("case.dispatch") || user.actions.includes("hotline.intake")) {
    // Every case's route is explained: the unit chosen and why, or, before dispatch, what the
    // rules suggest (decided by nobody yet).
    const route = await get<{ department_code: string; explanation: string; decided_by: string | null }>(`/api/v1/hotline/cases/${id}/route`).catch(() => null);
    if (route) {
      const rid = nextId("route-h");
      const lead = route.decided_by === null ? `${t("route_suggested")} ` : "";
      main.append(h("section", { "aria-labelledby": rid }, h(H, { id: rid }, t("routing")),
        h("p", { id: "route-explanation" }, `${lead}${route.department_code}: ${route.explanation}`)));
    }
  }
  const actions = actionsFor(c, user);
  if (actions.length) {
    const aid = nextId("actions-h");
    main.append(h("section", { "aria-labelledby": aid }, h(H, { id: aid }, t("actions")), ...actions.map((a) => actionForm(c, a, sub, cfg.max_upload_bytes, after))));
  }
  if (user.actions.includes("hotline.callback") && CALLBACK_STATUSES.has(c.status)) {
    main.append(callbackForm(c, sub));
  }
  if (c.status === "closed" && user.actions.includes("case.evaluate") && user.grants.some((g) => g.role === "citizen")) {
    main.append(ratingForm(c, sub));
  }
  const fid = nextId("files-h");
  const hid = nextId("history-h");
  main.append(
    h("section", { "aria-labelledby": fid },
      h(H, { id: fid }, t("attachments")),
      files.length
        ? h("ul", { class: "photos" }, files.map((f) =>
            h("li", {}, f.media_type.startsWith("image/")
              ? h("img", { src: `/api/v1/cases/${id}/attachments/${f.id}`, alt: f.filename, loading: "lazy" })
              : h("a", { href: `/api/v1/cases/${id}/attachments/${f.id}` }, f.filename))))
        : h("p", {}, t("none")),
    ),
    h("section", { "aria-labelledby": hid },
      h(H, { id: hid }, t("history")),
      h("ol", { class: "history" }, history.map((e) =>
        h("li", {},
          h("time", { datetime: e.at }, fmtDate(e.at)), " ",
          h("strong", {}, word("", e.action)), " ",
          e.from_status ? `${word("s_", e.from_status)} → ` : "", word("s_", e.to_status), " · ",
          e.actor_name, e.reason ? ` — ${e.reason}` : ""))),
    ),
  );
}

const CALLBACK_STATUSES = new Set(["to_check", "to_close", "closed"]);
const SATISFACTION: Key[] = ["satisfied", "basically_satisfied", "dissatisfied"];

/** 回访: the operator records the requester's answer; "not resolved" reopens the case. */
function callbackForm(c: CaseOut, sub: "h3" | "h4"): HTMLElement {
  const resolved = h("input", { type: "checkbox", id: nextId("resolved"), name: "resolved", checked: true });
  const note = h("textarea", { id: nextId("note"), name: "note", rows: 2, maxlength: 2000 });
  const error = h("p", { class: "field-error", role: "alert" });
  const group = h("fieldset", {}, h("legend", {}, t("satisfaction")),
    SATISFACTION.map((k, i) => {
      const id = nextId("sat");
      return h("div", { class: "check" }, h("input", { type: "radio", name: "satisfaction", id, value: k, checked: i === 0 }), h("label", { for: id }, t(k)));
    }));
  const button = h("button", { type: "submit" }, t("callback"));
  const form = h("form", { class: "action", "data-action": "callback", novalidate: true },
    h(sub, {}, t("callback")), h("p", { class: "hint" }, t("resolved_q")),
    h("div", { class: "check" }, resolved, h("label", { for: resolved.id }, t("resolved"))),
    group, h("label", { for: note.id }, t("reason")), note, error, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    const satisfaction = (form.querySelector("input[name=satisfaction]:checked") as HTMLInputElement).value;
    try {
      await post(`/api/v1/hotline/cases/${c.id}/callbacks`, { resolved: resolved.checked, satisfaction, note: note.value.trim() });
      form.replaceChildren(h("p", { role: "status", id: "callback-done" }, t("rated_thanks")));
    } catch (err) {
      button.disabled = false;
      error.textContent = errorText(err);
    }
  });
  return form;
}

/** 评价: the reporter says whether the problem was solved and how satisfied they are, once. */
function ratingForm(c: CaseOut, sub: "h3" | "h4"): HTMLElement {
  const resolved = h("input", { type: "checkbox", id: nextId("rate-resolved"), name: "resolved", checked: true });
  const note = h("textarea", { id: nextId("rate-note"), name: "note", rows: 2, maxlength: 2000 });
  const error = h("p", { class: "field-error", role: "alert" });
  const group = h("fieldset", {}, h("legend", {}, t("rate_score")),
    SATISFACTION.map((k, i) => {
      const id = nextId("rate");
      return h("div", { class: "check" }, h("input", { type: "radio", name: "rating", id, value: k, checked: i === 0 }), h("label", { for: id }, t(k)));
    }));
  const button = h("button", { type: "submit" }, t("rate_do"));
  const form = h("form", { class: "action", "data-action": "rating", novalidate: true },
    h(sub, {}, t("rate_title")),
    h("div", { class: "check" }, resolved, h("label", { for: resolved.id }, t("rate_resolved"))),
    group, h("label", { for: note.id }, t("rate_comment")), note, error, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    const satisfaction = (form.querySelector("input[name=rating]:checked") as HTMLInputElement).value;
    try {
      await post(`/api/v1/cases/${c.id}/rating`, { resolved: resolved.checked, satisfaction, note: note.value.trim() });
      form.replaceChildren(h("p", { role: "status", id: "rating-done" }, t("rate_done")));
    } catch (err) {
      button.disabled = false;
      error.textContent = err instanceof ApiError ? [err.detail || err.title, ...err.problems.map((p) => p.message)].filter(Boolean).join(" · ") : String(err);
    }
  });
  return form;
}

export function actionsFor(c: CaseOut, user: Me): string[] {
  return OFFERED.filter((a) => c.allowed_actions.includes(a) && user.actions.includes(PERMISSION[a] ?? `case.${a}`) && fitsPending(a, c));
}

/** The server allows by status alone; a request is decided only while one waits. One hold
 * request waits at a time: none is asked while one waits, none refused unasked. An extension is
 * granted or refused only when the department asked for one. */
function fitsPending(action: string, c: CaseOut): boolean {
  if (action === "hold_request") return !c.hold_pending;
  if (action === "hold_refuse") return !!c.hold_pending;
  if (action === "extend_approve" || action === "extend_refuse") return !!c.extension_pending;
  return true;
}

/** Shows why the chosen photo would be refused next to its input; true when it may be sent. */
function checkPhoto(input: HTMLInputElement, error: HTMLElement, maxBytes: number): boolean {
  const problem = photoProblem(input, maxBytes);
  error.textContent = problem;
  if (problem) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return !problem;
}

function actionForm(c: CaseOut, action: string, sub: "h3" | "h4", maxBytes: number, after: (action: string, number: string) => void): HTMLElement {
  const reasonId = nextId("reason");
  const errId = nextId("err");
  const error = h("p", { id: errId, class: "field-error", "aria-live": "polite" });
  const needsReason = reasonNeeded(action, [c]);
  const reason = h("textarea", { id: reasonId, name: "reason", rows: 2, maxlength: 2000, required: needsReason, "aria-describedby": errId });
  const parts: HTMLElement[] = [h("label", { for: reasonId }, t("reason")), reason];
  let dept: HTMLInputElement | null = null;
  let deptError: HTMLElement | null = null;
  let passed: HTMLInputElement | null = null;
  let photo: HTMLInputElement | null = null;
  let photoError: HTMLElement | null = null;
  let amount: HTMLInputElement | null = null;
  let resumeOn: HTMLInputElement | null = null;
  if (action === "dispatch") {
    deptError = h("p", { id: nextId("dept-err"), class: "field-error", "aria-live": "polite" });
    dept = h("input", { id: nextId("dept"), name: "department_code", value: c.suggested_department_code ?? "", "aria-describedby": deptError.id });
    parts.push(h("label", { for: dept.id }, t("department")), dept, deptError);
  }
  if (action === "check") {
    passed = h("input", { id: nextId("passed"), type: "checkbox", name: "passed", checked: true });
    parts.push(h("div", { class: "check" }, passed, h("label", { for: passed.id }, t("passed"))));
  }
  if (action === "extend_request") {
    amount = h("input", { id: nextId("amount"), type: "number", min: 1, max: 30, value: 2, name: "amount" });
    parts.push(h("label", { for: amount.id }, t("working_days")), amount);
  }
  if (action === "hold_request") {
    // The server takes only a day after the city's today; the picker starts there too.
    const tomorrow = new Date(`${cityToday()}T00:00:00Z`);
    tomorrow.setUTCDate(tomorrow.getUTCDate() + 1);
    resumeOn = h("input", { id: nextId("resume-on"), type: "date", name: "resume_on", min: tomorrow.toISOString().slice(0, 10) });
    parts.push(h("label", { for: resumeOn.id }, t("resume_on")), resumeOn);
  }
  const pending = c.hold_pending;
  if (pending && (action === "hold" || action === "hold_refuse")) {
    const notes = action === "hold" ? [t("hold_approves", { at: fmtDate(pending.requested_at) })] : [];
    if (pending.resume_on) notes.push(t("resume_expected", { day: pending.resume_on }));
    if (notes.length) parts.unshift(h("p", { class: "hint" }, notes.join(" · ")));
  }
  if (WITH_PHOTO.has(action)) {
    photoError = h("p", { id: nextId("photo-err"), class: "field-error", "aria-live": "polite" });
    photo = h("input", { id: nextId("photo"), type: "file", accept: IMAGE_TYPES.join(","), name: "photo", "aria-describedby": photoError.id });
    const input = photo;
    const shown = photoError;
    // As the report form: a file the server would refuse is named at once, and never sent.
    photo.addEventListener("change", () => checkPhoto(input, shown, maxBytes));
    parts.push(h("label", { for: photo.id }, t("photos")), photo, photoError);
  }
  const button = h("button", { type: "submit", "data-action": action }, word("", action));
  const form = h("form", { class: "action", "data-action": action, novalidate: true }, h(sub, {}, word("", action)), ...parts, error, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const note = reason.value.trim();
    if (needsReason && !note) {
      error.textContent = t("reason_required");
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    if (photo && photoError && !checkPhoto(photo, photoError, maxBytes)) {
      photo.focus();
      return;
    }
    if (action === "report_back" && !photo?.files?.length) {
      error.textContent = t("photo_required");
      photo?.setAttribute("aria-invalid", "true");
      photo?.focus();
      return;
    }
    button.disabled = true;
    error.textContent = "";
    if (deptError && dept) {
      deptError.textContent = "";
      dept.removeAttribute("aria-invalid");
    }
    try {
      const attachments: number[] = [];
      for (const f of Array.from(photo?.files ?? [])) {
        const body = new FormData();
        body.append("file", f);
        attachments.push((await call<{ id: number }>("POST", `/api/v1/cases/${c.id}/attachments`, body)).id);
      }
      const body: Record<string, unknown> = { expected_version: c.version, reason: note };
      if (attachments.length) body.attachments = attachments;
      if (dept?.value.trim()) body.department_code = dept.value.trim();
      if (passed) body.passed = passed.checked;
      if (amount) Object.assign(body, { amount: Number(amount.value), unit: "working_days" });
      if (resumeOn?.value) body.resume_on = resumeOn.value;
      await post(`/api/v1/cases/${c.id}/${action.replace("_", "-")}`, body);
      after(action, c.number);
    } catch (err) {
      button.disabled = false;
      // A unit the server does not know is said next to the unit's field, in the user's words.
      const atDept = err instanceof ApiError && dept && deptError ? err.problems.filter((p) => p.field.replace(/^body\./, "") === "department_code") : [];
      if (atDept.length && dept && deptError) {
        deptError.textContent = atDept.map((p) => problemText(p)).join(" ");
        dept.setAttribute("aria-invalid", "true");
        dept.focus();
      } else error.textContent = errorText(err);
    }
  });
  return form;
}
