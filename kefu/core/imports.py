"""File imports shared by every context (orders, customers): read a CSV or XLSX into rows, map
its header, refuse an oversize file by its size, write the report of rejected rows, and run an
ImportJob through its states while the page polls its progress.

The rule every import follows (issue 3): validate the whole file first; if any row is bad,
import nothing and report every bad row (row number as the user sees it in the file, the
header being row 1, the column and the reason); otherwise import it whole in one transaction.

A context's importer only knows its own columns and rules: it gets ``SheetRow`` objects and
answers ``RowError`` objects or an ``ImportResult``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.env import env_int
from kefu.core.exceptions import ApplicationError
from kefu.core.models import ImportJob

logger = logging.getLogger("kefu.imports")

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000  # a sanity bound; 50,000-row files are the expected large case
PROGRESS_EVERY = 1_000  # rows between two ImportJob.processed_rows updates
CELL_MAX_CHARS = 1_000  # longer cells are cut before validation (no field allows more)

Cell = str | int | float | Decimal | dt.date | dt.datetime | bool | None


def import_max_bytes() -> int:
    """KEFU_IMPORT_MAX_BYTES (setting or environment), default 20 MB."""
    configured = getattr(settings, "KEFU_IMPORT_MAX_BYTES", None)
    if isinstance(configured, int) and configured > 0:
        return configured
    return env_int("KEFU_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


class ImportFileError(ApplicationError):
    """The file as a whole cannot be read (too large, not a spreadsheet, no header …)."""

    code = "bad_file"
    status = 422


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"


def check_import_size(size: int | None) -> None:
    """Refuse a file by its declared size, before a byte of it is read."""
    limit = import_max_bytes()
    if size is not None and size > limit:
        raise ImportFileError(
            _("文件过大（%(size)s MB），最大允许 %(limit)s MB。")
            % {"size": _megabytes(size), "limit": _megabytes(limit)},
            code="file_too_large",
            status=413,
            fields={"file": [_("文件超过大小限制。")]},
        )


# --- columns and rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # the field name the importer reads, also the English header
    label: str  # the Chinese header, as the template file has it
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass
class SheetRow:
    number: int  # as the user sees it: the header is row 1
    values: dict[str, Cell]  # by Column.key; absent columns are missing


@dataclass(frozen=True)
class RowError:
    row: int  # 0 for errors about the whole file
    column: str  # the column's label as shown to the user ("" when about the row)
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.column, "message": self.message}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)


class RowsRejected(Exception):
    """Validation found bad rows: nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} rejected rows")
        self.errors = errors


def _header_key(text: Any) -> str:
    return str(text or "").strip().lstrip("\ufeff").replace(" ", "").replace("*", "").lower()


def map_header(header: Sequence[Cell], columns: Sequence[Column]) -> dict[int, str]:
    """{cell index: column key} for the header row; Chinese or English names, any case.

    A missing required column or a column given twice fails the whole file.
    """
    names: dict[str, str] = {}
    for column in columns:
        for name in (column.key, column.label, *column.aliases):
            names[_header_key(name)] = column.key
    found: dict[int, str] = {}
    seen: set[str] = set()
    duplicated: list[str] = []
    for index, cell in enumerate(header):
        key = names.get(_header_key(cell))
        if key is None:
            continue  # extra columns are ignored, as spreadsheets often carry notes
        if key in seen:
            duplicated.append(str(cell))
        seen.add(key)
        found[index] = key
    missing = [column.label for column in columns if column.required and column.key not in seen]
    problems = []
    if missing:
        problems.append(_("缺少必填列：%(columns)s。") % {"columns": "、".join(missing)})
    if duplicated:
        problems.append(_("列重复：%(columns)s。") % {"columns": "、".join(duplicated)})
    if problems:
        expected = "、".join(f"{c.label}/{c.key}" for c in columns)
        raise ImportFileError(
            " ".join(problems) + " " + _("表头应为：%(expected)s。") % {"expected": expected},
            code="bad_header",
            fields={"file": problems},
        )
    return found


# --- reading files --------------------------------------------------------------------------

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc): not supported


