"""The demo city's departments and who answers for what (as data, like a real city's)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name_zh: str
    name_en: str
    kind: str
    # Category prefixes this department owns city-wide (duty rules of kind "owner").
    owns: tuple[str, ...] = ()


# City bureaus, utilities and operators. Codes are the city's own short codes.
BUREAUS: tuple[DemoDepartment, ...] = (
    DemoDepartment(
        "CGW",
        "市城市管理委员会",
        "City Management Commission",
        "bureau",
        ("E01", "E02", "C03", "C0213"),
    ),
    DemoDepartment(
        "HWJ",
        "市环境卫生中心",
        "Sanitation Centre",
        "bureau",
        ("E0102", "E0103", "E0104", "E0105", "E0110", "C0301", "C0302", "C0303", "C0304"),
    ),
    DemoDepartment(
        "SZJ",
        "市政路政管理处",
        "Municipal Roads Office",
        "bureau",
        (
            "E0108",
            "E0401",
            "E0407",
            "C0113",
            "C0115",
            "C0116",
            "C0201",
            "C0202",
            "C0203",
            "C0204",
            "C0207",
            "C0208",
            "C0209",
            "C0210",
            "C0211",
            "C0107",
        ),
    ),
    DemoDepartment(
        "JJZ",
        "公安交通管理支队",
        "Traffic Police",
        "bureau",
        ("C0110", "C0205", "C0206", "C0212", "E0504"),
    ),
    DemoDepartment(
        "YLJ", "市园林绿化局", "Parks and Greening Bureau", "bureau", ("C04", "E0106", "E0408")
    ),
    DemoDepartment(
        "SWJ",
        "市水务局",
        "Water Authority",
        "bureau",
        (
            "C0101",
            "C0102",
            "C0103",
            "C0114",
            "C0601",
            "C0602",
            "E0105",
            "E0402",
            "E0405",
            "E0406",
            "E0602",
            "E0603",
        ),
    ),
    DemoDepartment(
        "RQGS",
        "示范燃气集团",
        "Demo City Gas Group",
        "utility",
        ("C0104", "C0124", "E0403", "E0605"),
    ),
    DemoDepartment(
        "RLGS", "示范热力集团", "Demo City Heating Group", "utility", ("C0105", "E0404", "E0601")
    ),
    DemoDepartment(
        "GDGS",
        "示范供电公司",
        "Demo City Power Supply",
        "utility",
        ("C0106", "C0117", "C0122", "C0125", "E0409", "E0604"),
    ),
    DemoDepartment(
        "TXGS",
        "通信管线联合办公室",
        "Telecom Lines Office",
        "utility",
        ("C0108", "C0109", "C0118", "C0123", "C0120", "C0121"),
    ),
    DemoDepartment(
        "ZJW",
        "市住房和城乡建设委员会",
        "Housing and Construction Commission",
        "bureau",
        ("E03", "E07", "C0501", "C0502", "C0503", "C0504", "E0804"),
    ),
    DemoDepartment(
        "STJ",
        "市生态环境局",
        "Ecology and Environment Bureau",
        "bureau",
        ("E0109", "E0111", "E0302", "C0603"),
    ),
    DemoDepartment(
        "GAJ",
        "市公安局",
        "Public Security Bureau",
        "bureau",
        ("C0111", "C0112", "C0119", "C0126", "E0801", "E0802"),
    ),
    DemoDepartment("MTDC", "美团单车示范市运营中心", "Meituan Bike (Demo City)", "operator"),
    DemoDepartment("HLCX", "哈啰出行示范市运营中心", "Hello Bike (Demo City)", "operator"),
    DemoDepartment("QJDC", "青桔单车示范市运营中心", "Qingju Bike (Demo City)", "operator"),
)

# Street order and estate matters are the subdistrict's own work (街乡吹哨、部门报到).
SUBDISTRICT_OWNS: tuple[str, ...] = ("E05", "E0803", "E0703", "E0704")


def district_government_code(district_code: str) -> str:
    return f"{district_code}ZF"


def subdistrict_office_code(subdistrict_code: str) -> str:
    return f"{subdistrict_code}JD"


CITY_GOVERNMENT = DemoDepartment(
    "990100ZF", "示范市人民政府", "Demo City Government", "city_government"
)
