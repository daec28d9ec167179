"""A file of dated populations: every bad row named by line, area and field before any write."""

from __future__ import annotations

from datetime import date

from onegrid.grid.importing.populations import (
    StoredPopulation,
    plan_populations,
    read_populations,
)


def _problems(text: str) -> list[tuple[str | None, str, str]]:
    _, problems = read_populations(text.splitlines(), "census")
    return [(p.record, p.field, p.rule) for p in problems]


def test_good_rows_become_drafts_with_their_own_or_the_file_s_source() -> None:
    drafts, problems = read_populations(
        [
            "area_code,valid_from,population,source",
            "110101001,2025-01-01,52000,2024 census",
            " 110101002 ,2025-01-01, 48000 ,",
        ],
        "file.csv",
    )
    assert problems == []
    assert [(d.line, d.area_code, d.valid_from, d.population, d.source) for d in drafts] == [
        (2, "110101001", date(2025, 1, 1), 52000, "2024 census"),
        (3, "110101002", date(2025, 1, 1), 48000, "file.csv"),
    ]


def test_each_bad_value_is_named_by_its_line_area_and_field() -> None:
    text = "\n".join(
        [
            "area_code,valid_from,population",
            "110101001,2025-13-01,52000",
            "110101002,2025-01-01,many",
            ",2025-01-01,100",
            "110101003,2025-01-01,-5",
            "110101004,1 Jan 2025,100",
            "110101005,2025-01-01,7.5",
        ]
    )
    assert _problems(text) == [
        ("line 2 (area 110101001)", "valid_from", "iso-date"),
        ("line 3 (area 110101002)", "population", "whole-number"),
        ("line 4", "area_code", "required"),
        ("line 5 (area 110101003)", "population", "not-negative"),
        ("line 6 (area 110101004)", "valid_from", "iso-date"),
        ("line 7 (area 110101005)", "population", "whole-number"),
    ]
    _, problems = read_populations(text.splitlines(), "census")
    assert "-5 is negative" in problems[3].message and "'many'" in problems[1].message


def test_a_missing_column_an_empty_file_and_a_repeated_date_are_refused() -> None:
    assert _problems("area_code,population\n110101001,5\n") == [
        (None, "valid_from", "required-column")
    ]
    assert _problems("area_code,valid_from,population\n") == [(None, "file", "rows-required")]
    twice = "area_code,valid_from,population\nA,2025-01-01,5\nB,2025-01-01,6\nA,2025-01-01,7\n"
    _, problems = read_populations(twice.splitlines(), "census")
    assert [(p.record, p.field, p.rule) for p in problems] == [
        ("line 4 (area A)", "valid_from", "one-per-date")
    ]
    assert "line 2" in problems[0].message


def test_the_plan_refuses_unknown_areas_and_changed_figures_unless_corrected() -> None:
    drafts, _ = read_populations(
        [
            "area_code,valid_from,population,source",
            "A,2025-01-01,100,census",  # stored, same figure
            "A,2026-01-01,110,estimate",  # new
            "B,2025-01-01,210,census",  # stored as 200
            "Z,2025-01-01,5,census",  # no such area
        ],
        "file.csv",
    )
    stored = {
        ("A", date(2025, 1, 1)): StoredPopulation(1, 100, "census"),
        ("B", date(2025, 1, 1)): StoredPopulation(2, 200, "census"),
    }
    plan = plan_populations(drafts, {"A", "B"}, stored, correct=False)
    assert [(p.record, p.field, p.rule) for p in plan.problems] == [
        ("line 4 (area B)", "population", "dated-figure-kept"),
        ("line 5 (area Z)", "area_code", "known-area"),
    ]
    assert "200" in plan.problems[0].message and "--correct" in plan.problems[0].message
    fixed = plan_populations(drafts, {"A", "B", "Z"}, stored, correct=True)
    assert fixed.problems == [] and fixed.unchanged == 1
    assert [d.area_code for d in fixed.added] == ["A", "Z"]
    assert [(i, d.population) for i, d in fixed.corrected] == [(2, 210)]
