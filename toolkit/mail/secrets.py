"""Where the IMAP password (for QQ/163: the 授权码) comes from. Never from argv; never logged."""

from __future__ import annotations

import os
import sys

ENV_VAR = "BRANDKIT_IMAP_PASSWORD"
KEYRING_SERVICE = "brandkit-imap"


class MissingPassword(Exception):
    """No password could be found (message in Chinese, naming the account, never a secret)."""


def imap_password(account: str, prompt: bool = True) -> str:
    """Password for `account` ('user@host'): $BRANDKIT_IMAP_PASSWORD, else the system keyring (service
    'brandkit-imap', username = account) when `keyring` is installed, else (`prompt`) a hidden prompt on
    a terminal. The local page passes prompt=False: its server's terminal is not where the user types."""
    value = os.environ.get(ENV_VAR)
    if value:
        return value
    try:
        import keyring
        import keyring.errors
    except ImportError:
        keyring = None
    if keyring is not None:
        try:
            value = keyring.get_password(KEYRING_SERVICE, account)
        except keyring.errors.KeyringError:
            value = None
        if value:
            return value
    if prompt and sys.stdin is not None and sys.stdin.isatty():
        import click

        return click.prompt(f"{account} 的 IMAP 密码（QQ/163 邮箱请输入授权码）", hide_input=True,
                            err=True)
    raise MissingPassword(
        f"没有找到 {account} 的 IMAP 密码：请设置环境变量 {ENV_VAR}（QQ/163 邮箱填授权码），"
        f"或用 `keyring set {KEYRING_SERVICE} {account}` 存入系统钥匙串")
