// Pieces several pages share: the traffic light, a case's category, a table of cases, the check
// of photos before they are sent and the server's problems in the user's language.
import { ApiError, categories, type CaseOut, type Category, type FieldProblem } from "../api";
import { h } from "../dom";
import { currentLang, fmtBytes, fmtDate, t, word } from "../i18n";

let byCode = new Map<string, Category>();

/** Loads the taxonomy's names (once per page load) for ``categoryLabel``; pages await it
 * alongside their own data before they draw. */
export async function loadCategoryNames(): Promise<void> {
  const all = await categories();
  if (all.length) byCode = new Map(all.map((c) => [c.code, c]));
}

/** A category's name in the current language, as staff read it; the code stays in small
 * secondary text (and the tooltip) for those who work by code. An unknown code (a class the
 * taxonomy in use no longer has) shows as the code alone. */
export function categoryLabel(code: string): HTMLElement {
  const c = byCode.get(code);
  if (!c) return h("span", { class: "category", "data-code": code }, code);
  const name = currentLang() === "zh" ? c.name_zh : c.name_en || c.name_zh;
  const major = currentLang() === "zh" ? c.major_name_zh : c.major_name_en || c.major_name_zh;
  return h(
    "span",
    { class: "category", "data-code": code, title: major ? `${code} · ${major}` : code },
    name,
    " ",
    h("small", { class: "code" }, code),
  );
}

export function lightBadge(light: string | undefined | null): HTMLElement {
  if (!light) return h("span", { class: "light none" }, "—");
  return h("span", { class: `light ${light}` }, h("span", { class: "dot", "aria-hidden": "true" }), word("", light));
}

export function caseTable(items: CaseOut[], caption: string, select?: (c: CaseOut) => HTMLElement): HTMLElement {
  if (!items.length) return h("p", { class: "empty" }, t("none"));
  return h(
    "table",
    { class: "cases" },
    h("caption", {}, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        select ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("select"))) : null,
        [t("number"), t("category"), t("status"), t("light"), t("deadline"), t("district"), t("created")].map((x) =>
          h("th", { scope: "col" }, x),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      items.map((c) =>
        h(
          "tr",
          {},
          select ? h("td", {}, select(c)) : null,
          h("td", {}, h("a", { href: `#/case/${c.id}`, class: "case-link" }, c.number)),
          h("td", {}, categoryLabel(c.category_code)),
          h("td", {}, word("s_", c.status)),
          h("td", {}, lightBadge(c.clock?.light)),
          h("td", {}, fmtDate(c.clock?.deadline)),
          h("td", {}, c.location.district ?? ""),
          h("td", {}, fmtDate(c.created_at)),
        ),
      ),
    ),
  );
}

/** The image types the server keeps as photos. */
export const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/** Why the files chosen in ``input`` would be refused (larger than the server takes, or not an
 * image), in the user's language; "" when they may be sent. Checked before sending: a photo of
 * several megabytes on a phone's connection should not travel only to be refused. */
export function photoProblem(input: HTMLInputElement, maxBytes: number): string {
  for (const f of Array.from(input.files ?? [])) {
    if (f.size > maxBytes) return t("photo_too_large", { max: fmtBytes(maxBytes) });
    if (!IMAGE_TYPES.includes(f.type)) return t("photo_type");
  }
  return "";
}

