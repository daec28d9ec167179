// The city's configuration for city and district admins: users and their roles (within the
// admin's own scope: the API decides), departments, categories, time limits, the working
// calendar and API keys. Every write goes through the same v1 endpoint the CLI's peers use.
import { ApiError, call, currentUser, get, post } from "../api";
import { clear, h, nextId } from "../dom";
import { fmtDate, fmtNumber, t, type Key } from "../i18n";
import { go, type Route } from "../main";
import { isAdmin } from "../roles";
import { calendarTab, timeLimitsTab } from "./admin_rules";
import { categoriesTab } from "./admin_taxonomy";
import { gridTab } from "./admin_grid";
import { choices, clearProblems, field, generalErrors, required, showProblems, type Field } from "./admin_forms";
import { routingTab } from "./admin_routing";

interface Grant {
  role: string;
  scope: string;
}

interface UserOut {
  id: number;
  username: string;
  display_name: string | null;
  active: boolean;
  grants: Grant[];
  department_codes: string[];
  last_sign_in_at: string | null;
}

interface Department {
  code: string;
  name_zh: string;
  name_en: string;
  kind: string;
  area_code: string | null;
  phone: string | null;
  active: boolean;
}

interface ApiKeyOut {
  prefix: string;
  name: string;
  role: string;
  scope: string;
  owner: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const TABS: [string, Key, string][] = [
  ["users", "adm_users", "people.admin"],
  ["departments", "adm_departments", "people.admin"],
  ["categories", "adm_categories", "assets.read"],
  ["time-limits", "adm_time_limits", "config.admin"],
  ["calendar", "adm_calendar", "config.admin"],
  ["api-keys", "adm_api_keys", "people.admin"],
  ["grid", "adm_grid", "grid.admin"],
  ["routing", "adm_routing", "grid.admin"],
];

const HUMAN_ROLES = ["citizen", "inspector", "registrar", "shift_leader", "dispatcher", "department_handler", "hotline_operator", "analyst", "district_admin", "city_admin"];
const SYSTEM_ROLES = ["open311_client", "sensor_gateway"];
const DEPT_KINDS = ["bureau", "subdistrict_office", "district_government", "city_government", "utility", "operator", "other"];

export async function adminPage(main: HTMLElement, route: Route): Promise<void> {
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fadmin");
  if (!isAdmin(user)) {
    main.append(h("h1", {}, t("admin_title")), h("p", { class: "error", role: "alert" }, t("not_allowed")));
    return;
  }
  const tabs = TABS.filter(([, , perm]) => user.actions.includes(perm));
  const tab = tabs.find(([id]) => id === route.params.get("tab"))?.[0] ?? tabs[0][0];
  main.append(
    h("h1", {}, t("admin_title")),
    h("nav", { "aria-label": t("admin_title"), class: "queues tabs" },
      h("ul", {}, tabs.map(([id, key]) =>
        h("li", {}, h("a", { href: `#/admin?tab=${id}`, "aria-current": id === tab ? "page" : undefined }, t(key)))))),
  );
  const body = h("div", { id: `admin-${tab}` });
  main.append(body);
  const draw: Record<string, (box: HTMLElement) => Promise<void>> = {
    users: usersTab,
    departments: departmentsTab,
    categories: categoriesTab,
    "time-limits": timeLimitsTab,
    calendar: calendarTab,
    "api-keys": apiKeysTab,
    grid: gridTab,
    routing: routingTab,
  };
  await draw[tab](body);
}

/** Options whose label is their value (role and kind codes). */
function options(values: string[], selected?: string): HTMLOptionElement[] {
  return choices(values.map((v) => [v, v]), selected);
}

const patch = <T>(path: string, body: unknown): Promise<T> => call<T>("PATCH", path, body);

// --- users and roles ----------------------------------------------------------------------------

async function usersTab(box: HTMLElement): Promise<void> {
  const search = h("input", { type: "search", id: "user-search", name: "search", maxlength: 64 });
  const list = h("div", { id: "user-list" });
  const load = async (): Promise<void> => {
    const q = search.value.trim();
    const page = await get<{ items: UserOut[]; total: number }>(`/api/v1/users?limit=200${q ? `&search=${encodeURIComponent(q)}` : ""}`);
    clear(list);
    list.append(
      h("p", {}, t("adm_users_total", { n: fmtNumber(page.total) })),
      h("table", { class: "cases" },
        h("caption", { class: "visually-hidden" }, t("adm_users")),
        h("thead", {}, h("tr", {}, [t("username"), t("display_name"), t("roles"), t("departments"), t("active"), t("last_sign_in"), t("actions")].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, page.items.map((u) => h("tr", { "data-user": u.username },
          h("td", {}, u.username),
          h("td", {}, u.display_name ?? ""),
          h("td", {}, u.grants.map((g) => `${g.role} @ ${g.scope}`).join("; ")),
          h("td", {}, u.department_codes.join(", ")),
          h("td", {}, u.active ? t("yes") : t("no")),
          h("td", {}, fmtDate(u.last_sign_in_at)),
          h("td", {}, h("button", { type: "button", class: "link", "data-edit": u.username, "aria-label": `${t("edit")} ${u.username}`, onclick: () => editUser(u) }, t("edit"))))))),
    );
  };
  const editor = h("div", { id: "user-editor" });
  const editUser = (u: UserOut): void => {
    clear(editor);
    editor.append(userForm(u, async () => { clear(editor); await load(); }));
    editor.querySelector("input")?.focus();
  };
  search.addEventListener("input", () => void load());
  box.append(
    h("div", { class: "field" }, h("label", { for: search.id }, t("search_users")), search),
    list, editor,
    h("details", { id: "new-user" }, h("summary", {}, t("adm_new_user")), userForm(null, load)),
  );
  await load();
}

function grantsText(grants: Grant[]): string {
  return grants.map((g) => `${g.role} ${g.scope}`).join("\n");
}

function parseGrants(text: string): Grant[] {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
    const [role, scope = "city"] = l.split(/\s+/);
    return { role, scope };
  });
}

