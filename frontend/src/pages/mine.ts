import { currentUser, get, type CaseOut } from "../api";
import { h } from "../dom";
import { t } from "../i18n";
import { go } from "../main";
import { reports, worksCases } from "../roles";
import { caseTable, loadCategoryNames } from "./parts";

export async function minePage(main: HTMLElement): Promise<void> {
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fmine");
  if (!reports(user)) return go(worksCases(user) ? "#/work" : "#/");
  main.append(h("h1", { id: "mine-h" }, t("mine_title")));
  // Only the cases this user reported: staff may read many more, which are their work, not
  // their requests.
  const [page] = await Promise.all([get<{ items: CaseOut[] }>("/api/v1/cases?mine=true&limit=50"), loadCategoryNames()]);
  const table = caseTable(page.items, t("mine_title"));
  // The heading names the table: a caption would say "My requests" a second time.
  table.querySelector("caption")?.remove();
  if (table.tagName === "TABLE") table.setAttribute("aria-labelledby", "mine-h");
  main.append(table);
}
