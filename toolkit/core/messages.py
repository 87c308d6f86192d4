"""The message catalogue: every validation rule's title and message, in Chinese (default) and English.

Modelled on frictionless' error catalogue: a stable rule id, a title, a template with named figures.
A rule may have variants ("integer.unit", "range.max") for the same id; `RULES` lists the ids only.
Templates say what is wrong, with the actual figure, and what to do. `BRANDKIT_LANG=en` switches
language when no `lang` is passed.
"""

from __future__ import annotations

import os
import string
from typing import Any

# rule (or rule.variant) -> {"title": (zh, en), "zh": template, "en": template}
CATALOGUE: dict[str, dict[str, Any]] = {
    "required": {
        "title": ("必填项未填写", "Required field missing"),
        "zh": "“{field}”未填写，这是必填项，请补充填写",
        "en": "'{field}' is empty; it is required, please fill it in",
    },
    "required.signature": {
        "zh": "“{field}”在电子版中为空，请确认纸质版已签字盖章",
        "en": "'{field}' is blank in the electronic copy; make sure the paper copy is signed and stamped",
    },
    "required.signature_dated": {
        "zh": "“{field}”只写了日期“{value}”，没有签字（日期不是签名）；电子版可以不签，请确认纸质版已签字盖章",
        "en": "'{field}' holds only a date ('{value}'), no signature (a date is not a name); make sure the "
              "paper copy is signed and stamped",
    },
    "required.placeholder": {
        "zh": "“{field}”只写了“{value}”，等于没有填写；这是必填项，请在申报表的这一栏里直接写明{field}的内容"
              "（不要只写“无”“详见附件”“同上”等，附件中的内容不会录入台账）",
        "en": "'{field}' only says '{value}', which leaves it unfilled; it is required: write the {field} itself "
              "in this box of the form (not just 'none', 'see attachment' or 'as above': attachments are not "
              "entered in the ledger)",
    },
    "required.formula": {
        "zh": "“{field}”一栏是公式“{formula}”，但文件中没有保存公式的计算结果（文件可能是用程序生成的，"
              "没有在 Excel/WPS 中保存过），读不到数值；请在 Excel/WPS 中打开该文件、保存后重新提交，或直接填写数值",
        "en": "'{field}' holds the formula '{formula}' but the file has no saved result for it (it was probably "
              "written by a program, never saved in Excel/WPS), so there is no value to read; open the file "
              "in Excel/WPS, save it and resubmit, or type the value itself",
    },
    "required.rows": {
        "zh": "“{field}”至少需要填写 {min} 行，现有 {count} 行，请补充",
        "en": "'{field}' needs at least {min} row(s), found {count}; please add them",
    },
    "required.blank_form": {
        "zh": "申报表“{sheet}”是空白的，没有填写任何内容，请填写后重新提交",
        "en": "the form on sheet '{sheet}' is blank; fill it in and resubmit",
    },
    "max_chars": {
        "title": ("超过字数上限", "Too long"),
        "zh": "“{field}”{count} 字，超过 {limit} 字上限，请精简到 {limit} 字以内",
        "en": "'{field}' has {count} characters, over the limit of {limit}; shorten it to {limit} or fewer",
    },
    "max_chars.parts": {
        "zh": "“{field}”共 {count} 字（{parts}），超过 {limit} 字上限；各部分合计不超过 {limit} 字，请精简",
        "en": "'{field}' has {count} characters in all ({parts}), over the limit of {limit} for all parts together; shorten it",
    },
    "min_chars": {
        "title": ("字数不足", "Too short"),
        "zh": "“{field}”只有 {count} 字，少于 {limit} 字的要求，请补充到至少 {limit} 字",
        "en": "'{field}' has only {count} characters, fewer than the required {limit}; please expand it",
    },
    "min_chars.parts": {
        "zh": "“{field}”共 {count} 字（{parts}），少于 {limit} 字的要求，请补充",
        "en": "'{field}' has only {count} characters in all ({parts}), fewer than the required {limit}; please expand it",
    },
    "integer": {
        "title": ("不是整数", "Not a whole number"),
        "zh": "“{field}”应填整数，现填“{value}”，请改为阿拉伯数字（如 23）",
        "en": "'{field}' must be a whole number, found '{value}'; write digits only (e.g. 23)",
    },
    "integer.unit": {
        "zh": "“{field}”填的是“{value}”，已按 {number} 读取；请只填数字 {number}",
        "en": "'{field}' reads '{value}', taken as {number}; please write just the number {number}",
    },
    "range": {
        "title": ("超出范围", "Out of range"),
        "zh": "“{field}”为 {value}，不在 {min}～{max} 之间，请核对后修改",
        "en": "'{field}' is {value}, outside {min}–{max}; please check it",
    },
    "range.min": {
        "zh": "“{field}”为 {value}，小于最小值 {min}，请核对后修改",
        "en": "'{field}' is {value}, below the minimum {min}; please check it",
    },
    "range.max": {
        "zh": "“{field}”为 {value}，大于最大值 {max}，请核对后修改",
        "en": "'{field}' is {value}, above the maximum {max}; please check it",
    },
    "range.not_number": {
        "zh": "“{field}”应填数字，现填“{value}”，请改为阿拉伯数字",
        "en": "'{field}' must be a number, found '{value}'; write digits only",
    },
    "phone": {
        "title": ("电话号码无效", "Invalid phone number"),
        "zh": "“{field}”“{value}”不是有效的电话号码，请填写 11 位手机号（如 13812345678）"
              "或带区号的座机号（如 0471-1234567）",
        "en": "'{field}' '{value}' is not a valid phone number; write an 11-digit mobile (13812345678) "
              "or a landline with area code (0471-1234567)",
    },
    "phone.local": {
        "zh": "“{field}”“{value}”是没有区号的座机号，外地无法拨通；请加上区号（如 {example}）",
        "en": "'{field}' '{value}' is a landline without its area code; add the area code (e.g. {example})",
    },
    "email": {
        "title": ("邮箱地址无效", "Invalid email address"),
        "zh": "“{field}”“{value}”不是有效的电子邮箱地址，请核对（如 name@example.com）",
        "en": "'{field}' '{value}' is not a valid email address (e.g. name@example.com)",
    },
    "date": {
        "title": ("日期无法识别", "Unrecognised date"),
        "zh": "“{field}”“{value}”不是可识别的日期，请按“2024年7月11日”的格式填写",
        "en": "'{field}' '{value}' is not a date we can read; write it like 2024-07-11",
    },
    "date.yearless": {
        "zh": "“{field}”写的是“{value}”，没有年份，已按本次活动的年份读作 {date}；如不对请写明年份",
        "en": "'{field}' date '{value}' has no year; read as {date}, the campaign's year; write the year if "
              "that is wrong",
    },
    "date.no_such_day": {
        "zh": "“{field}”填的是“{value}”，但没有{day}这一天，请核对后改正",
        "en": "'{field}' reads '{value}', but there is no such day as {day}; please check and correct it",
    },
    "date.kept": {
        "zh": "“{field}”填的是“{value}”，不是可识别的日期，已按原文保存；如有确切时间，请写成“2025年12月31日”"
              "或“2025年12月”",
        "en": "'{field}' reads '{value}', which is not a date we can read; it is kept as written. If there is a "
              "definite time, write it like 2025-12-31 or 2025-12",
    },
    "enum": {
        "title": ("不在可选范围", "Not an allowed value"),
        "zh": "“{field}”填的是“{value}”，不在可选范围（{choices}）内，您是否指的是“{suggestion}”？"
              "请从可选值中选择",
        "en": "'{field}' is '{value}', not one of ({choices}); did you mean '{suggestion}'? "
              "Choose one of the allowed values",
    },
    "enum.open": {
        "zh": "“{field}”选择了“{value}”，请在其后注明具体内容（如“{value}：……”）",
        "en": "'{field}' is '{value}'; please state what it is after it (e.g. '{value}: ...')",
    },
    "enum.ticked_many": {
        "zh": "“{field}”勾选了{ticked}共 {count} 项，只能选一项；请只保留一个勾选（☑ 或 √）后重新提交",
        "en": "'{field}' has {count} choices ticked ({ticked}); only one is allowed, keep one tick and resubmit",
    },
    "pattern": {
        "title": ("格式不正确", "Wrong format"),
        "zh": "“{field}”“{value}”格式不正确，应为：{expected}，请按填报说明修改",
        "en": "'{field}' '{value}' has the wrong format; expected: {expected}",
    },
    "image_missing": {
        "title": ("缺少图片", "Picture missing"),
        "zh": "未找到“{field}”图片，请在该栏插入 {formats} 格式的图片，或随邮件附上图片文件",
        "en": "No '{field}' picture found; insert a {formats} picture in that cell or attach the file",
    },
    "image_missing.attachment": {
        "zh": "表中“{field}”一栏没有图片，已采用同一封邮件附带的图片“{file}”作为{field}；如不是，请在表中插入"
              "标识图片后重新提交",
        "en": "No '{field}' picture in the form; the picture '{file}' sent in the same mail was taken as it; "
              "if that is wrong, insert the picture in the form and resubmit",
    },
    "image_missing.attachments": {
        "zh": "未找到“{field}”图片；同一封邮件附带了 {files}，无法确定哪一张是{field}。请在表中插入 {formats} "
              "格式的图片，或把图片文件以支部名称或“标识”命名后重新发送",
        "en": "No '{field}' picture found; the mail came with {files} and none can be told to be it. Insert a "
              "{formats} picture in the form, or name the picture file after the branch or '标识/logo' and "
              "send it again",
    },
    "image_format": {
        "title": ("图片格式不支持", "Unsupported picture format"),
        "zh": "“{field}”图片是 {format} 格式，不支持；请另存为 {formats} 格式后重新插入",
        "en": "The '{field}' picture is {format}, which is not accepted; save it as {formats} and insert it "
              "again",
    },
    "image_size": {
        "title": ("图片尺寸不合适", "Picture size unsuitable"),
        "zh": "“{field}”图片只有 {width}×{height} 像素，短边小于 {min_side} 像素，打印会模糊，请换用更清晰的图片",
        "en": "The '{field}' picture is only {width}×{height} px, shorter side under {min_side} px; "
              "use a sharper picture",
    },
    "image_missing.linked": {
        "zh": "“{field}”的图片只是指向外部文件“{target}”的链接，没有插入到文档中（为安全起见不会去读取外部文件）；"
              "请在 Word/WPS 中用“插入→图片”直接插入图片（不要选“链接到文件”）后重新提交",
        "en": "The '{field}' picture is only a link to the outside file '{target}' and is not in the document "
              "(outside files are never fetched); insert the picture itself (not 'Link to File') and resubmit",
    },
    "image_missing.linked_sheet": {
        "zh": "“{field}”的图片只是指向外部文件“{target}”的链接，没有插入到表格中（为安全起见不会去读取外部文件）；"
              "请在 Excel/WPS 中用“插入→图片”直接插入图片（不要选“链接到文件”）后重新提交",
        "en": "The '{field}' picture is only a link to the outside file '{target}' and is not in the workbook "
              "(outside files are never fetched); insert the picture itself (not 'Link to File') and resubmit",
    },
    "image_size.large": {
        "zh": "“{field}”图片为 {width}×{height} 像素（{megapixels} 百万像素），超过 {limit} 百万像素上限，"
              "请缩小后重新插入",
        "en": "The '{field}' picture is {width}×{height} px ({megapixels} MP), over the {limit} MP limit; "
              "scale it down",
    },
    "image_size.too_many": {
        "zh": "“{field}”图片像素过多，超过 {limit} 百万像素上限，请缩小后重新插入",
        "en": "The '{field}' picture has too many pixels, over the {limit} MP limit; scale it down",
    },
    # A logo decoded as the merge decodes it (toolkit.readers.logos): what is wrong with the picture itself.
    "image_format.unknown": {
        "zh": "“{field}”图片是无法识别的图片格式（如苹果手机的 HEIC 照片），无法显示；请用看图软件把图片"
              "另存为 {formats} 格式（或截图保存）后重新插入",
        "en": "The '{field}' picture is in a format that cannot be recognised (such as an iPhone HEIC photo); "
              "save it as {formats} (or take a screenshot of it) and insert it again",
    },
    "image_format.empty": {
        "zh": "“{field}”图片是空的（0 字节，图片内容已丢失），无法显示；请重新插入 {formats} 格式的图片后提交",
        "en": "The '{field}' picture is empty (0 bytes: its content is lost); insert a {formats} picture again "
              "and resubmit",
    },
    "image_format.broken": {
        "zh": "“{field}”图片（{format} 格式）数据不完整或已损坏，无法显示（常见于图片没有完整复制、下载或保存）；"
              "请找到原图重新插入，或用看图软件打开后另存为 {formats} 格式再插入",
        "en": "The '{field}' picture ({format}) is incomplete or damaged and cannot be shown (often a copy, "
              "download or save that was cut short); insert the original again, or open it and save it as "
              "{formats} before inserting it",
    },
    "image_several": {
        "title": ("图片不止一张", "Several pictures"),
        "zh": "“{field}”一栏有 {count} 张图片，已采用{chosen}作为{field}，未采用{others}；如采用的不对，"
              "请在该栏只保留正确的一张后重新提交",
        "en": "The '{field}' cell holds {count} pictures; {chosen} was taken as the {field}, not {others}. "
              "If that is the wrong one, keep only the right picture in that cell and resubmit",
    },
    "unknown_branch": {
        "title": ("支部名称与台账不符", "Unknown branch"),
        "zh": "“{field}”填的是“{value}”，台账中没有这个支部，您是否指的是 {suggestions}？请按台账中的名称填写",
        "en": "'{field}' is '{value}', which is not in the ledger; did you mean {suggestions}? "
              "Use the name as listed in the ledger",
    },
    "unknown_branch.none": {
        "zh": "“{field}”填的是“{value}”，台账中没有这个支部，也没有相近的名称；请核对名称，"
              "或请党办先将该支部加入台账",
        "en": "'{field}' is '{value}', which is not in the ledger and resembles no listed branch; check "
              "the name or ask the office to add the branch",
    },
    "duplicate_submission": {
        "title": ("重复提交", "Submitted more than once"),
        "zh": "“{branch}”提交了多份申报表，本份（{file}）已被较新的“{newer}”取代，以较新的一份为准",
        "en": "'{branch}' submitted more than once; this file ({file}) is superseded by the newer "
              "'{newer}', which is used",
    },
    "duplicate_submission.same_file": {
        "zh": "“{branch}”的申报表在本文件中有 {count} 张（{sheets}），同一文件中的几张分不出哪张是最终版，均未合并；"
              "请只保留最终的一张，删去其余工作表后重新提交",
        "en": "This file holds {count} forms of '{branch}' ({sheets}); forms in one file have no order, so none "
              "is merged. Keep the final one, delete the other sheets and resubmit",
    },
    "duplicate_brand_name": {
        "title": ("品牌名称重复", "Brand name used twice"),
        "zh": "品牌名称“{value}”与“{other}”（{other_file}）相同，请确认是否重名，必要时修改品牌名称",
        "en": "Brand name '{value}' is also used by '{other}' ({other_file}); please check and rename if "
              "needed",
    },
    "similar_text": {
        "title": ("内容雷同", "Text nearly identical"),
        "zh": "“{field}”与“{other}”（{other_file}）的相似度为 {score}%，达到 {threshold}% 的雷同线，"
              "请确认为本支部原创内容",
        "en": "'{field}' is {score}% similar to '{other}' ({other_file}), at or above the {threshold}% "
              "threshold; please make sure it is your branch's own text",
    },
    "similar_text.error": {
        "zh": "“{field}”与“{other}”（{other_file}）的相似度为 {score}%，达到 {threshold}% 的雷同线；"
              "按通知要求不得抄袭，请修改为本支部原创内容后重新提交",
        "en": "'{field}' is {score}% similar to '{other}' ({other_file}), at or above {threshold}%; "
              "copying is not allowed: rewrite it as your branch's own text and resubmit",
    },
    "similar_text.more": {
        "zh": "（另有 {count} 份申报表的该项内容也达到雷同线）",
        "en": " ({count} more submissions are at or above the threshold too)",
    },
    "template_mismatch": {
        "title": ("模板不符", "Wrong form template"),
        "zh": "本表是“{found}”活动的申报表模板，与本次活动（{expected}）不符，请下载本次活动的申报表模板重新填写",
        "en": "This form is the template of campaign '{found}', not of this campaign ({expected}); please "
              "fill in this campaign's form",
    },
    "template_mismatch.field": {
        "zh": "申报表中没有找到“{field}”一栏，可能用了其他活动或旧版的模板；请使用本次活动的申报表模板，不要删改栏目名称",
        "en": "No '{field}' field found; this may be another campaign's or an old template. Use the current "
              "form and keep its labels",
    },
    "template_mismatch.table": {
        "zh": "申报表中没有找到“{table}”表格（表头行），请使用本次活动的申报表模板，不要删改表头",
        "en": "No '{table}' table (header row) found; use the current form and keep its headers",
    },
    "template_mismatch.no_form": {
        "zh": "文件中没有找到申报表（没有“{labels}”等栏目），请使用本次活动的申报表模板填写后重新提交",
        "en": "No application form found in the file (no fields such as {labels}); fill in this campaign's "
              "form and resubmit",
    },
    "template_mismatch.hidden_sheet": {
        "zh": "申报表工作表“{sheet}”被隐藏，已照常读取其中的内容；请在 Excel/WPS 中右键工作表标签→“取消隐藏”后"
              "保存，如它不是要提交的申报表，请删除该工作表",
        "en": "The form's sheet '{sheet}' is hidden; it was read all the same. Unhide it in Excel/WPS "
              "(right-click a sheet tab → Unhide) and save, or delete it if it is not the form you meant to send",
    },
    "template_mismatch.form_copy": {
        "zh": "“{file}”是申报表的盖章版或扫描件，已留存备查，但其中的内容不能读入台账；没有收到{branch}的 Excel/Word "
              "电子版申报表，请{branch}另发电子版申报表（Excel 或 Word，内容与盖章版一致）",
        "en": "'{file}' is a sealed or scanned copy of the form: it is kept, but its entries cannot be read into the "
              "master, and no Excel/Word form of {branch} came. Ask {branch} to send the form as an Excel or Word "
              "file too",
    },
    "template_mismatch.master": {
        "zh": "这是台账（有“{sheet}”工作表），不是支部的申报表；请把台账放在收件箱以外的文件夹",
        "en": "This is a master workbook (it has a '{sheet}' sheet), not a branch form; keep masters out of the "
              "inbox folder",
    },
    "formula_injection": {
        "title": ("内容以公式符号开头", "Looks like a formula"),
        "zh": "“{field}”“{value}”以“{char}”开头，在 Excel 中会被当作公式；已按文本保存，请删除开头的“{char}”",
        "en": "'{field}' '{value}' starts with '{char}', which Excel treats as a formula; it is kept as "
              "text, please remove the leading '{char}'",
    },
    "formula_injection.long": {
        "zh": "“{field}”以“{char}”开头，在 Excel 中可能被当作公式；已按文本保存，如非有意请改用“一、”“1.”等开头",
        "en": "'{field}' starts with '{char}', which Excel may treat as a formula; it is kept as text. "
              "Start with '1.' or similar if that was not intended",
    },
    "cell_too_long": {
        "title": ("超过单元格容量", "Too long for a cell"),
        "zh": "“{field}”有 {count} 个字符，超过 Excel 单元格最多 {limit} 个字符的上限，存入台账会被截断；请精简后重新提交",
        "en": "'{field}' has {count} characters, more than the {limit} an Excel cell holds; it would be cut "
              "in the master, please shorten it",
    },
    "missing_section": {
        "title": ("缺少规定部分", "Required section missing"),
        "zh": "“{field}”缺少“{section}”部分：通知要求按“{sections}”撰写，请补上这一部分（以它为标题）后重新提交",
        "en": "'{field}' lacks the section '{section}': the notice asks for '{sections}'; add it under that "
              "heading and resubmit",
    },
    "photo_count": {
        "title": ("照片数量不符", "Wrong number of photos"),
        "zh": "“{field}”收到 {count} 张照片，通知要求 {wanted} 张，请补充后重新提交",
        "en": "'{field}': {count} photo(s) received, the notice asks for {wanted}; send the rest",
    },
    "photo_count.max": {
        "zh": "“{field}”收到 {count} 张照片，通知要求 {wanted} 张，请挑选后只保留要求的张数",
        "en": "'{field}': {count} photos received, the notice asks for {wanted}; keep only that many",
    },
    "photo_size": {
        "title": ("照片不够清晰", "Photo too small"),
        "zh": "“{field}”中的照片“{file}”只有 {width}×{height} 像素，长边不足 {min_side} 像素，请换用原图后重新提交",
        "en": "The '{field}' photo '{file}' is only {width}×{height} px, under {min_side} px on its long side; "
              "send the original",
    },
    "link_count": {
        "title": ("新闻稿件不足", "Too few news links"),
        "zh": "“{field}”只找到 {count} 个新闻链接，通知要求至少 {min} 篇；请把已刊发新闻稿件的网址写在报告中"
              "或 .txt 文件里发送",
        "en": "'{field}': only {count} news link(s) found, the notice asks for at least {min}; put the "
              "published articles' addresses in the report or a .txt file",
    },
    "unreadable": {
        "title": ("文件无法读取", "File unreadable"),
        # The text comes from UNREADABLE_REASONS: message("unreadable", reason="encrypted", file=...).
    },
}

