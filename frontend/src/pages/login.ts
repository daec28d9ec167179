import { ApiError, signIn } from "../api";
import { h, nextId } from "../dom";
import { fmtDate, t } from "../i18n";
import { errorText } from "./parts";
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
      status.textContent = signInRefused(err);
    }
  });
  main.append(h("h1", {}, t("sign_in_title")));
  if (expired) main.append(h("p", { class: "notice", role: "status" }, t("session_expired")));
  main.append(form);
}

/** Why signing in failed, in the user's language. A locked name is told so, and until when (the
 * server says it in UTC; shown in the city's time): "wrong password" would send them guessing. */
function signInRefused(err: unknown): string {
  if (!(err instanceof ApiError)) return String(err);
  if (err.kind === "sign-in-locked") {
    const until = err.detail.match(/(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}) UTC/);
    return until ? t("sign_in_locked", { at: fmtDate(`${until[1]}T${until[2]}Z`) }) : t("sign_in_locked_later");
  }
  return err.status === 401 ? t("sign_in_failed") : errorText(err);
}
