// Who sees which door, for the navigation: kept apart from the pages so the header can ask
// without loading them (the admin pages bring MapLibre with them).
import type { Me } from "./api";

export function isAdmin(user: Me | null): boolean {
  return !!user && user.grants.some((g) => g.role === "city_admin" || g.role === "district_admin");
}
