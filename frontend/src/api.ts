// The API as the pages see it: JSON in and out, problem+json turned into ApiError, and a
// session that ends sends the user to sign in (drafts are kept by the pages that have them).

export interface FieldProblem {
  field: string;
  rule: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly problems: FieldProblem[],
    // The problem's kind, the last part of its ``type`` URI (``sign-in-locked``): what a page
    // tells apart without reading the English detail.
    readonly kind: string = "",
  ) {
    super(detail || title || `HTTP ${status}`);
  }
}

export interface Me {
  kind: string;
  id: number;
  name: string;
  display_name: string | null;
  grants: { role: string; scope: string }[];
  department_codes: string[];
  actions: string[];
}

export interface CaseOut {
  id: number;
  number: string;
  category_code: string;
  description: string;
  address: string;
  status: string;
  version: number;
  department_code: string | null;
  suggested_department_code: string | null;
  location: { lon: number; lat: number; district: string | null; unit_grid: string | null };
  reporter: { name: string | null; phone: string | null; masked: boolean };
  clock: { deadline: string; light: string; left_seconds: number; step: string } | null;
  overdue_steps: number;
  returns: number;
  extension_pending: string | null;
  hold_pending: { requested_at: string; resume_on: string | null } | null;
  hold_resume_on: string | null;
  created_at: string;
  closed_at: string | null;
  allowed_actions: string[];
}

export interface HistoryOut {
  id: number;
  at: string;
  actor_name: string;
  role: string | null;
  action: string;
  from_status: string | null;
  to_status: string;
  reason: string;
  attachment_ids: number[];
}

export interface Category {
  code: string;
  kind: string;
  name_zh: string;
  name_en: string;
  major_name_zh: string;
  major_name_en: string;
  keywords: { zh: string[]; en: string[] };
  active?: boolean; // false: a deactivated class, kept for the cases filed under it
}

export interface WebConfig {
  basemap_url: string;
  basemap_attribution: string;
  max_upload_bytes: number;
  timezone: string;
  city_code: string;
}

type Expired = () => void;
let onExpired: Expired = () => undefined;

export function whenSessionExpires(fn: Expired): void {
  onExpired = fn;
}

async function problem(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    /* not JSON: keep the status line */
  }
  const errors = Array.isArray(body.errors) ? (body.errors as FieldProblem[]) : [];
  return new ApiError(
    res.status,
    String(body.title ?? res.statusText),
    String(body.detail ?? ""),
    errors,
    String(body.type ?? "").split("/").pop() ?? "",
  );
}

export async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { quiet401?: boolean; headers?: Record<string, string> } = {},
): Promise<T> {
  return (await callFull<T>(method, path, body, opts)).body;
}

/** As ``call``, with the reply's headers (some replies say more there than in the body). */
export async function callFull<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { quiet401?: boolean; headers?: Record<string, string> } = {},
): Promise<{ body: T; headers: Headers }> {
  const init: RequestInit = { method, credentials: "same-origin", headers: { ...opts.headers } };
  if (body instanceof FormData || body instanceof URLSearchParams) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  if (res.status === 401 && !opts.quiet401) {
    clearMe();
    onExpired();
  }
  if (!res.ok) throw await problem(res);
  if (res.status === 204) return { body: undefined as T, headers: res.headers };
  return { body: (await res.json()) as T, headers: res.headers };
}

/** The file a GET replies with, and the name the server gives it (``Content-Disposition``).
 * Sent with the session cookie, as every call is; refusals come back as ``ApiError``. */
export async function download(path: string): Promise<{ blob: Blob; filename: string }> {
  const res = await fetch(path, { credentials: "same-origin" });
  if (res.status === 401) {
    clearMe();
    onExpired();
  }
  if (!res.ok) throw await problem(res);
  return { blob: await res.blob(), filename: attachmentName(res.headers.get("Content-Disposition")) };
}

/** The name in ``filename*=utf-8''…`` (RFC 6266: a name beyond ASCII), else in ``filename=``. */
export function attachmentName(header: string | null): string {
  const star = header?.match(/filename\*\s*=\s*[^']*'[^']*'([^;]+)/i);
  if (star) return decodeURIComponent(star[1].trim());
  const plain = header?.match(/filename\s*=\s*"?([^";]+)"?/i);
  return plain ? plain[1].trim() : "download";
}

export const get = <T>(path: string, opts?: { quiet401?: boolean }): Promise<T> =>
  call<T>("GET", path, undefined, opts);
export const post = <T>(path: string, body?: unknown): Promise<T> => call<T>("POST", path, body);

let me: Promise<Me | null> | null = null;

export function currentUser(): Promise<Me | null> {
  // The session endpoint answers an anonymous visitor with 200 and null: a citizen reporting
  // without an account is not an error in the browser's console.
  me ??= get<{ me: Me | null }>("/api/v1/auth/session", { quiet401: true }).then((s) => s.me, () => null);
  return me;
}

export function clearMe(): void {
  me = null;
}

export async function signIn(username: string, password: string): Promise<void> {
  const form = new URLSearchParams({ username, password });
  await call("POST", "/api/v1/web/session", form, { quiet401: true });
  clearMe();
}

export async function signOut(): Promise<void> {
  try {
    await call("POST", "/api/v1/auth/logout", undefined, { quiet401: true });
  } finally {
    clearMe();
  }
}

let config: Promise<WebConfig> | null = null;

export function webConfig(): Promise<WebConfig> {
  config ??= get<WebConfig>("/api/v1/web/config");
  return config;
}

export function may(user: Me | null, action: string): boolean {
  return !!user && user.actions.includes(action);
}

let categoryList: Promise<Category[]> | null = null;

/** Every class of the taxonomy in use, fetched once per page load: staff read a case's
 * category by its name, and the list is small and changes only when the taxonomy does. The
 * deactivated classes come too: cases filed under them keep their names. */
export function categories(): Promise<Category[]> {
  categoryList ??= get<Category[]>("/api/v1/categories?include_inactive=true").catch(() => {
    categoryList = null; // not cached: the next page asks again
    return [] as Category[];
  });
  return categoryList;
}
