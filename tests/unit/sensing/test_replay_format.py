from __future__ import annotations

from pathlib import Path

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.sensing.replay import ReplayFormat, read_format, read_steps


def test_the_shipped_prsa_format() -> None:
    fmt = read_format(Path("prsa"))
    assert fmt.device == "station" and fmt.device_prefix == "PRSA-"
    assert fmt.time == ("year", "month", "day", "hour") and fmt.timezone == "Asia/Shanghai"
    assert fmt.quantities is not None and fmt.quantities["PM2.5"] == "pm2_5"


def test_a_format_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("device: station\nspeed: 3\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_format(path)
    assert caught.value.problems[0].field == "speed"


def test_wide_rows_become_time_steps_in_local_time(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        "year,month,day,hour,PM2.5,CO,station\n"
        "2013,3,1,1,8,300,B\n"
        "2013,3,1,0,4,NA,B\n"
        "2013,3,1,0,NA,NA,A\n",
        encoding="utf-8",
    )
    fmt = ReplayFormat(
        device="station",
        time=("year", "month", "day", "hour"),
        timezone="Asia/Shanghai",
        quantities={"PM2.5": "pm2_5", "CO": "co"},
        units={"co": "µg/m³"},
    )
    steps = read_steps(path, fmt)
    assert [s.ts for s in steps] == [1362067200.0, 1362070800.0]  # 2013-02-28 16:00, 17:00 UTC
    assert steps[0].entries == [
        {"device": "B", "ts": 1362067200.0, "values": {"pm2_5": 4.0}, "units": {}}
    ]
    assert steps[1].entries[0]["values"] == {"pm2_5": 8.0, "co": 300.0}
    assert steps[1].entries[0]["units"] == {"co": "µg/m³"}


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("device,ts,value\nA,2026-01-01T00:00:00Z,1\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_steps(path, ReplayFormat())
    assert [p.field for p in caught.value.problems] == ["quantity"]
