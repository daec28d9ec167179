import { currentUser, get, type CaseOut } from "../api";
import { h } from "../dom";
import { t, type Key } from "../i18n";
import { go } from "../main";
import { caseTable } from "./parts";

interface Queue {
  key: Key;
  permission: string;
  query: string;
  keep?: (c: CaseOut) => boolean;
}

// Each role sees the queues its permissions act on; "overdue" is everyone's.
const QUEUES: Queue[] = [
  { key: "q_to_verify", permission: "case.verify", query: "status=to_verify" },
  { key: "q_to_file", permission: "case.file", query: "status=to_file" },
  { key: "q_to_dispatch", permission: "case.dispatch", query: "status=to_dispatch", keep: (c) => c.returns === 0 },
  { key: "q_returned", permission: "case.dispatch", query: "status=to_dispatch", keep: (c) => c.returns > 0 },
  { key: "q_dispatched", permission: "case.accept", query: "status=dispatched" },
  { key: "q_handling", permission: "case.report_back", query: "status=handling" },
  { key: "q_extension", permission: "case.extend.approve", query: "status=handling", keep: (c) => !!c.extension_pending },
  { key: "q_to_check", permission: "case.check", query: "status=to_check" },
  { key: "q_to_close", permission: "case.close", query: "status=to_close" },
  { key: "q_overdue", permission: "case.read", query: "overdue=true" },
];

export async function workbenchPage(main: HTMLElement): Promise<void> {
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fwork");
  const mine = QUEUES.filter((q) => user.actions.includes(q.permission));
  main.append(
    h("h1", {}, t("work_title")),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => go("#/work") }, t("refresh"))),
  );
  const pages = await Promise.all(
    mine.map((q) => get<{ items: CaseOut[] }>(`/api/v1/cases?${q.query}&limit=100&sort=created_at`)),
  );
  const nav = h("nav", { "aria-label": t("queue"), class: "queues" }, h("ul", {}));
  main.append(nav);
  mine.forEach((q, i) => {
    const items = pages[i].items.filter(q.keep ?? (() => true));
    const id = `queue-${q.key}`;
    nav.querySelector("ul")!.append(h("li", {}, h("a", { href: `#/work`, onclick: (e: Event) => { e.preventDefault(); document.getElementById(id)?.focus(); } }, `${t(q.key)} (${items.length})`)));
    main.append(
      h("section", { id, tabindex: -1, class: "queue", "aria-labelledby": `${id}-h`, "data-queue": q.key.slice(2) },
        h("h2", { id: `${id}-h` }, `${t(q.key)} `, h("span", { class: "count" }, `(${items.length})`)),
        caseTable(items, t(q.key))),
    );
  });
}
