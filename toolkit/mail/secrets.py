"""Where the IMAP and SMTP passwords (for QQ/163: the 授权码) come from. Never from argv; never logged."""

from __future__ import annotations

import os
import sys

ENV_VAR = "BRANDKIT_IMAP_PASSWORD"
KEYRING_SERVICE = "brandkit-imap"
SMTP_ENV_VAR = "BRANDKIT_SMTP_PASSWORD"
SMTP_KEYRING_SERVICE = "brandkit-smtp"


class MissingPassword(Exception):
    """No password could be found (message in Chinese, naming the account, never a secret)."""


def imap_password(account: str, prompt: bool = True) -> str:
    """Password for `account` ('user@host'): $BRANDKIT_IMAP_PASSWORD, else the system keyring (service
    'brandkit-imap', username = account) when `keyring` is installed, else (`prompt`) a hidden prompt on
    a terminal. The local page passes prompt=False: its server's terminal is not where the user types."""
    return _password(account, prompt, "IMAP", (ENV_VAR,), (KEYRING_SERVICE,))


def smtp_password(account: str, prompt: bool = True) -> str:
    """The SMTP password for `account`: as `imap_password`, from $BRANDKIT_SMTP_PASSWORD or the keyring's
    'brandkit-smtp' first, then the IMAP ones (163 and QQ give one 授权码 for both)."""
    return _password(account, prompt, "SMTP", (SMTP_ENV_VAR, ENV_VAR), (SMTP_KEYRING_SERVICE, KEYRING_SERVICE))


def _password(account: str, prompt: bool, what: str, env_vars: tuple[str, ...], services: tuple[str, ...]) -> str:
    for name in env_vars:
        if value := os.environ.get(name):
            return value
    try:
        import keyring
        import keyring.errors
    except ImportError:
        keyring = None
    for service in services if keyring is not None else ():
        try:
            value = keyring.get_password(service, account)
        except keyring.errors.KeyringError:
            value = None
        if value:
            return value
    if prompt and sys.stdin is not None and sys.stdin.isatty():
        import click

        return click.prompt(f"{account} 的 {what} 密码（QQ/163 邮箱请输入授权码，不是登录密码）", hide_input=True,
                            err=True)
    raise MissingPassword(
        f"没有找到 {account} 的 {what} 密码：请设置环境变量 {env_vars[0]}（QQ/163 邮箱填授权码：网页邮箱“设置 → "
        f"POP3/SMTP/IMAP”中开启服务后生成，不是登录密码），或用 `keyring set {services[0]} {account}` 存入系统钥匙串")
