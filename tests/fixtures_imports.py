"""Builders of realistic import files: the Ministry of Education's directories (CSV in Big5 or
UTF-8 with BOM, XLSX) and the department's templates. Plain functions returning bytes."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

MINISTRY_HEADER = ["學年度", "代碼", "學校名稱", "公/私立", "縣市名稱", "地址", "電話", "網址"]

# Primary directory: New Taipei (two bracket codes for the same county), Taipei, Taichung.
PRIMARY_ROWS = [
    ["112", "014601", "市立板橋國小", "公立", "[01]新北市", "[220]新北市板橋區文化路1段23號",
     "(02)29686834", "http://www.pcps.ntpc.edu.tw"],
    ["112", "014602", "市立新埔國小", "公立", "[01]新北市", "[220]新北市板橋區民生路3段25號",
     "(02)22518020", "http://www.hpps.ntpc.edu.tw"],
    ["112", "011601", "私立育才國小", "私立", "[01]新北市", "[234]新北市永和區福和路125巷20號",
     "(02)29214630", "https://www.yucai.ntpc.edu.tw"],
    ["112", "014779", "市立福山國小", "公立", "[31]新北市", "[233]新北市烏來區李茂岸60號",
     "(02)26617183", ""],
    ["112", "01A402", "私立康橋實驗高中", "私立", "[01]新北市", "[231]新北市新店區華城路800號",
     "(02)22166000", "https://www.kcbs.ntpc.edu.tw"],
    ["112", "353601", "市立國語實小", "公立", "[63]臺北市", "[100]臺北市中正區南海路58號",
     "(02)23033555", ""],
    ["112", "193601", "市立大同國小", "公立", "[66]臺中市", "[403]臺中市西區自由路1段1號",
     "(04)22222222", ""],
]
#: In New Taipei: 5 schools (one in 烏來區, which the reference data may not hold yet).
PRIMARY_NTPC = 5

JUNIOR_ROWS = [
    ["112", "014301", "市立板橋國中", "公立", "[01]新北市", "[220]新北市板橋區文化路1段25號",
     "(02)29686834", ""],
    ["112", "014357", "市立三民高中", "公立", "[01]新北市", "[247]新北市蘆洲區三民路96號",
     "(02)22827935", "https://www.smsh.ntpc.edu.tw"],
    ["112", "01A402", "私立康橋實驗高中", "私立", "[01]新北市", "[231]新北市新店區華城路800號",
     "(02)22166000", "https://www.kcbs.ntpc.edu.tw"],
    ["112", "353501", "市立建成國中", "公立", "[63]臺北市", "[103]臺北市大同區長安西路37號",
     "", ""],
]

SENIOR_ROWS = [
    ["112", "014357", "市立三民高中", "公立", "[01]新北市", "[247]新北市蘆洲區三民路96號",
     "(02)22827935", "https://www.smsh.ntpc.edu.tw", "完全中學"],
    ["112", "01A402", "私立康橋實驗高中", "私立", "[01]新北市", "[231]新北市新店區華城路800號",
     "(02)22166000", "https://www.kcbs.ntpc.edu.tw", ""],
    ["112", "013303", "國立華僑高中", "國立", "[01]新北市", "[220]新北市板橋區大觀路1段5號",
     "(02)29684331", "https://www.ocsh.ntpc.edu.tw", ""],
    ["112", "330301", "市立建國高中", "公立", "[63]臺北市", "[100]臺北市中正區南海路56號",
     "(02)23034381", "", ""],
]


def csv_bytes(header: list[str], rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(header: list[str], rows: list[list], title: str = "Sheet1",
               code_as_text: bool = True) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for row in rows:
        ws.append(row)
    if code_as_text:
        for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
            cell.number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ministry_primary_big5(rows: list[list] | None = None) -> bytes:
    return csv_bytes(MINISTRY_HEADER, rows if rows is not None else PRIMARY_ROWS,
                     encoding="cp950")


def ministry_junior_utf8_bom(rows: list[list] | None = None) -> bytes:
    return csv_bytes(MINISTRY_HEADER, rows if rows is not None else JUNIOR_ROWS,
                     encoding="utf-8-sig")


def ministry_senior_xlsx(rows: list[list] | None = None) -> bytes:
    return xlsx_bytes([*MINISTRY_HEADER, "備註"], rows if rows is not None else SENIOR_ROWS)


def ministry_rows(n: int, county: str = "新北市", start: int = 0) -> list[list]:
    """``n`` synthetic primary schools spread over a few districts."""
    districts = ["板橋區", "三重區", "中和區", "永和區", "新莊區"]
    return [["112", f"{900000 + start + i:06d}", f"市立測試{start + i}國小", "公立",
             f"[01]{county}", f"[220]{county}{districts[i % 5]}測試路{i}號", "(02)2222", ""]
            for i in range(n)]


# -- the department's templates ---------------------------------------------------------------

SCHOOL_HEADER_EN = ["code", "name_zh", "name_en", "county", "district", "primary", "junior",
                    "senior", "public", "address", "phone"]
SCHOOL_HEADER_ZH = ["學校代碼", "學校名稱", "英文校名", "縣市", "行政區", "國小", "國中", "高中",
                    "公立", "地址", "電話"]

PARTNER_HEADER = ["name", "country", "region", "city", "primary", "junior", "senior",
                  "partner_city"]
PARTNER_ROWS = [
    ["Holmdel High School", "US", "New Jersey", "Holmdel", "no", "no", "yes", "Holmdel"],
    ["Saratoga Elementary", "美國", "California", "Saratoga", "yes", "no", "no", "Saratoga"],
    ["Tokyo Minato Junior High", "JP", "Tokyo", "Minato", "no", "yes", "no", ""],
]

PAIRING_HEADER_ZH = ["學校代碼", "夥伴學校", "夥伴國家", "夥伴城市", "狀態", "簽約日期",
                     "開始日期", "終止日期"]

ACTIVITY_HEADER = ["school_code", "partner_name", "partner_country", "partner_city", "title",
                   "type", "mode", "start_on", "end_on", "local_students", "partner_students"]
