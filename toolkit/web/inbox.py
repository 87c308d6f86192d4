"""收件: files dropped on the page, or mail fetched from the mailbox, into the inbox folder.

Mail (.eml .msg mbox, or a zip of them) is kept in 邮件/ and taken by `toolkit.mail.intake`, exactly as
`brandkit intake 邮件/ -o 收件箱/` would (each message once, however often it is uploaded). Anything
else goes through intake's own judge (`mail.archives.collect`: forms and pictures kept, zips unpacked
under its limits, the rest skipped with a reason) into 收件箱/网页上传/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from toolkit.core.errors import UsageProblem
from toolkit.files.atomic import write_atomic
from toolkit.files.filenames import safe_name
from toolkit.web.render import page, problem, text
from toolkit.web.security import MB

MAIL_SUFFIXES = (".eml", ".msg", ".mbox", ".mbx")
MAX_FILES = 2000  # files in one upload request


def intake_page(request: Request) -> HTMLResponse:
    imap = request.app.state.campaign.settings().get("imap", {})
    return page(request, "intake.html", imap=imap if isinstance(imap, dict) else {},
                limit_mb=request.app.state.max_upload // MB)


def too_big(request: Request) -> Response | None:
    """Refuse an upload over the limit before reading it (the size the browser declares)."""
    limit = request.app.state.max_upload
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        return problem("上传请求没有注明大小，已拒绝；请用网页上的“上传”按钮上传", 411)
    if int(declared) > limit:
        return problem(f"上传的文件共 {int(declared) / MB:.1f} MB，超过 {limit / MB:.0f} MB 上限，未接收。"
                       "请分几次上传，或把邮件导出后用“收取邮件”处理", 413)
    return None


async def upload(request: Request) -> Response:
    refused = too_big(request)
    if refused is not None:
        return refused
    try:
        form = await request.form(max_files=MAX_FILES)
    except HTTPException as exc:  # Starlette says why in English; the count is the one an officer can hit
        if str(exc.detail).startswith("Too many files"):
            return problem(f"一次最多上传 {MAX_FILES} 个文件，这次没有接收任何文件。请分几次上传，或打成 zip 压缩包后上传")
        raise
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not files:
        return problem("没有选择文件")
    named = [(f.filename or "", await f.read()) for f in files]
    camp = request.app.state.campaign
    result = await run_in_threadpool(take_uploads, camp, named)
    return HTMLResponse(text("_intake_result.html", **result))


def take_uploads(camp: Any, named: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Mail to 邮件/<now>/ then intake; other files judged by intake's rules into 收件箱/网页上传/. A file
    that cannot be taken is skipped with its reason and the others are still taken (a batch never stops)."""
    from toolkit.mail import Limits
    from toolkit.mail.archives import collect

    limits = Limits()
    batch = camp.mail / dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    kept: list[str] = []
    skipped: list[tuple[str, str]] = []
    mail_files: list[str] = []
    known = _InboxContents(camp)
    for name, data in named:
        mail, why = _mail_members(name, data, limits)
        if why is not None:
            skipped.append((name, why))
            continue
        if mail:
            for member, body in mail:
                _save(batch, member, body)
            mail_files.append(name)
            continue
        found, skips = collect(name, data, limits)
        for f in found:
            if (same := known.where(f.data)) is not None:
                skipped.append((f.name, f"与已收取的 {same} 内容完全相同，不再重复保存"))
                continue
            saved = _save(camp.uploads, f.name, f.data)
            known.add(saved, f.data)
            kept.append(camp.relative(saved))
        skipped += [(s.name, s.reason) for s in skips]
    report = _take_mail(camp, batch, mail_files, skipped) if mail_files else None
    return {"kept": kept, "skipped": skipped, "report": report, "mails": len(mail_files), "relative": camp.relative}


class _InboxContents:
    """The inbox's files as validate and merge see them, so a form uploaded again is not stored twice
    (mail attachments are deduplicated by intake's ledger). Only files of an upload's very size are
    read and hashed, each once: an upload never reads the whole inbox."""

    def __init__(self, camp: Any) -> None:
        from toolkit.commands.batch import collect_paths

        self.camp = camp
        self.by_size: dict[int, list[Path]] = {}
        self.digests: dict[Path, str] = {}
        for path in collect_paths([camp.inbox], pictures=True) if camp.inbox.is_dir() else []:
            self.by_size.setdefault(path.stat().st_size, []).append(path)

    def where(self, data: bytes) -> str | None:
        """The inbox file (as the page names it) holding exactly `data`, else None."""
        digest = hashlib.sha256(data).hexdigest()
        for path in self.by_size.get(len(data), []):
            if path not in self.digests:
                self.digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            if self.digests[path] == digest:
                return self.camp.relative(path)
        return None

    def add(self, path: Path, data: bytes) -> None:
        self.by_size.setdefault(len(data), []).append(path)
        self.digests[path] = hashlib.sha256(data).hexdigest()