function userForm(user: UserOut | null, done: () => Promise<void>): HTMLFormElement {
  const fields: Field[] = [];
  const add = (f: Field): Field => (fields.push(f), f);
  const username = add(field("username", t("username"), h("input", { required: true, maxlength: 64, value: user?.username ?? "", disabled: !!user })));
  const password = user ? null : add(field("password", t("password"), h("input", { type: "password", required: true, minlength: 10, maxlength: 1024, autocomplete: "new-password" }), t("password_hint")));
  const display = add(field("display_name", t("display_name"), h("input", { maxlength: 200, value: user?.display_name ?? "" })));
  const grants = add(field("grants", t("roles"), h("textarea", { rows: 3, required: true }, user ? grantsText(user.grants) : ""), t("grants_hint", { roles: HUMAN_ROLES.join(", ") })));
  const depts = add(field("department_codes", t("departments"), h("input", { value: user?.department_codes.join(", ") ?? "" }), t("departments_hint")));
  const active = h("input", { type: "checkbox", id: nextId("active"), name: "active", checked: user?.active ?? true });
  const general = generalErrors(nextId("adm-errors"));
  const done_ = h("p", { role: "status", class: "done" });
  const form = h("form", { class: "action", novalidate: true, "data-form": user ? "edit-user" : "new-user" },
    h("h2", {}, user ? `${t("edit")} ${user.username}` : t("adm_new_user")),
    ...fields.map((f) => f.row),
    user ? h("div", { class: "check" }, active, h("label", { for: active.id }, t("active"))) : null,
    general, done_,
    h("button", { type: "submit" }, user ? t("save") : t("create_user")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    done_.textContent = "";
    clearProblems(fields, general);
    if (!required(fields)) return;
    const codes = depts.el.value.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
    try {
      if (user) {
        await patch(`/api/v1/users/${user.id}`, {
          display_name: display.el.value.trim() || null,
          active: active.checked,
          grants: parseGrants(grants.el.value),
          department_codes: codes,
        });
      } else {
        await post("/api/v1/users", {
          username: username.el.value.trim(),
          password: password!.el.value,
          display_name: display.el.value.trim() || null,
          grants: parseGrants(grants.el.value),
          department_codes: codes,
        });
        form.reset();
      }
      done_.textContent = t("saved");
      await done();
    } catch (err) {
      showProblems(err, fields, general);
    }
  });
  return form;
}

// --- departments ----------------------------------------------------------------------------------

