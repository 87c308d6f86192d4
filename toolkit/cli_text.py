"""The command line's words in Chinese (the default) and English (`--lang en`, `BRANDKIT_LANG=en`).

Help texts are written in English in `cli.py` (the source language of the code) and looked up here when
help is shown, so the language chosen on the command line applies. click's own messages ("Usage:",
"No such option", "Did you mean …") go through gettext in click; `install` points click's lookups at
this catalogue. Light: the CLI imports this at start-up.
"""

from __future__ import annotations

import sys
from typing import Any

from toolkit.core.messages import current_lang

# Our help texts: command docstrings and option help, English -> Chinese.
HELP = {
    "brandkit: collect, check, merge, stamp and summarise party-branch brand applications.":
        "brandkit：党支部品牌创建申报表的收取、校验、合并、盖章与汇总。",
    "Print one JSON document on stdout.": "在标准输出只打印一个 JSON 文档（供脚本使用）。",
    "Message language.": "提示语言（zh 中文，en 英文）。",
    "Show tracebacks.": "出错时显示程序调用栈（给维护人员看）。",
    "Print only problems (rejected files and errors).": "只打印有问题的内容（退回、无法读取、错误）。",
    "List the built-in campaigns (活动方案).": "列出内置的活动方案。",
    "Show one campaign in full: the notice, labels, stages, notes.":
        "完整显示一个活动方案：通知原文、栏目、各阶段与说明。",
    "Write the branch form (申报表), or with --master the macro-enabled master with buttons.":
        "生成发给各支部的申报表；加 --master 则生成带按钮的台账（.xlsm）。",
    "Campaign id, or a .toml path.": "活动方案名称，或 .toml 方案文件的路径。",
    "Write a macro-enabled master (台账.xlsm) with buttons.": "生成带按钮的台账（台账.xlsm）。",
    "Output file.": "输出文件。",
    "Check branch forms against the campaign's rules.": "按活动的填报规则校验各支部的申报表。",
    "Take rules and roster from this master.": "从这个台账读取填报规则和支部名单。",
    "Write annotated copies here.": "把标好问题的“校验结果”写到这个文件夹。",
    "Create a master, or adopt an existing workbook as one.": "新建台账，或接管已有的工作簿作为台账。",
    "A sheet listing 党总支 / 党支部名称 / 类别 / 必须参与.": "支部名单（党总支、党支部名称、类别、必须参与，可含联系人）。",
    "Operator name for the log (default: login name).": "记入“操作记录”的经办人（默认：登录用户名）。",
    "Take the campaign (profile, year and stage dates) from this master instead of --profile.":
        "从这个台账读取活动方案（含活动年度和各阶段日期），代替 --profile。",
    "Campaign year of the dates on the form.": "申报表上所印日期的活动年度（默认：通知上印的年份，没有则为今年）。",
    "Campaign year: the year of the first dated stage (default: the notice's, else this year).":
        "活动年度：第一个有日期的阶段所在的年份（后面月日靠前的阶段自动算到下一年；默认：通知上印的年份，没有则为今年）。",
    "A stage's due date (STAGE=2027-03-31) or start~due (repeatable).":
        "逐个设定阶段日期：阶段名=截止日期（如 申报=2027-03-31），或 阶段名=开始日期~截止日期（可写多次）。",
    "The office that signs the mails to branches (kept in 填报规则).":
        "落款单位：发给各支部的回执、退回和催报邮件以此署名（存在“填报规则”工作表中，可在那里修改；默认用通知的发文单位）。",
    "Merge accepted branch forms into the master.": "把通过校验的申报表合并进台账。",
    "Show what would change; write nothing.": "只显示将要做的改动，不写入台账。",
    "Merge submissions that have warnings only.": "仅有警告（如内容雷同）的申报表也合并。",
    "Combine several masters (each 党总支's) into an upper master; conflicts are shown, not overwritten.":
        "把各党总支的台账汇总进上级（党委）台账：每行记下来源台账，标识、表格和各阶段状态一并带上；同一支部在几个台账中"
        "内容不同时列为冲突、不覆盖，用 --prefer 指定以哪个为准。",
    "Settle conflicts for this lower master (all of its, or BRANCH=LOWER for one branch; repeatable).":
        "冲突以这个下级台账为准：写台账文件名（它涉及的冲突都以它为准），或 支部名=台账文件名（只此一个支部）；可写多次。",
    "Show each merged form's fields as they changed.": "逐份列出合并进台账的各栏目改动。",
    "Collect attachments from .eml/.msg/mbox/Maildir/IMAP into an inbox folder.":
        "从 .eml/.msg/mbox/Maildir/IMAP 邮件中取出附件，放进收件箱文件夹。",
    "Inbox folder for the attachments.": "存放附件的收件箱文件夹。",
    "Only mail received on or after this day.": "只收这一天及以后收到的邮件。",
    "Only mail whose subject contains this text.": "只收主题中含有这段文字的邮件。",
    "IMAP: move handled mail to this folder.": "IMAP：处理完的邮件移到这个文件夹。",
    "Stamp a stage's status for branches, or (--paper) record their paper copies.":
        "为支部盖某一阶段的状态章（如 党总支审批：已通过），或用 --paper 登记收到的纸质版。",
    "Stage name, e.g. 党总支审批.": "阶段名称，如 党总支审批。",
    "Status, e.g. 已通过.": "状态，如 已通过。",
    "Branch to stamp (repeatable).": "要盖章的支部（可写多次）。",
    "Every branch in the ledger.": "台账中的全部支部。",
    "Who stamps (default: login name).": "盖章人（默认：登录用户名）。",
    "A note for the log.": "记入“操作记录”的备注。",
    "Stamp date (default: today).": "盖章日期（默认：今天）。",
    "Allow going back to an earlier status.": "允许退回到更早的状态。",
    "Leave a group below its quota's minimum, for this reason (logged).":
        "确需让某党总支低于名额下限时，写明理由（记入“操作记录”）。",
    "Record paper copies received (instead of --stage/--status).": "登记收到的纸质版（不与 --stage/--status 同用）。",
    "With --paper: copies received (default: as the notice asks).": "与 --paper 同用：收到的份数（默认：按通知要求）。",
    "With --paper: sealed or not (default: as the notice asks).": "与 --paper 同用：是否盖章（默认：按通知要求）。",
    "Progress per 党总支 and stage: submitted, passed, returned, late, missing.":
        "查看进度：各党总支、各阶段的已交、通过、退回、逾期、未交。",
    "Count as of this day (default: today).": "按这一天统计（默认：今天）。",
    "Write the leaders' summary workbook (and PNG charts).": "生成给领导的汇总表（和 PNG 图表）。",
    "Export the progress table (one row per branch, every stage) for other systems.":
        "导出进展表（每个支部一行，含各阶段），供其他系统使用。",
    "A .csv, .xlsx or (with pyarrow) .parquet file.": ".csv、.xlsx 文件（装有 pyarrow 时也可 .parquet）。",
    "Also write charts as PNG.": "同时把图表存为 PNG（可用于幻灯片）。",
    "Write (or --send) the mails to branches: receipts, returned forms with their reports, reminders.":
        "给各支部写邮件：已登记的发回执，退回的附上校验结果并写明重报期限，未报送的催报；默认只生成 .eml 草稿"
        "（可在 Foxmail、Outlook 中打开，或导入 163/QQ 网页邮箱），加 --send 直接发送。发过的不会再发。",
    "Send the mails through SMTP (default: write drafts only).":
        "通过 SMTP 直接发送（默认只生成草稿）；密码（QQ/163 邮箱为授权码）从环境变量 BRANDKIT_SMTP_PASSWORD、"
        "系统钥匙串或提示输入中取得，不要写在命令行上。",
    "List the mails that would go; write and send nothing.": "只列出将要发的邮件，不生成草稿、不发送。",
    "Send reminders (催报) again to branches reminded before.": "已催报过的支部再催报一次。",
    "Returned forms are due back by this day (default: five working days from today).":
        "退回的申报表须在这一天前重新报送（默认：今天起 5 个工作日，按台账的节假日安排计算）。",
    "Only these kinds of mail (repeatable).": "只写这几类邮件：回执、退回、催报（可写多次）。",
    "Folder for the .eml files (default: 通知邮件/ beside the master).": "存放 .eml 邮件的文件夹（默认：台账旁的 通知邮件/）。",
    "Folder of the 校验结果 reports (default: 校验结果/ beside the master).":
        "校验结果所在的文件夹（validate --report-dir 写的；默认：台账旁的 校验结果/）。",
    "Inbox folder whose inbox.jsonl says who sent each form (default: 收件箱/ beside the master).":
        "收件箱文件夹，从其中的 inbox.jsonl 查出每份申报表的发件人（默认：台账旁的 收件箱/）。",
    "SMTP account (the mailbox address).": "发信邮箱账号（如 dangban@163.com）。",
    "SMTP server (default: from the address, e.g. smtp.163.com).": "发信服务器（默认按邮箱推断，如 smtp.163.com、smtp.qq.com）。",
    "SMTP port: 465 SSL, 587 STARTTLS (default: 465).": "发信端口：465 为 SSL，587 为 STARTTLS（Exchange）；默认 465。",
    "SSL or STARTTLS (default: SSL on 465, else STARTTLS).": "加密方式：ssl 或 starttls（默认：465 端口用 SSL，其他端口用 STARTTLS）。",
    "Sender address (default: --user).": "发件人地址（默认同 --user）；也是退回邮件里写的重报地址。",
    "Write a Word booklet of the brands: cover, contents, one section per brand.":
        "生成品牌汇编（Word 文档）：封面、目录，每个品牌一节（标识、名称、所属党总支、内涵、创建计划举措成效、各阶段情况），可加 --pdf 同时生成 PDF。",
    "Take the branches at this stage (default: every accepted form).":
        "收录在这一阶段已完成的支部（默认：申报表已受理的全部支部）。",
    "... with this status there, e.g. 入选.": "与 --stage 同用：只收录该阶段为这一状态的支部，如 入选。",
    "Date on the cover (default: today).": "封面上的日期（默认：今天）。",
    "Also write a PDF through LibreOffice.": "同时用 LibreOffice 转出 PDF（带书签，需安装 LibreOffice）。",
    "Run the whole flow on the bundled samples.": "用自带的样例跑一遍完整流程。",
    "Which campaign's samples to run.": "用哪个活动的样例。",
    "Restore the master as it was before the last apply.": "撤销上一次对台账的修改。",
    "Show the version and exit.": "显示版本号后退出。",
    "Open the campaign in FOLDER as a local web page (127.0.0.1 only).":
        "把活动文件夹作为本机网页打开（只在本机 127.0.0.1 可访问），在浏览器里完成收件、校验、合并、盖章和汇总。",
    "Port on 127.0.0.1 (default: a free one).": "使用的端口（默认：自动选一个空闲端口）。",
    "Do not open the browser; only print the address.": "不自动打开浏览器，只显示地址。",
    "Put an icon on the desktop that opens FOLDER's web page.": "在桌面放一个启动图标，双击即打开该活动文件夹的网页。",
    "Folder to put it in (default: the desktop).": "图标放在哪个文件夹（默认：桌面）。",
}

