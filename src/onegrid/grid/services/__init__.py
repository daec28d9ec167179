"""The grid context's use cases: the only way areas, unit grids, inspector coverage, duty rules
and standard addresses are written. Each function works inside the caller's transaction (one use
case, one unit of work) and raises ``onegrid.core.errors`` exceptions, never a half-done write."""

from onegrid.grid.services.addresses import AddressLoad, load_addresses
from onegrid.grid.services.areas import (
    AreaImportPlan,
    apply_area_import,
    import_areas,
    plan_area_import,
    rename_area,
)
from onegrid.grid.services.assignments import (
    assign_inspector,
    assign_inspector_to_grids,
    end_duty_rule,
    end_inspector_assignment,
    set_duty_rule,
)
from onegrid.grid.services.generation import GenerationReport, generate_unit_grids
from onegrid.grid.services.history import ImportSummary
from onegrid.grid.services.populations import PopulationLoad, load_populations
from onegrid.grid.services.unit_grids import (
    RetiredGrid,
    UnitGridImportPlan,
    apply_unit_grid_import,
    import_unit_grids,
    plan_unit_grid_import,
)

__all__ = [
    "AddressLoad",
    "AreaImportPlan",
    "GenerationReport",
    "ImportSummary",
    "PopulationLoad",
    "RetiredGrid",
    "UnitGridImportPlan",
    "apply_area_import",
    "apply_unit_grid_import",
    "assign_inspector",
    "assign_inspector_to_grids",
    "end_duty_rule",
    "end_inspector_assignment",
    "generate_unit_grids",
    "import_areas",
    "import_unit_grids",
    "load_addresses",
    "load_populations",
    "plan_area_import",
    "plan_unit_grid_import",
    "rename_area",
    "set_duty_rule",
]