async function departmentsTab(box: HTMLElement): Promise<void> {
  const list = h("div", { id: "department-list" });
  const load = async (): Promise<void> => {
    const rows = await get<Department[]>("/api/v1/departments");
    clear(list);
    list.append(h("table", { class: "cases" },
      h("caption", { class: "visually-hidden" }, t("adm_departments")),
      h("thead", {}, h("tr", {}, [t("code"), t("name_zh"), t("name_en"), t("kind"), t("area"), t("active"), t("actions")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((d) => h("tr", { "data-department": d.code },
        h("td", {}, d.code), h("td", {}, d.name_zh), h("td", {}, d.name_en), h("td", {}, d.kind),
        h("td", {}, d.area_code ?? ""), h("td", {}, d.active ? t("yes") : t("no")),
        h("td", {}, h("button", {
          type: "button", class: "link", "data-toggle": d.code,
          "aria-label": `${d.active ? t("deactivate") : t("activate")} ${d.code}`,
          onclick: async () => { await patch(`/api/v1/departments/${encodeURIComponent(d.code)}`, { active: !d.active }); await load(); },
        }, d.active ? t("deactivate") : t("activate"))))))));
  };
  const fields: Field[] = [
    field("code", t("code"), h("input", { required: true, maxlength: 32 })),
    field("name_zh", t("name_zh"), h("input", { required: true, maxlength: 200 })),
    field("name_en", t("name_en"), h("input", { maxlength: 200 })),
    field("kind", t("kind"), h("select", {}, options(DEPT_KINDS, "bureau"))),
    field("area_code", t("area"), h("input", { maxlength: 32 })),
    field("phone", t("phone"), h("input", { maxlength: 32, type: "tel" })),
  ];
  const general = generalErrors(nextId("adm-errors"));
  const form = h("form", { class: "action", novalidate: true, "data-form": "new-department" },
    h("h2", {}, t("adm_new_department")), ...fields.map((f) => f.row), general, h("button", { type: "submit" }, t("create_btn")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearProblems(fields, general);
    if (!required(fields)) return;
    const body: Record<string, string> = {};
    for (const f of fields) if (f.el.value.trim()) body[f.name] = f.el.value.trim();
    try {
      await post("/api/v1/departments", body);
      form.reset();
      await load();
    } catch (err) {
      showProblems(err, fields, general);
    }
  });
  box.append(list, form);
  await load();
}

// The categories (the taxonomy's classes) are edited in ./admin_taxonomy.ts.

// The time limits and the working calendar are edited in ./admin_rules.ts.

// --- API keys ------------------------------------------------------------------------------------

async function apiKeysTab(box: HTMLElement): Promise<void> {
  const list = h("div", { id: "key-list" });
  let missing = false;
  const load = async (): Promise<void> => {
    const keys = await get<ApiKeyOut[]>("/api/v1/api-keys?include_revoked=true").catch((err: unknown) => {
      // A server without the API-key endpoints says 404 or 405: say so rather than fail.
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
        missing = true;
        return [] as ApiKeyOut[];
      }
      throw err;
    });
    clear(list);
    list.append(keys.length
      ? h("table", { class: "cases" },
          h("caption", { class: "visually-hidden" }, t("adm_api_keys")),
          h("thead", {}, h("tr", {}, [t("prefix"), t("name"), t("roles"), t("owner"), t("key_created"), t("last_used"), t("revoked"), t("actions")].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, keys.map((k) => h("tr", { "data-key": k.prefix },
            h("td", {}, h("code", {}, k.prefix)), h("td", {}, k.name), h("td", {}, `${k.role} @ ${k.scope}`), h("td", {}, k.owner),
            h("td", {}, fmtDate(k.created_at)), h("td", {}, fmtDate(k.last_used_at)), h("td", {}, fmtDate(k.revoked_at)),
            h("td", {}, k.revoked_at ? "" : h("button", {
              type: "button", class: "link", "data-revoke": k.prefix, "aria-label": `${t("revoke")} ${k.prefix}`,
              onclick: async () => { await call("DELETE", `/api/v1/api-keys/${encodeURIComponent(k.prefix)}`); await load(); },
            }, t("revoke")))))))
      : h("p", {}, t("none")));
  };
  const fields: Field[] = [
    field("name", t("name"), h("input", { required: true, maxlength: 100 })),
    field("role", t("role"), h("select", {}, options(SYSTEM_ROLES, "open311_client"))),
    field("scope", t("scope"), h("input", { required: true, maxlength: 48, value: "city" }), t("scope_hint")),
  ];
  const general = generalErrors(nextId("adm-errors"));
  const created = h("div", { id: "key-created", "aria-live": "polite" });
  const form = h("form", { class: "action", novalidate: true, "data-form": "new-key" },
    h("h2", {}, t("adm_new_key")), ...fields.map((f) => f.row), general, created, h("button", { type: "submit" }, t("create_btn")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(created);
    clearProblems(fields, general);
    if (!required(fields)) return;
    try {
      const k = await post<ApiKeyOut & { key: string }>("/api/v1/api-keys", Object.fromEntries(fields.map((f) => [f.name, f.el.value.trim()])));
      created.append(h("p", { class: "notice" }, t("key_once"), " ", h("code", { id: "new-key" }, k.key)));
      await load();
    } catch (err) {
      showProblems(err, fields, general);
    }
  });
  await load();
  box.append(list);
  if (missing) list.replaceChildren(h("p", { class: "notice" }, t("keys_unavailable")));
  else box.append(form);
}