# Examples shown under each command's help (the same commands in both languages).
EXAMPLES = {
    "profiles": ["brandkit profiles", "brandkit profiles --profile hospital-brand"],
    "template": ["brandkit template --profile hospital-brand -o 申报表.xlsx",
                 "brandkit template --profile hospital-brand --master -o 台账.xlsm"],
    "validate": ["brandkit validate 收件箱/ --profile hospital-brand --report-dir 校验结果/",
                 "brandkit --json validate 申报表.xlsx --master 品牌台账.xlsx"],
    "init": ["brandkit init 品牌台账.xlsx --profile hospital-brand --roster 支部名单.xlsx",
             "brandkit init 2027品牌台账.xlsx --profile hospital-annual --year 2027",
             "brandkit init 台账.xlsx --profile college-feature --date 申报=2027-04-20",
             "brandkit init 品牌台账.xlsx --profile hospital-brand --office 党委办公室"],
    "merge": ["brandkit merge 品牌台账.xlsx 收件箱/ --dry-run", "brandkit merge 品牌台账.xlsx 收件箱/ --by 王干事",
              "brandkit merge 品牌台账.xlsx 收件箱/ -v"],
    "rollup": ["brandkit rollup 党委台账.xlsx 内科党总支台账.xlsx 外科党总支台账.xlsx 机关党总支台账.xlsx",
               "brandkit rollup 党委台账.xlsx 内科党总支台账.xlsx 外科党总支台账.xlsx --prefer 内科党总支台账.xlsx",
               "brandkit rollup 党委台账.xlsx 内科党总支台账.xlsx 外科党总支台账.xlsx --prefer 护理部党支部=外科党总支台账.xlsx"],
    "intake": ["brandkit intake 邮件导出/ -o 收件箱/",
               "brandkit intake imaps://dangban@163.com/INBOX -o 收件箱/ --move-to 已处理"],
    "stamp": ["brandkit stamp 品牌台账.xlsx --stage 党总支审批 --status 已通过 --branch 护理部党支部 --by 张三",
              "brandkit stamp 品牌台账.xlsx --paper --branch 护理部党支部 --date 2024-08-09 --copies 1"],
    "status": ["brandkit status 品牌台账.xlsx", "brandkit --json status 品牌台账.xlsx --date 2024-08-15"],
    "notify": ["brandkit notify 品牌台账.xlsx --dry-run",
               "brandkit notify 品牌台账.xlsx --by 2027-04-10",
               "brandkit notify 品牌台账.xlsx --send --user dangban@163.com",
               "brandkit notify 品牌台账.xlsx --send --user dangban@单位.cn --smtp mail.单位.cn --port 587 --only 催报 --again"],

    "summary": ["brandkit summary 品牌台账.xlsx -o 汇总.xlsx --png 图表/",
                "brandkit summary 品牌台账.xlsx -o 汇总.xlsx --as-of 2027-03-31"],
    "export": ["brandkit export 品牌台账.xlsx -o 进展.csv", "brandkit export 品牌台账.xlsx -o 进展.xlsx --as-of 2027-03-31"],
    "undo": ["brandkit undo 品牌台账.xlsx"],
    "booklet": ["brandkit booklet 品牌台账.xlsx -o 品牌汇编.docx",
                "brandkit booklet 品牌台账.xlsx -o 入选品牌.docx --stage 评选 --status 入选 --pdf"],
    "demo": ["brandkit demo", "brandkit demo 演示/ --profile university-project"],
    "serve": ["brandkit serve 品牌创建/", "brandkit serve 品牌创建/ --no-browser --port 8765"],
    "launcher": ["brandkit launcher 品牌创建/"],
}

