// Chinese and English: the choice is kept in localStorage and set on <html lang>.
export type Lang = "zh" | "en";

const KEY = "onegrid.lang";

const zh = {
  app: "一网统管",
  skip: "跳到正文",
  nav_home: "首页",
  nav_report: "我要上报",
  nav_mine: "我的诉求",
  nav_work: "工作台",
  nav_command: "指挥中心",
  sign_in: "登录",
  sign_out: "退出",
  signed_in_as: "当前用户",
  language: "English",
  language_label: "切换到英文",
  username: "用户名",
  password: "密码",
  sign_in_title: "登录一网统管",
  sign_in_failed: "用户名或密码错误",
  session_expired: "登录已过期，请重新登录；您填写的内容已保存。",
  home_title: "城市运行一网统管",
  home_intro: "市民上报城市问题，工作人员立案、派遣、处置、核查、结案，指挥中心一图统览。",
  home_citizen: "市民：上报问题、跟踪进度",
  home_staff: "工作人员：按角色处理待办",
  home_command: "领导：城市运行态势图",
  report_title: "上报城市问题",
  category: "问题类别",
  category_search: "搜索类别（名称、关键词或编码）",
  category_suggested: "根据描述推荐",
  category_required: "请选择问题类别",
  description: "问题描述",
  description_required: "请描述问题（至少 5 个字）",
  location: "位置",
  location_hint: "在地图上点击放置标记，或填写经纬度，或使用当前位置。",
  location_required: "请在地图上标出位置",
  lon: "经度",
  lat: "纬度",
  use_my_location: "使用当前位置",
  address: "地址（可选）",
  photos: "照片",
  photo_too_large: "照片过大：每张不超过 {max}",
  photo_type: "只能上传 JPEG、PNG、WebP 或 GIF 图片",
  submit_report: "提交",
  submitting: "正在提交…",
  report_done: "已受理，您的诉求编号：",
  follow_case: "查看进度",
  map_label: "城市地图",
  mine_title: "我的诉求",
  none: "暂无",
  number: "编号",
  status: "状态",
  light: "时限",
  created: "上报时间",
  deadline: "期限",
  district: "区",
  case_title: "诉求",
  history: "处理过程",
  attachments: "附件",
  reporter: "上报人",
  actions: "操作",
  reason: "说明",
  reason_required: "请填写说明",
  department: "承办部门",
  passed: "已解决（现场核查通过）",
  not_passed: "未解决",
  photo_required: "请附照片",
  do: "执行",
  done: "已完成",
  work_title: "工作台",
  queue: "队列",
  q_to_verify: "待核实",
  q_to_file: "待立案",
  q_to_dispatch: "待派遣",
  q_returned: "被回退",
  q_dispatched: "待签收",
  q_handling: "处置中",
  q_to_check: "待核查",
  q_to_close: "待结案",
  q_extension: "延期申请",
  q_overdue: "已超时",
  open_case: "打开",
  refresh: "刷新",
  command_title: "指挥中心",
  layers: "图层",
  l_district: "区",
  l_subdistrict: "街道",
  l_community: "社区",
  l_cells: "未结案件（H3 网格聚合）",
  l_grids: "单元网格（放大后显示）",
  live_feed: "实时动态",
  districts_table: "各区案件",
  open: "未结",
  red: "红灯",
  yellow: "黄灯",
  closed: "已结案",
  total: "合计",
  error: "出错了",
  loading: "加载中…",
  not_allowed: "您没有权限查看此页面",
  resolved_q: "问题解决了吗？",
  rated_thanks: "回访已记录",
  evaluation_unavailable: "评价功能尚未开放",
  verify: "核实", file: "立案", cancel: "作废", dispatch: "派遣", accept: "签收",
  return: "回退", handle: "处置记录", report_back: "处置反馈", check: "核查",
  close: "结案", rework: "返工", extend_request: "申请延期", extend_approve: "批准延期",
  extend_refuse: "驳回延期", hold: "挂账", resume: "恢复", reopen: "重新办理",
  merge: "合并", split: "拆分", create: "上报",
  s_to_verify: "待核实", s_to_file: "待立案", s_to_dispatch: "待派遣", s_dispatched: "已派遣",
  s_handling: "处置中", s_on_hold: "挂账", s_to_check: "待核查", s_to_close: "待结案",
  s_closed: "已结案", s_cancelled: "已作废", s_merged: "已合并", s_split: "已拆分",
  green: "绿灯",
  routing: "派遣依据",
  callback: "回访",
  resolved: "问题已解决",
  satisfaction: "满意度",
  satisfied: "满意",
  basically_satisfied: "基本满意",
  dissatisfied: "不满意",
  rates_table: "三率排名",
  nav_hotline: "12345 受理",
  hotline_title: "12345 来电受理",
  desk: "受理辅助",
  preview: "预览",
  record_call: "登记",
  call_text: "来电内容",
  caller_name: "来电人",
  caller_phone: "来电号码",
  nature: "诉求性质",
  answers: "知识库答复",
  duplicates: "附近相似的未结案件",
  outcome: "结果",
  n_complaint: "投诉", n_report: "反映", n_help: "求助", n_consultation: "咨询",
  n_suggestion: "建议", n_thanks: "表扬",
};

