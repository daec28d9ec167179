import "./style.css";
import { currentUser, signOut, webConfig, whenSessionExpires } from "./api";
import { clear, h } from "./dom";
import { applyLang, currentLang, setLang, setZone, t, type Key } from "./i18n";
import { homePage } from "./pages/home";
import { loginPage } from "./pages/login";
import { minePage } from "./pages/mine";
import { casePage } from "./pages/case";
import { workbenchPage } from "./pages/workbench";
import { trackPage } from "./pages/track";
import { errorText } from "./pages/parts";
import { isAdmin, mayCommand, reports, worksCases } from "./roles";

export interface Route {
  path: string;
  params: URLSearchParams;
}

type Page = (main: HTMLElement, route: Route) => Promise<void> | void;

// The pages with a map (and the admin pages, which have one) come in their own chunks with
// MapLibre (most of the bundle's weight): the other pages start without parsing it, and a map
// page's chunk loads while its header does.
type Loader = () => Promise<Page>;
const ready = (page: Page): Loader => () => Promise.resolve(page);
const PAGES: [RegExp, Loader][] = [
  [/^\/$/, ready(homePage)],
  [/^\/login$/, ready(loginPage)],
  [/^\/report$/, () => import("./pages/report").then((m) => m.reportPage)],
  [/^\/map$/, () => import("./pages/publicmap").then((m) => m.publicMapPage)],
  [/^\/mine$/, ready(minePage)],
  [/^\/case\/\d+$/, ready(casePage)],
  [/^\/track(\/[^/]+)?$/, ready(trackPage)],
  [/^\/work$/, ready(workbenchPage)],
  [/^\/command$/, () => import("./pages/command").then((m) => m.commandPage)],
  [/^\/hotline$/, () => import("./pages/hotline").then((m) => m.hotlinePage)],
  [/^\/my-grids$/, () => import("./pages/grids").then((m) => m.gridsPage)],
  [/^\/admin$/, () => import("./pages/admin").then((m) => m.adminPage)],
];

/** Staff are likely to open a map page next: fetch its code while the browser is idle. */
function warmMapPages(): void {
  const warm = (): void => void import("./map").catch(() => undefined);
  if ("requestIdleCallback" in window) window.requestIdleCallback(warm, { timeout: 3000 });
  else setTimeout(warm, 1000);
}

function parse(): Route {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path: path || "/", params: new URLSearchParams(query) };
}

export function go(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

async function header(): Promise<void> {
  const top = document.getElementById("top")!;
  const user = await currentUser();
  const links: [string, Key][] = [
    ["#/", "nav_home"],
    ["#/report", "nav_report"],
    ["#/map", "nav_map"],
  ];
  // "My requests" lists what the user reported: the cases API has no "reported by me" filter
  // for staff (theirs would be the city's cases), so only citizens see it.
  if (reports(user)) links.push(["#/mine", "nav_mine"]);
  if (worksCases(user)) links.push(["#/work", "nav_work"]);
  if (user && user.actions.includes("hotline.intake")) links.push(["#/hotline", "nav_hotline"]);
  if (user && user.grants.some((g) => g.role === "inspector")) links.push(["#/my-grids", "nav_my_grids"]);
  if (mayCommand(user)) links.push(["#/command", "nav_command"]);
  if (isAdmin(user)) links.push(["#/admin", "nav_admin"]);
  const here = "#" + parse().path;
  const nav = h(
    "nav",
    { "aria-label": t("app") },
    h(
      "ul",
      {},
      links.map(([href, key]) =>
        h("li", {}, h("a", { href, "aria-current": href === here ? "page" : undefined }, t(key))),
      ),
    ),
  );
  const langBtn = h(
    "button",
    {
      type: "button",
      class: "link",
      id: "lang-switch",
      title: t("language_label"),
      lang: currentLang() === "zh" ? "en" : "zh-CN",
      onclick: () => {
        setLang(currentLang() === "zh" ? "en" : "zh");
        void render();
      },
    },
    t("language"),
  );
  const who = user
    ? h(
        "span",
        { class: "who" },
        `${t("signed_in_as")}: `,
        h("strong", { id: "who" }, user.display_name ?? user.name),
        " ",
        h(
          "button",
          {
            type: "button",
            class: "link",
            onclick: async () => {
              await signOut();
              go("#/");
            },
          },
          t("sign_out"),
        ),
      )
    : h("a", { href: `#/login?next=${encodeURIComponent(here)}` }, t("sign_in"));
  clear(top);
  top.append(
    h("div", { class: "brand" }, h("a", { href: "#/" }, "OneGrid", currentLang() === "zh" ? h("span", {}, ` ${t("app")}`) : null)),
    nav,
    h("div", { class: "tools" }, who, langBtn),
  );
}

let rendering = 0;

async function render(): Promise<void> {
  const ticket = ++rendering;
  applyLang();
  document.getElementById("skip-link")!.textContent = t("skip");
  const route = parse();
  const main = document.getElementById("main")!;
  document.body.dataset.page = route.path.split("/")[1] || "home";
  const loading = (PAGES.find(([re]) => re.test(route.path))?.[1] ?? ready(homePage))();
  await header();
  if (ticket !== rendering) return;
  try {
    const page = await loading;
    if (ticket !== rendering) return;
    clear(main);
    await page(main, route);
  } catch (err) {
    // A page left while it was still loading keeps its failure to itself: the page shown now
    // is another's.
    if (ticket !== rendering) return;
    clear(main);
    main.append(h("p", { class: "error", role: "alert", id: "page-error" }, `${t("error")}: ${errorText(err)}`));
  }
}

whenSessionExpires(() => {
  const route = parse();
  if (route.path === "/login") return;
  sessionStorage.setItem("onegrid.expired", "1");
  go(`#/login?next=${encodeURIComponent("#" + route.path + (route.params.size ? "?" + route.params : ""))}`);
});

// The hash is the route: the skip link's own "#main" would load the home page, so it moves
// focus to the page's main region and leaves the address (and the page) as they are.
document.getElementById("skip-link")!.addEventListener("click", (ev) => {
  ev.preventDefault();
  document.getElementById("main")!.focus();
});
window.addEventListener("hashchange", () => void render());
void webConfig()
  .then((c) => setZone(c.timezone))
  .catch(() => undefined)
  .finally(() => {
    void render().then(warmMapPages);
  });
