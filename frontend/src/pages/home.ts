import { h } from "../dom";
import { t } from "../i18n";

export function homePage(main: HTMLElement): void {
  main.append(
    h("h1", {}, t("home_title")),
    h("p", { class: "lead" }, t("home_intro")),
    h(
      "ul",
      { class: "cards" },
      h("li", {}, h("a", { href: "#/report" }, t("home_citizen"))),
      h("li", {}, h("a", { href: "#/work" }, t("home_staff"))),
      h("li", {}, h("a", { href: "#/command" }, t("home_command"))),
    ),
  );
}
