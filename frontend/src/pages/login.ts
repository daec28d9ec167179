import { ApiError, signIn } from "../api";
import { h, nextId } from "../dom";
import { t } from "../i18n";
import { go, type Route } from "../main";

export function loginPage(main: HTMLElement, route: Route): void {
  const userId = nextId("username");
  const passId = nextId("password");
  const errId = nextId("login-error");
  const status = h("p", { id: errId, class: "error", role: "alert" });
  const expired = sessionStorage.getItem("onegrid.expired");
  sessionStorage.removeItem("onegrid.expired");
  const form = h(
    "form",
    { class: "narrow", novalidate: true, "aria-describedby": errId },
    h("label", { for: userId }, t("username")),
    h("input", { id: userId, name: "username", autocomplete: "username", required: true }),
    h("label", { for: passId }, t("password")),
    h("input", {
      id: passId,
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
    status,
    h("button", { type: "submit" }, t("sign_in")),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const username = String(data.get("username") ?? "").trim();
    const password = String(data.get("password") ?? "");
    if (!username || !password) {
      status.textContent = t("sign_in_failed");
      return;
    }
    try {
      await signIn(username, password);
      go(route.params.get("next") || "#/");
    } catch (err) {
      status.textContent = err instanceof ApiError && err.status === 401 ? t("sign_in_failed") : String(err);
    }
  });
  main.append(h("h1", {}, t("sign_in_title")));
  if (expired) main.append(h("p", { class: "notice", role: "status" }, t("session_expired")));
  main.append(form);
}