def _not_a_table(filename: str) -> ImportFileError:
    return ImportFileError(
        _(
            "“%(name)s”不是有效的 CSV 或 XLSX 文件，请上传 UTF-8/GBK 编码的 CSV 或 Excel 2007 及以上的 .xlsx 文件。"  # noqa: E501
        )
        % {"name": filename[:100]},
        code="bad_file",
        fields={"file": [_("文件格式无法识别。")]},
    )


def read_table(stream: IO[bytes], filename: str) -> list[list[Cell]]:
    """Every row of the file's first sheet (or the CSV), header first, trailing empty rows
    dropped. Raises ImportFileError when the file is not a readable CSV/XLSX."""
    head = stream.read(8)
    stream.seek(0)
    lower = filename.lower()
    if head.startswith(_XLSX_MAGIC):
        return _read_xlsx(stream, filename)
    if head.startswith(_OLE_MAGIC) or lower.endswith((".xlsx", ".xlsm", ".xls")):
        if head.startswith(_OLE_MAGIC) or lower.endswith(".xls"):
            raise ImportFileError(
                _("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传。"),
                code="bad_file",
                fields={"file": [_("文件格式无法识别。")]},
            )
        raise _not_a_table(filename)
    return _read_csv(stream.read(), filename)


def _read_xlsx(stream: IO[bytes], filename: str) -> list[list[Cell]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        logger.info("unreadable xlsx %r: %s", filename, exc)
        raise _not_a_table(filename) from None
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        logger.info("unreadable xlsx %r: %r", filename, exc)
        raise _not_a_table(filename) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise _not_a_table(filename)
        rows: list[list[Cell]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_clip(value) for value in values])
            if len(rows) > MAX_ROWS + 1:
                raise _too_many_rows()
    except ImportFileError:
        raise
    except Exception as exc:
        logger.info("unreadable xlsx sheet %r: %r", filename, exc)
        raise _not_a_table(filename) from None
    finally:
        workbook.close()
    return _trim(rows)


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        _("文件行数过多，单个文件最多 %(max)d 行，请拆分后分批导入。") % {"max": MAX_ROWS},
        code="too_many_rows",
        fields={"file": [_("行数过多。")]},
    )


def _decode(raw: bytes, filename: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw:  # UTF-16 or binary: neither is a CSV we read
        raise _not_a_table(filename)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")  # a superset of GBK, what Excel on Chinese Windows writes
    except UnicodeDecodeError:
        raise _not_a_table(filename) from None


def _read_csv(raw: bytes, filename: str) -> list[list[Cell]]:
    text = _decode(raw, filename)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",\t;"
        )
    except csv.Error:
        dialect = csv.excel
    rows: list[list[Cell]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), dialect):
            rows.append([_clip(value) for value in record])
            if len(rows) > MAX_ROWS + 1:
                raise _too_many_rows()
    except csv.Error:
        raise _not_a_table(filename) from None
    rows = _trim(rows)
    if rows and len(rows[0]) <= 1 and any(ch in str(rows[0][0] or "") for ch in "\ufffd"):
        raise _not_a_table(filename)
    return rows


def _clip(value: Any) -> Cell:
    if isinstance(value, str):
        return value[:CELL_MAX_CHARS]
    if value is None or isinstance(value, int | float | Decimal | dt.date | bool):
        return value
    return str(value)[:CELL_MAX_CHARS]


def _blank(row: Sequence[Cell]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in row)


def _trim(rows: list[list[Cell]]) -> list[list[Cell]]:
    while rows and _blank(rows[-1]):
        rows.pop()
    return rows


def read_rows(stream: IO[bytes], filename: str, columns: Sequence[Column]) -> list[SheetRow]:
    """The file's data rows keyed by column, numbered as the user sees them; blank rows are
    skipped (they keep their number, so later rows are still numbered right)."""
    table = read_table(stream, filename)
    if not table:
        raise ImportFileError(
            _("文件是空的：第 1 行应为表头。"),
            code="empty_file",
            fields={"file": [_("文件为空。")]},
        )
    mapping = map_header(table[0], columns)
    rows = []
    for offset, record in enumerate(table[1:], start=2):
        if _blank(record):
            continue
        values: dict[str, Cell] = {}
        for index, key in mapping.items():
            values[key] = record[index] if index < len(record) else None
        rows.append(SheetRow(number=offset, values=values))
    if not rows:
        raise ImportFileError(
            _("文件中没有数据行。"), code="empty_file", fields={"file": [_("文件为空。")]}
        )
    return rows