RULES: tuple[str, ...] = (
    "required", "max_chars", "min_chars", "integer", "range", "phone", "email", "date", "enum", "pattern",
    "image_missing", "image_format", "image_size", "unknown_branch", "duplicate_submission",
    "duplicate_brand_name", "similar_text", "template_mismatch", "formula_injection", "unreadable",
    "cell_too_long", "missing_section", "photo_count", "photo_size", "link_count", "image_several",
)

# Why a file is unreadable, keyed by toolkit.readers.errors.Unreadable.reason. A reason may have several
# templates, fullest first: the first whose figures were all given is used, so a reader that knows the
# size says it, and one that does not still gets a clear sentence. `file` and `detail` are added by
# unreadable_reason() around whichever template is chosen.
UNREADABLE_REASONS: dict[str, dict[str, tuple[str, ...]]] = {
    "encrypted": {
        "zh": ("文件设有密码（加密），无法读取。请在 Excel/WPS 中去掉密码后重新提交",),
        "en": ("the file is password-protected (encrypted). Remove the password in Excel/WPS and resubmit",),
    },
    "corrupt": {
        "zh": ("文件已损坏或不完整（可能下载中断）。请用 Excel/WPS 打开确认后重新保存并提交",),
        "en": ("the file is damaged or incomplete (perhaps a broken download). Open it in Excel/WPS, save "
               "it again and resubmit",),
    },
    "empty": {
        "zh": ("文件是空的（0 字节）。请确认附件是填好的申报表后重新提交",),
        "en": ("the file is empty (0 bytes). Attach the filled-in form and resubmit",),
    },
    "not_spreadsheet": {
        "zh": ("这不是 Excel/WPS 表格文件或 Word 文档（识别为{what}）。请提交 .xlsx、.xls、.et 或 .docx 格式的申报表",
               "这不是 Excel/WPS 表格文件或 Word 文档。请提交 .xlsx、.xls、.et 或 .docx 格式的申报表"),
        "en": ("this is not a spreadsheet or Word document (looks like {what}). Submit the form as .xlsx, "
               ".xls, .et or .docx",
               "this is not a spreadsheet or Word document. Submit the form as .xlsx, .xls, .et or .docx"),
    },
    "macro": {
        "zh": ("这是{what}，其中含有宏（VBA 代码），为安全起见不予读取。请在 Word/WPS 中“另存为”不含宏的 .docx "
               "文档（或使用 Excel 申报表）后重新提交",
               "文件中含有宏（VBA 代码），为安全起见不予读取。请另存为不含宏的 .docx 文档（或使用 Excel 申报表）后重新提交"),
        "en": ("this is a {what} containing macros (VBA code) and was not read for safety. Save it in "
               "Word/WPS as a .docx without macros (or use the Excel form) and resubmit",
               "the file contains macros (VBA code) and was not read for safety. Save it as a .docx "
               "without macros (or use the Excel form) and resubmit"),
    },
    "needs_office": {
        "zh": ("这是{what}，本机未安装 LibreOffice，无法读取；请另存为 .docx 或使用 Excel 申报表后重新提交",
               "本机未安装 LibreOffice，无法读取此类文档；请另存为 .docx 或使用 Excel 申报表后重新提交"),
        "en": ("this is a {what}; LibreOffice is not installed here, so it cannot be read. Save it as .docx "
               "or use the Excel form and resubmit",
               "LibreOffice is not installed here, so this document cannot be read. Save it as .docx or use "
               "the Excel form and resubmit"),
    },
    "convert_failed": {
        "zh": ("这是{what}，LibreOffice 未能转换（{why}），文件可能已损坏；请另存为 .docx 或使用 Excel 申报表后重新提交",
               "这是{what}，LibreOffice 未能转换，文件可能已损坏；请另存为 .docx 或使用 Excel 申报表后重新提交"),
        "en": ("this is a {what} that LibreOffice could not convert ({why}); it may be damaged. Save it as "
               ".docx or use the Excel form and resubmit",
               "this is a {what} that LibreOffice could not convert; it may be damaged. Save it as .docx or "
               "use the Excel form and resubmit"),
    },
    "form_unreadable": {
        "zh": ("文档像是申报表（有{labels}等字样），但没有按表格填写，无法逐栏读取。"
               "请把内容填入通知所附申报表的表格中（或使用本次活动的申报表模板），不要改成段落、文本框或图片，"
               "然后重新提交",),
        "en": ("the document looks like the application form (it reads {labels}) but is not laid out as "
               "its table, so its fields cannot be read. Fill in the table of the form the notice attaches "
               "(or this campaign's template), not paragraphs, text boxes or pictures, and resubmit",),
    },
    "too_large": {
        "zh": ("文件大小 {size_mb} MB，超过 {limit_mb} MB 上限。请压缩其中的图片（或删去无关工作表）后重新提交",
               "文件太大，超过上限。请压缩其中的图片（或删去无关工作表）后重新提交"),
        "en": ("the file is {size_mb} MB, over the {limit_mb} MB limit. Compress its pictures (or delete "
               "unrelated sheets) and resubmit",
               "the file is too large. Compress its pictures (or delete unrelated sheets) and resubmit"),
    },
    "too_many_cells": {
        "zh": ("工作表的使用范围达 {rows} 行 × {cols} 列，超过 {limit} 个单元格的上限（常见于把格式拖到了整行整列）。"
               "请删除多余的行列后重新保存提交",
               "工作表的使用范围过大（常见于把格式拖到了整行整列）。请删除多余的行列后重新保存提交"),
        "en": ("a sheet spans {rows} rows × {cols} columns, over the {limit}-cell limit (often formatting "
               "dragged over whole rows/columns). Delete the extra rows and columns, save and resubmit",
               "a sheet's used range is too large (often formatting dragged over whole rows/columns). "
               "Delete the extra rows and columns, save and resubmit"),
    },
    "zip_bomb": {
        "zh": ("文件解压后异常膨胀，为安全起见未读取。请用 Excel/WPS 另存为新文件后重新提交",),
        "en": ("the file expands abnormally when unpacked and was not read for safety. Save it as a new "
               "file in Excel/WPS and resubmit",),
    },
    "timeout": {
        "zh": ("读取超过 {seconds} 秒仍未完成，已放弃。请用 Excel/WPS 另存为新文件（删去无关内容）后重新提交",
               "读取超时，已放弃。请用 Excel/WPS 另存为新文件（删去无关内容）后重新提交"),
        "en": ("reading took more than {seconds} s and was stopped. Save it as a new file in Excel/WPS "
               "(without unrelated content) and resubmit",
               "reading took too long and was stopped. Save it as a new file in Excel/WPS (without "
               "unrelated content) and resubmit"),
    },
    "crashed": {
        "zh": ("读取时出错，文件内容可能不规范。请用 Excel/WPS 打开后另存为 .xlsx 重新提交",),
        "en": ("reading failed; the file may be malformed. Open it in Excel/WPS, save as .xlsx and "
               "resubmit",),
    },
    "xml_attack": {
        "zh": ("文件中含有不安全的 XML 结构（外部实体或实体膨胀），为安全起见未读取。请用 Excel/WPS 另存为新文件后重新提交",),
        "en": ("the file contains unsafe XML (external or expanding entities) and was not read for "
               "safety. Save it as a new file in Excel/WPS and resubmit",),
    },
    "io_error": {
        "zh": ("无法打开文件（可能正被其他程序占用或没有权限）。请关闭占用它的程序后重试",),
        "en": ("the file could not be opened (in use by another program, or no permission). Close that "
               "program and try again",),
    },
}
_DETAIL = {"zh": "（详情：{detail}）", "en": " (detail: {detail})"}
_FILE = {"zh": "{file}：", "en": "{file}: "}


