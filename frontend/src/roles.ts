// Who sees which door, for the navigation: kept apart from the pages so the header can ask
// without loading them (the admin pages bring MapLibre with them).
import type { Me } from "./api";

export function isAdmin(user: Me | null): boolean {
  return !!user && user.grants.some((g) => g.role === "city_admin" || g.role === "district_admin");
}

const staff = (user: Me | null): user is Me => !!user && user.grants.some((g) => g.role !== "citizen");

/** Whoever may report a problem has "My requests": the cases they reported (a citizen) or
 * created (an inspector's street reports), as `GET /api/v1/cases?mine=true` lists them. */
export function reports(user: Me | null): boolean {
  return !!user && user.actions.includes("case.create");
}

/** Staff who read cases have queues (overdue at least): the workbench is never empty for them. */
export function worksCases(user: Me | null): boolean {
  return staff(user) && user.actions.includes("case.read");
}

/** The command centre: its map for staff who read cases, its evaluation for those who read
 * analytics (an analyst sees the rankings and the export there, and no map of cases). */
export function mayCommand(user: Me | null): boolean {
  return worksCases(user) || (staff(user) && user.actions.includes("analytics.read"));
}