# --- cell helpers for importers --------------------------------------------------------------


def cell_text(value: Cell) -> str:
    """A cell as stripped text; integral floats from Excel lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


# --- the error report ---------------------------------------------------------------------------


def _report_header() -> list[str]:
    return [_("行号"), _("列"), _("原因")]


def error_report_csv(errors: Iterable[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel on Windows opens UTF-8 Chinese correctly with a BOM
    writer = csv.writer(buffer)
    writer.writerow(_report_header())
    for error in errors:
        writer.writerow([error.get("row") or "", error.get("field", ""), error.get("message", "")])
    return buffer.getvalue().encode("utf-8")


def error_report_xlsx(errors: Iterable[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("未导入的行"))
    sheet.append(_report_header())
    for error in errors:
        sheet.append(
            [error.get("row") or None, str(error.get("field", "")), str(error.get("message", ""))]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- running a job -----------------------------------------------------------------------------

Progress = Callable[[int], None]
# An importer: reads the rows, validates all, imports all or raises RowsRejected.
Importer = Callable[[ImportJob, list[SheetRow], Progress], ImportResult]


def job_progress(job: ImportJob) -> Progress:
    """A callback that records how many rows are done, every PROGRESS_EVERY rows (one UPDATE,
    outside the import's transaction, so the polling page sees it)."""
    last = [0]

    def report(processed: int) -> None:
        if processed - last[0] >= PROGRESS_EVERY or processed >= job.total_rows:
            last[0] = processed
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed)

    return report


def _finish(job: ImportJob, **fields: Any) -> None:
    fields["finished_at"] = timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def import_job_run(*, job: ImportJob, columns: Sequence[Column], importer: Importer) -> ImportJob:
    """Take a job from PENDING to DONE, REJECTED or FAILED.

    1. read and map the file (a file-level problem rejects the job with one error);
    2. the importer validates every row, reporting progress, then imports in one transaction;
    3. bad rows reject the job with every error listed; nothing was written.
    """
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING)
    job.status = ImportJob.Status.VALIDATING
    try:
        with job.file.open("rb") as stream:
            check_import_size(job.file.size)
            rows = read_rows(stream, job.filename, columns)
    except ImportFileError as exc:
        _finish(
            job,
            status=ImportJob.Status.REJECTED,
            message=exc.message[:300],
            errors=[RowError(0, "", exc.message).as_dict()],
        )
        return job
    job.total_rows = len(rows)
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rows))
    try:
        result = importer(job, rows, job_progress(job))
    except RowsRejected as rejected:
        _finish(
            job,
            status=ImportJob.Status.REJECTED,
            processed_rows=len(rows),
            errors=[error.as_dict() for error in rejected.errors],
            message=_("共 %(count)d 处错误，未导入任何数据。") % {"count": len(rejected.errors)},
        )
        return job
    except ApplicationError as exc:
        _finish(
            job,
            status=ImportJob.Status.REJECTED,
            errors=[RowError(0, "", exc.message).as_dict()],
            message=exc.message[:300],
        )
        return job
    except Exception:
        logger.exception("import job %s failed", job.pk)
        _finish(
            job,
            status=ImportJob.Status.FAILED,
            message=_("导入失败（系统错误，已记录），未导入任何数据。"),
        )
        return job
    _finish(
        job,
        status=ImportJob.Status.DONE,
        processed_rows=len(rows),
        created_count=result.created,
        updated_count=result.updated,
        unchanged_count=result.unchanged,
        message=_("导入完成：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d。")
        % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
    )
    return job


def mark_importing(job: ImportJob) -> None:
    """Validation passed: the page now shows the writing phase."""
    job.status = ImportJob.Status.IMPORTING
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.IMPORTING, processed_rows=job.total_rows
    )
