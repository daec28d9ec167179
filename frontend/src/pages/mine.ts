import { currentUser, get, type CaseOut } from "../api";
import { h } from "../dom";
import { t } from "../i18n";
import { go } from "../main";
import { caseTable, loadCategoryNames } from "./parts";

export async function minePage(main: HTMLElement): Promise<void> {
  const user = await currentUser();
  if (!user) return go("#/login?next=%23%2Fmine");
  main.append(h("h1", {}, t("mine_title")));
  const [page] = await Promise.all([get<{ items: CaseOut[] }>("/api/v1/cases?limit=50"), loadCategoryNames()]);
  main.append(caseTable(page.items, t("mine_title")));
}