// The rules the API names in its problems (pydantic's types and the domain's own), in Chinese;
// "{n}" takes the last number of the server's message (a length, a limit). English readers get
// the server's own message, which says more (the value it refused, the limit).
const RULES_ZH: Record<string, string> = {
  missing: "必填。",
  required: "必填。",
  "name-required": "必填。",
  not_blank: "不能只有空格。",
  string_too_short: "太短：至少 {n} 个字符。",
  min_length: "太短：至少 {n} 个字符。",
  string_too_long: "太长：最多 {n} 个字符。",
  max_length: "太长：最多 {n} 个字符。",
  "name-length": "太长：最多 {n} 个字符。",
  too_short: "太少：至少 {n} 项。",
  too_long: "太多：最多 {n} 项。",
  greater_than: "须大于 {n}。",
  greater_than_equal: "须不小于 {n}。",
  less_than: "须小于 {n}。",
  less_than_equal: "须不大于 {n}。",
  positive: "须为正整数。",
  range: "超出允许的范围。",
  float_parsing: "请填写数字。",
  float_type: "请填写数字。",
  int_parsing: "请填写整数。",
  int_type: "请填写整数。",
  bool_parsing: "请选择是或否。",
  date_parsing: "请填写日期（年-月-日）。",
  date_from_datetime_parsing: "请填写日期（年-月-日）。",
  enum: "不是可选的值。",
  literal_error: "不是可选的值。",
  string_pattern_mismatch: "格式不正确。",
  inside_city: "该位置不在本市范围内。",
  longitude: "经度须在 -180 到 180 之间。",
  latitude: "纬度须在 -90 到 90 之间。",
  point_pair: "经度和纬度须同时填写，或都不填。",
  known_address: "标准地址库中没有这个地址编码。",
  one_place: "经纬度和标准地址编码只填一种。",
  known_category: "没有这个类别。",
  "known-category": "当前分类体系中没有这个类别。",
  known_department: "没有这个部门。",
  "known-department": "没有这个部门。",
  exists: "不存在。",
  channel_role: "你的角色不能通过这个渠道上报。",
  phone_format: "电话只能包含数字、空格或“-”，可以“+”开头。",
  email_format: "不是有效的电子邮件地址。",
  username_format: "用户名为 3–64 个字母、数字或 . _ @ + - （不含空格）。",
  code_format: "代码为 1–32 个字母、数字或 _ . -，以字母或数字开头。",
  scope_format: "范围须为 city、区域代码、area:代码 或 dept:代码。",
  scope_kind_for_role: "这个角色不能用这种范围。",
  known_role: "没有这个角色。",
  known_department_kind: "没有这种部门类型。",
  not_for_keys: "API 密钥不能拥有这个角色。",
  no_cycle: "上级部门不能是它自己的下级。",
  "name-given": "请填写中文名、英文名或两者。",
  "area-exists": "这个区域在该日期不存在。",
  "category-prefix": "类别前缀格式不正确。",
  "department-code": "部门代码为 1 到 {n} 个字符。",
  "duty-kind": "类型须为权属或属地。",
  "territorial-level": "属地单位只能设在街道、区或市。",
  "after-start": "结束日期不能早于开始日期。",
  end_not_before_start: "结束日期不能早于开始日期。",
  known_area: "没有这个区域。",
  known_format: "不是可选的文件格式。",
  "user-exists": "没有这个用户。",
  "inspector-role": "该用户没有监督员角色。",
  "unit-grid-exists": "这个单元网格在该日期不存在。",
  photo_required: "上报处置结果须附至少一张照片。",
  allowed_transition: "案件当前的状态不允许这个操作。",
};

/** A server problem in the user's language: ``own`` words for the rule first (a page's rules of
 * its own), else the shared words for common rules in Chinese, else the server's message. */
export function problemText(p: FieldProblem, own?: string): string {
  if (own !== undefined) return own;
  const words = currentLang() === "zh" ? RULES_ZH[p.rule] : undefined;
  if (!words) return p.message;
  const n = p.message.match(/\d+/g)?.pop();
  if (words.includes("{n}") && n === undefined) return p.message; // no limit to show
  return words.replace("{n}", n ?? "");
}

/** A refusal or a miss in the user's language: the server's English detail (which names grants
 * and areas) is for the logs, not for a page in Chinese. Other errors keep their own text. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError && err.status === 403) return t("err_forbidden");
  if (err instanceof ApiError && err.status === 404) return t("err_not_found");
  if (err instanceof ApiError) return [err.detail || err.title, ...err.problems.map((p) => problemText(p))].filter(Boolean).join(" · ");
  return String(err);
}

/** Whether ``err`` says the case (or page) is not the user's to see: refused or not found. */
export function outOfReach(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 403 || err.status === 404);
}