def current_lang(lang: str | None = None) -> str:
    """'zh' or 'en': the given language, else BRANDKIT_LANG, else Chinese."""
    lang = lang or os.environ.get("BRANDKIT_LANG") or "zh"
    return "en" if lang.lower().startswith("en") else "zh"


def _entry(rule: str) -> dict[str, Any]:
    """Catalogue entry of "rule", "rule.variant" or "rule_variant" (both separators are accepted)."""
    if rule in CATALOGUE:
        return CATALOGUE[rule]
    for base in RULES:
        if rule.startswith(base + "_") and f"{base}.{rule[len(base) + 1:]}" in CATALOGUE:
            return CATALOGUE[f"{base}.{rule[len(base) + 1:]}"]
    raise KeyError(f"no message for rule {rule!r}")


def title(rule: str, lang: str | None = None) -> str:
    """The short title of a rule id (a variant gets its rule's title)."""
    zh, en = CATALOGUE[rule.split(".")[0]]["title"]
    return en if current_lang(lang) == "en" else zh


def message(rule: str, lang: str | None = None, **params: Any) -> str:
    """The message for `rule` (or a variant "rule.variant") with its figures filled in.

    A missing figure raises KeyError naming it: a message without its figure is no use.
    `unreadable` takes reason=<key of UNREADABLE_REASONS> and that reason's figures."""
    if rule == "unreadable":
        return unreadable_reason(lang=lang, **params)
    return _entry(rule)[current_lang(lang)].format(**params)


