"""A whole campaign through the local page in a real browser (issue 13): upload the sample mails, see the
verdicts, download a returned report, preview and confirm a merge, stamp two branches, download the
summary; the master then reads back through LibreOffice as the one the CLI makes from the same inputs.
Every page is screenshotted at 1366×768 into test-artifacts/ for review."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests import browser
from tests.libreoffice import roundtrip_values
from tests.webserver import OPERATOR, campaign_folder, copy_campaign, served
from toolkit.commands.profiles import resolve_profile
from toolkit.commands.summary import SHEETS
from toolkit.core.stages import stage_after_form

LOG_TIME = 0  # the 操作记录 column that records when: the two runs differ there only


def _stamp_choice() -> tuple[str, str]:
    """The first later stage a merged form may take and its first passing status (what `brandkit demo` stamps)."""
    profile = resolve_profile("hospital-brand")
    after = stage_after_form(profile)
    assert after is not None
    return after.name, next(t for t in after.statuses if t in profile.statuses.passed)


def _cli_merge(cli: Any, master: Path, mails: Path) -> list[str]:
    """`brandkit intake` and `brandkit merge` on the same mails; the branches merged."""
    inbox = master.parent / "收件箱"
    assert cli("intake", mails, "-o", inbox).returncode == 0
    merged = json.loads(cli("--json", "merge", master, inbox, "--by", OPERATOR).stdout)
    return sorted(merged["added"] + merged["updated"])


def _values(path: Path) -> dict[str, list[list[Any]]]:
    sheets = roundtrip_values(path)
    log = resolve_profile("hospital-brand").ledger.log_sheet
    sheets[log] = [row[:LOG_TIME] + row[LOG_TIME + 1:] for row in sheets[log]]
    return sheets


def test_a_whole_campaign_through_the_page(tmp_path: Path, cli: Any) -> None:
    mails = tmp_path / "邮件导出"
    master = campaign_folder(tmp_path / "网页", mails)
    cli_master = copy_campaign(master, tmp_path / "命令行")
    downloads = tmp_path / "downloads"
    stage, status = _stamp_choice()
    with served(master.parent) as (_, url), browser.page(downloads) as pg:
        pg.goto(url)
        assert pg.title().startswith("首页")
        assert pg.locator('meta[name="renderer"]').get_attribute("content") == "webkit"
        assert "一支部一品牌" in pg.inner_text("main")
        browser.screenshot(pg, "1-首页")

        pg.click("nav >> text=收件")
        pg.set_input_files("input[name=files]", sorted(mails.glob("*.eml")))
        pg.click("text=上传并收取")
        pg.wait_for_selector("#upload-result .result")
        assert re.search(r"收到邮件 \d+ 封", pg.inner_text("#upload-result"))
        browser.screenshot(pg, "2-收件")

        pg.get_by_role("link", name="下一步：校验").click()
        pg.click("text=校验收件箱")
        pg.wait_for_selector("table.verdicts", timeout=180_000)
        verdicts = pg.inner_text("table.verdicts")
        assert "通过" in verdicts and "不通过" in verdicts
        browser.screenshot(pg, "3-校验")
        with pg.expect_download() as got:
            pg.locator("table.verdicts tr.error a", has_text="下载").first.click()
        report = got.value
        assert report.suggested_filename.endswith("_校验结果.xlsx")
        report_path = tmp_path / report.suggested_filename
        report.save_as(report_path)
        assert "问题清单" in roundtrip_values(report_path) or len(roundtrip_values(report_path)) >= 2

        pg.get_by_role("link", name="下一步：合并").click()
        pg.click("text=预览合并")
        pg.wait_for_selector("#preview", timeout=180_000)
        assert "台账尚未改动" in pg.inner_text("#preview")
        browser.screenshot(pg, "4-合并预览")
        pg.click("text=确认合并")
        pg.wait_for_selector("#merged", timeout=180_000)
        merged_text = pg.inner_text("#merged")
        assert "台账已保存" in merged_text
        browser.screenshot(pg, "5-合并完成")

        pg.get_by_role("link", name="下一步：盖章").click()
        pg.wait_for_selector("input[name=branch]")
        listed = pg.locator("input[name=branch]").evaluate_all("boxes => boxes.map(b => b.value)")
        branches = sorted(_cli_merge(cli, cli_master, mails)[:2], key=listed.index)  # stamped in the page's order
        args = [a for b in branches for a in ("--branch", b)]
        assert cli("stamp", cli_master, "--stage", stage, "--status", status, *args, "--by", OPERATOR).returncode == 0
        pg.select_option("select[name=choice]", label=f"{stage} · {status}")
        for branch in branches:
            pg.check(f'input[name=branch][value="{branch}"]')
        browser.screenshot(pg, "6-盖章")
        pg.click("button:has-text('盖章')")
        pg.wait_for_selector("#stamp-result .result")
        assert "已盖章" in pg.inner_text("#stamp-result")
        browser.screenshot(pg, "7-盖章结果")

        pg.click("nav >> text=汇总")
        pg.click("text=生成汇总")
        pg.wait_for_selector("text=下载汇总表", timeout=180_000)
        with pg.expect_download() as got:
            pg.click("text=下载汇总表")
        summary = tmp_path / "汇总下载.xlsx"
        got.value.save_as(summary)
        browser.screenshot(pg, "8-汇总")

        pg.click("nav >> text=首页")
        browser.screenshot(pg, "9-首页合并后")
    assert set(SHEETS) <= set(roundtrip_values(summary))
    web, by_cli = _values(master), _values(cli_master)
    assert web.keys() == by_cli.keys()
    differ = [(sheet, r, c, a, b) for sheet in web for r, (x, y) in enumerate(zip(web[sheet], by_cli[sheet], strict=True))
              for c, (a, b) in enumerate(zip(x, y, strict=True)) if a != b]
    assert differ == []