type Dict = typeof zh;

const en: Dict = {
  app: "OneGrid",
  skip: "Skip to content",
  nav_home: "Home",
  nav_report: "Report a problem",
  nav_mine: "My requests",
  nav_work: "Workbench",
  nav_command: "Command centre",
  sign_in: "Sign in",
  sign_out: "Sign out",
  signed_in_as: "Signed in as",
  language: "中文",
  language_label: "Switch to Chinese",
  username: "Username",
  password: "Password",
  sign_in_title: "Sign in to OneGrid",
  sign_in_failed: "Wrong username or password",
  session_expired: "Your session ended. Sign in again; your draft was kept.",
  home_title: "One network for the city",
  home_intro:
    "Citizens report problems; staff file, dispatch, handle, check and close them; the command centre sees the whole city.",
  home_citizen: "Citizens: report a problem, follow it",
  home_staff: "Staff: your queues by role",
  home_command: "Leaders: the city at a glance",
  report_title: "Report a problem",
  category: "Category",
  category_search: "Search categories (name, keyword or code)",
  category_suggested: "Suggested from your description",
  category_required: "Choose a category",
  description: "Description",
  description_required: "Describe the problem (at least 5 characters)",
  location: "Location",
  location_hint: "Click the map to drop a pin, type the coordinates, or use your location.",
  location_required: "Put a pin on the map",
  lon: "Longitude",
  lat: "Latitude",
  use_my_location: "Use my location",
  address: "Address (optional)",
  photos: "Photos",
  photo_too_large: "Photo too large: at most {max} each",
  photo_type: "Only JPEG, PNG, WebP or GIF images",
  submit_report: "Submit",
  submitting: "Submitting…",
  report_done: "Received. Your case number:",
  follow_case: "Follow it",
  map_label: "City map",
  mine_title: "My requests",
  none: "None",
  number: "Number",
  status: "Status",
  light: "Time limit",
  created: "Reported",
  deadline: "Deadline",
  district: "District",
  case_title: "Case",
  history: "History",
  attachments: "Attachments",
  reporter: "Reporter",
  actions: "Actions",
  reason: "Note",
  reason_required: "A note is required",
  department: "Department",
  passed: "Solved (passed on-site check)",
  not_passed: "Not solved",
  photo_required: "Attach a photo",
  do: "Do it",
  done: "Done",
  work_title: "Workbench",
  queue: "Queue",
  q_to_verify: "To verify",
  q_to_file: "To file",
  q_to_dispatch: "To dispatch",
  q_returned: "Returned",
  q_dispatched: "To accept",
  q_handling: "Handling",
  q_to_check: "To check",
  q_to_close: "To close",
  q_extension: "Extension requests",
  q_overdue: "Overdue",
  open_case: "Open",
  refresh: "Refresh",
  command_title: "Command centre",
  layers: "Layers",
  l_district: "Districts",
  l_subdistrict: "Subdistricts",
  l_community: "Communities",
  l_cells: "Open cases (H3 cells)",
  l_grids: "Unit grids (when zoomed in)",
  live_feed: "Live feed",
  districts_table: "Cases by district",
  open: "Open",
  red: "Red",
  yellow: "Yellow",
  closed: "Closed",
  total: "Total",
  error: "Something went wrong",
  loading: "Loading…",
  not_allowed: "You may not see this page",
  resolved_q: "Was it solved?",
  rated_thanks: "The callback is recorded",
  evaluation_unavailable: "Rating is not available yet",
  verify: "Verify", file: "File", cancel: "Cancel", dispatch: "Dispatch", accept: "Accept",
  return: "Return", handle: "Progress note", report_back: "Report back", check: "Check",
  close: "Close", rework: "Rework", extend_request: "Ask for more time",
  extend_approve: "Grant extension", extend_refuse: "Refuse extension", hold: "Hold",
  resume: "Resume", reopen: "Reopen", merge: "Merge", split: "Split", create: "Report",
  s_to_verify: "To verify", s_to_file: "To file", s_to_dispatch: "To dispatch",
  s_dispatched: "Dispatched", s_handling: "Handling", s_on_hold: "On hold",
  s_to_check: "To check", s_to_close: "To close", s_closed: "Closed", s_cancelled: "Cancelled",
  s_merged: "Merged", s_split: "Split",
  green: "Green",
  routing: "Why this department",
  callback: "Call back (回访)",
  resolved: "The problem is solved",
  satisfaction: "Satisfaction",
  satisfied: "Satisfied",
  basically_satisfied: "Basically satisfied",
  dissatisfied: "Dissatisfied",
  rates_table: "Three rates",
  nav_hotline: "12345 desk",
  hotline_title: "12345 call desk",
  desk: "Desk help",
  preview: "Preview",
  record_call: "Record the call",
  call_text: "What the caller said",
  caller_name: "Caller",
  caller_phone: "Caller's phone",
  nature: "Nature",
  answers: "Knowledge-base answers",
  duplicates: "Similar open cases nearby",
  outcome: "Outcome",
  n_complaint: "Complaint", n_report: "Report", n_help: "Help", n_consultation: "Consultation",
  n_suggestion: "Suggestion", n_thanks: "Thanks",
};

const DICTS: Record<Lang, Dict> = { zh, en };

function initial(): Lang {
  const saved = localStorage.getItem(KEY);
  if (saved === "zh" || saved === "en") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh" : "en";
}

let lang: Lang = initial();

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  localStorage.setItem(KEY, next);
  applyLang();
}

export function applyLang(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `OneGrid ${t("app") === "OneGrid" ? "" : t("app")}`.trim();
}

export type Key = keyof Dict;

export function t(key: Key, vars: Record<string, string> = {}): string {
  let s = DICTS[lang][key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

/** A server word (status, action, light) in the user's language; unknown words pass through. */
export function word(prefix: "" | "s_", value: string): string {
  const key = `${prefix}${value}` as Key;
  return key in DICTS[lang] ? t(key) : value;
}

let zone = "Asia/Shanghai";

export function setZone(z: string): void {
  zone = z;
}

const locale = (): string => (lang === "zh" ? "zh-CN" : "en-GB");

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: zone,
  }).format(new Date(iso));
}

export function fmtNumber(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

export function fmtBytes(n: number): string {
  return `${fmtNumber(Math.round(n / (1024 * 1024)))} MB`;
}