def unreadable_reason(reason: str, lang: str | None = None, **params: Any) -> str:
    """Why a file cannot be read and what to do: "申报表.xlsx：文件设有密码（加密），无法读取。请…".

    `file` (prefix) and `detail` (suffix) are optional; an unknown reason reads as `crashed`."""
    lang = current_lang(lang)
    entry = UNREADABLE_REASONS.get(reason, UNREADABLE_REASONS["crashed"])
    given = {k for k, v in params.items() if v not in (None, "")}
    template = next(t for t in entry[lang] if _fields(t) <= given or t is entry[lang][-1])
    text = template.format(**params)
    if "detail" in given:
        text += _DETAIL[lang].format(detail=params["detail"])
    if "file" in given:
        text = _FILE[lang].format(file=params["file"]) + text
    return text


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# What init says of the roster file (支部名单) the office gave it: the office reads these, not a branch,
# so they speak of the roster and of running init again, never of resubmitting a form. Unreadable
# reasons not listed here read as `crashed`.
ROSTER_MESSAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "encrypted": {
        "zh": ("名单文件 {file} 设有密码（加密），无法读取。请在 Excel/WPS 中去掉密码后重新运行",),
        "en": ("the roster {file} is password-protected (encrypted). Remove the password in Excel/WPS and run "
               "again",),
    },
    "corrupt": {
        "zh": ("名单文件 {file} 已损坏或不完整，无法读取。请用 Excel/WPS 打开确认后另存为 .xlsx，再重新运行",),
        "en": ("the roster {file} is damaged or incomplete. Open it in Excel/WPS, save it as .xlsx and run "
               "again",),
    },
    "empty": {
        "zh": ("名单文件 {file} 是空的。请选择列有各党支部的支部名单",),
        "en": ("the roster {file} is empty. Choose the roster that lists the branches",),
    },
    "not_spreadsheet": {
        "zh": ("名单文件 {file} 不是表格（识别为{what}）。支部名单请用 Excel/WPS 表格（.xlsx、.xls、.et）或 CSV "
               "文件，每个支部一行",
               "名单文件 {file} 不是表格。支部名单请用 Excel/WPS 表格（.xlsx、.xls、.et）或 CSV 文件，每个支部一行"),
        "en": ("the roster {file} is not a spreadsheet (looks like {what}). Give the roster as an Excel/WPS "
               "sheet (.xlsx, .xls, .et) or a CSV file, one branch a row",
               "the roster {file} is not a spreadsheet. Give the roster as an Excel/WPS sheet (.xlsx, .xls, "
               ".et) or a CSV file, one branch a row"),
    },
    "macro": {
        "zh": ("名单文件 {file} 是{what}，含有宏（VBA 代码），为安全起见不予读取。请把名单另存为 .xlsx 后重新运行",
               "名单文件 {file} 含有宏（VBA 代码），为安全起见不予读取。请把名单另存为 .xlsx 后重新运行"),
        "en": ("the roster {file} is a {what} containing macros (VBA code) and was not read for safety. Save "
               "the roster as .xlsx and run again",
               "the roster {file} contains macros (VBA code) and was not read for safety. Save the roster as "
               ".xlsx and run again"),
    },
    "needs_office": {
        "zh": ("名单文件 {file} 是{what}，本机未安装 LibreOffice，无法读取。请把名单另存为 .xlsx 后重新运行",
               "名单文件 {file} 需要 LibreOffice 才能读取，本机未安装。请把名单另存为 .xlsx 后重新运行"),
        "en": ("the roster {file} is a {what}; LibreOffice is not installed here. Save the roster as .xlsx "
               "and run again",
               "the roster {file} needs LibreOffice, which is not installed here. Save the roster as .xlsx "
               "and run again"),
    },
    "convert_failed": {
        "zh": ("名单文件 {file} 是{what}，未能转换，可能已损坏。请把名单另存为 .xlsx 后重新运行",
               "名单文件 {file} 未能转换，可能已损坏。请把名单另存为 .xlsx 后重新运行"),
        "en": ("the roster {file} is a {what} that could not be converted; it may be damaged. Save the "
               "roster as .xlsx and run again",
               "the roster {file} could not be converted; it may be damaged. Save the roster as .xlsx and "
               "run again"),
    },
    "form_unreadable": {
        "zh": ("名单文件 {file} 中的名单没有写成表格，无法逐行读取。请把名单做成表格（每个支部一行）或另存为 .xlsx 后"
               "重新运行",),
        "en": ("the roster {file} is not laid out as a table, so it cannot be read row by row. Make it a "
               "table (one branch a row) or save it as .xlsx and run again",),
    },
    "io_error": {
        "zh": ("名单文件 {file} 无法打开（可能正被其他程序占用或没有权限）。请关闭占用它的程序后重试",),
        "en": ("the roster {file} could not be opened (in use by another program, or no permission). Close "
               "that program and try again",),
    },
    "crashed": {
        "zh": ("名单文件 {file} 读取时出错，内容可能不规范。请用 Excel/WPS 打开后另存为 .xlsx，再重新运行",),
        "en": ("reading the roster {file} failed; it may be malformed. Open it in Excel/WPS, save it as "
               ".xlsx and run again",),
    },
    "no_branch_column": {
        "zh": ("名单文件 {file} 中没有找到“党支部名称”列：支部名单应是一张表，第一行写“党总支”“党支部名称”等列名，"
               "每个支部一行",),
        "en": ("no '党支部名称' (branch name) column in the roster {file}: the roster is a table with headings "
               "such as 党总支 and 党支部名称 in its first row, one branch a row",),
    },
    "not_branches": {
        "zh": ("名单文件 {file} 不像支部名单：“党支部名称”下是{names}等，不是支部名称（可能选成了申报表或通知）。"
               "请选择每个支部一行、含“党总支”“党支部名称”列的名单",),
        "en": ("the roster {file} does not look like a roster: under '党支部名称' it reads {names}, which are "
               "no branch names (perhaps a form or a notice was chosen). Choose the roster with a 党总支 and a "
               "党支部名称 column, one branch a row",),
    },
    "read_from": {
        "zh": ("支部名单：{file} 的“{sheet}”工作表，{count} 个支部", "支部名单：{file}，{count} 个支部"),
        "en": ("roster: sheet '{sheet}' of {file}, {count} branches", "roster: {file}, {count} branches"),
    },
    "several_sheets": {
        "zh": ("名单文件 {file} 中有 {n} 张工作表像支部名单（{sheets}），读入的是{which}“{sheet}”（{count} 个支部）；"
               "如应读另一张，请在 Excel/WPS 中切换到那张工作表后保存，再重新运行",),
        "en": ("{n} sheets of the roster {file} look like rosters ({sheets}); {which}'{sheet}' was read ({count} "
               "branches). If another is meant, open that sheet in Excel/WPS, save, and run again",),
    },
    "hidden_rows": {
        "zh": ("名单中第 {rows} 行（{names}）在 Excel/WPS 中是隐藏的，也作为支部读入了；如已撤销或不参加，请在台账和"
               "“支部名单”工作表中删去",),
        "en": ("hidden row(s) {rows} of the roster ({names}) were read as branches too; if they are dissolved "
               "or take no part, delete them from the ledger and the 支部名单 sheet",),
    },
    "skipped_rows": {
        "zh": ("名单第 {rows} 行（{texts}）是合计或说明，不是支部，未读入",),
        "en": ("row(s) {rows} of the roster ({texts}) are a total or a note, not branches, and were not read",),
    },
}
ROSTER_WHICH = {"active": {"zh": "打开时显示的", "en": "the one it opens on, "},
                "first": {"zh": "第一张", "en": "the first, "}}


def roster_message(key: str, lang: str | None = None, **params: Any) -> str:
    """A message about the roster file: `key` is one of ROSTER_MESSAGES (an Unreadable reason, or what
    init says of the roster); the first template whose figures were all given is used."""
    lang = current_lang(lang)
    if params.get("which") in ROSTER_WHICH:
        params["which"] = ROSTER_WHICH[params["which"]][lang]
    entry = ROSTER_MESSAGES.get(key, ROSTER_MESSAGES["crashed"])
    given = {k for k, v in params.items() if v not in (None, "")}
    template = next(t for t in entry[lang] if _fields(t) <= given or t is entry[lang][-1])
    text = template.format(**params)
    if key in UNREADABLE_REASONS and params.get("detail"):
        text += _DETAIL[lang].format(detail=params["detail"])
    return text