# click's own messages (its gettext ids), English -> Chinese.
CLICK = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助后退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "No such option: {name}": "未知选项 {name}",
    "No such option {name!r}.": "未知选项 {name!r}。",
    "No such command {name!r}.": "没有 {name!r} 这个命令。",
    "Did you mean {possibility}?": "您是否指的是 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（您是否指的是其中之一：{possibilities}？）",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing command.": "缺少命令。",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} requires an argument.": "选项 {name!r} 后面需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 后面需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不需要值。",
    "Got unexpected extra argument ({args})": "多出了参数（{args}）",
    "Got unexpected extra arguments ({args})": "多出了参数（{args}）",
    "{name} {filename!r} does not exist.": "找不到{name} {filename!r}。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，这里需要文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，这里需要文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取（没有权限）。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入（没有权限）。",
    "{value!r} is not one of {choices}.": "{value!r} 不是可选值（{choices}）之一。",
    "{value!r} is not {choice}.": "{value!r} 应为 {choice}。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "{value!r} 不符合格式 {formats}。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "Aborted!": "已中止。",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
}
EXAMPLES_TITLE = {"zh": "示例：", "en": "Examples:"}


def tr(text: str | None) -> str | None:
    """One of our help texts in the current language (English is the source)."""
    if text is None or current_lang() == "en":
        return text
    return HELP.get(text.strip(), text)


def _gettext(message: str) -> str:
    return message if current_lang() == "en" else CLICK.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def install() -> None:
    """Point click's message lookups (module-level `_` and `ngettext`) at this catalogue."""
    for name in ("core", "exceptions", "parser", "types", "formatting", "decorators", "termui", "utils"):
        module = sys.modules.get(f"click.{name}")
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]


def localize(command: Any) -> Any:
    """Set a command's help, its options' help and its examples to the current language. The English
    source texts are kept on the objects, so switching language and back is exact."""
    source = command.__dict__.setdefault("_source_help", command.help)
    command.help = tr(source)
    command.short_help = None
    examples = EXAMPLES.get(command.name or "")
    command.epilog = ("\b\n" + EXAMPLES_TITLE[current_lang()] + "\n" + "\n".join(f"  {e}" for e in examples)
                      if examples else None)
    for param in command.params:
        if getattr(param, "help", None) is not None:
            param.help = tr(param.__dict__.setdefault("_source_help", param.help))
    return command