def _take_mail(camp: Any, batch: Path, names: list[str], skipped: list[tuple[str, str]]) -> Any:
    """Intake of this upload's mail batch. When intake cannot run, the batch is removed: a later upload
    takes only its own batch, so a mail left behind here would never be taken."""
    from toolkit.mail import IntakeError, intake

    try:
        return intake([str(batch)], camp.inbox)
    except IntakeError as exc:
        shutil.rmtree(batch, ignore_errors=True)
        skipped += [(name, f"邮件未收取：{exc}") for name in names]
        return None
    except BaseException:
        shutil.rmtree(batch, ignore_errors=True)
        raise


def _mail_members(name: str, data: bytes, limits: Any) -> tuple[list[tuple[str, bytes]], str | None]:
    """A mail file as itself; a zip holding mail files as those members (under intake's archive caps);
    [] for anything else. With the reason instead when the zip's mail is over those caps."""
    if name.lower().endswith(MAIL_SUFFIXES):
        return [(name, data)], None
    if not name.lower().endswith(".zip"):
        return [], None
    from toolkit.mail.archives import zip_member_name

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return [], None
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir() and zip_member_name(i).lower().endswith(MAIL_SUFFIXES)]
        if len(members) > limits.archive_members or sum(i.file_size for i in members) > limits.archive_total_bytes \
                or any(i.file_size > limits.message_bytes for i in members):
            return [], (f"压缩包中的邮件过多或过大（上限 {limits.archive_members} 封、共 "
                        f"{limits.archive_total_bytes // MB} MB），未收取；请拆分成几个压缩包后上传")
        out = []
        for info in members:
            with zf.open(info) as fh:
                body = fh.read(limits.message_bytes + 1)
            if len(body) > limits.message_bytes:
                return [], f"其中的 {zip_member_name(info)} 解压后超过上限，整个压缩包未收取；请拆分后上传"
            out.append((Path(zip_member_name(info)).name, body))
        return out, None


def _save(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_name(Path(name).name)
    stem, suffix, n = path.stem, path.suffix, 2
    while path.exists():
        path = folder / f"{stem} ({n}){suffix}"
        n += 1
    return write_atomic(path, data)


async def saved_upload(request: Request, field: Any, folder: Path) -> Path | None:
    """One uploaded file (e.g. the roster) saved in `folder` for a command that takes a path; None
    when none was chosen."""
    if not isinstance(field, UploadFile) or not field.filename:
        return None
    refused = too_big(request)
    if refused is not None:
        raise UsageProblem(bytes(refused.body).decode("utf-8"))
    return _save(folder, field.filename, await field.read())


async def fetch_mail(request: Request) -> Response:
    """收取邮件: `brandkit intake imaps://user@host/folder` with the password typed on the page (or the
    keyring's); the address is remembered, the password never."""
    from toolkit.mail import IntakeError, MissingPassword, imap_password, intake

    form = await request.form()
    host, account = str(form.get("host", "")).strip(), str(form.get("account", "")).strip()
    folder, subject = str(form.get("folder", "") or "INBOX").strip(), str(form.get("subject", "")).strip()
    password = str(form.get("password", ""))
    if not host or not account:
        return problem("请填写邮箱服务器和账号")
    camp = request.app.state.campaign
    camp.remember(imap={"host": host, "account": account, "folder": folder, "subject": subject})
    source = f"imaps://{quote(account, safe='@')}@{host}/{quote(folder)}"

    def secret(who: str) -> str:
        return password or imap_password(who, prompt=False)

    try:
        report = await run_in_threadpool(lambda: intake([source], camp.inbox, subject=subject or None,
                                                        password=secret))
    except (IntakeError, MissingPassword) as exc:
        return problem(str(exc))
    return HTMLResponse(text("_intake_result.html", kept=[], skipped=[], report=report, mails=len(report.messages),
                             relative=camp.relative))


ROUTES = [Route("/intake", intake_page), Route("/intake/upload", upload, methods=["POST"]),
          Route("/intake/imap", fetch_mail, methods=["POST"])]
