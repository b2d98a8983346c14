"""``jingwang user``: accounts of the web workbench (add, passwd, disable, enable, role,
list, token)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from review.auth.service import AuthService

user_app = typer.Typer(help="工作台用户账号：添加、改密码、停用、角色、API 令牌。",
                       no_args_is_help=True)

DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="数据库 URL，覆盖配置文件和 JINGWANG_DATABASE_URL。")]
ConfigPath = Annotated[Path | None, typer.Option(
    "--config", help="配置文件路径（默认 config/jingwang.yaml 或 JINGWANG_CONFIG）。")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="从标准输入读取密码（一行），用于脚本。")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the jingwang app."""
    app.add_typer(user_app, name="user")


@contextmanager
def _auth(database_url: str | None, config: Path | None) -> Iterator[AuthService]:
    from review.auth.service import AuthService
    from store.accounts import Accounts
    from store.db import make_engine

    if not database_url:
        from jingwang.config import load_settings

        database_url = load_settings(config).database_url
    engine = make_engine(database_url)
    try:
        yield AuthService(Accounts(engine))
    finally:
        engine.dispose()


@contextmanager
def _errors() -> Iterator[None]:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from review.auth.service import AccountError
    from store.errors import StoreError

    try:
        yield
    except (AccountError, StoreError) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    except (OperationalError, ProgrammingError) as exc:
        typer.echo(f"错误：数据库不可用或未迁移（先运行 jingwang db upgrade）：{exc.orig}",
                   err=True)
        raise typer.Exit(1) from exc


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    return value


@user_app.command("add")
def add(name: Annotated[str, typer.Argument(help="用户名")],
        role: Annotated[str, typer.Option(
            help="角色：admin、supervisor、analyst 或 viewer。")] = "analyst",
        display_name: Annotated[str, typer.Option(help="显示的姓名。")] = "",
        password_stdin: PasswordStdin = False,
        database_url: DatabaseUrl = None, config: ConfigPath = None) -> None:
    """添加用户。"""
    with _errors(), _auth(database_url, config) as auth:
        user = auth.add_user(name, _password(password_stdin), role=role,
                             display_name=display_name)
    typer.echo(f"已添加用户 {user.username}（{user.role.value}）")


@user_app.command("passwd")
def passwd(name: Annotated[str, typer.Argument(help="用户名")],
           password_stdin: PasswordStdin = False,
           database_url: DatabaseUrl = None, config: ConfigPath = None) -> None:
    """修改用户密码（该用户的所有会话随之失效）。"""
    with _errors(), _auth(database_url, config) as auth:
        auth.set_password(name, _password(password_stdin))
    typer.echo(f"已修改 {name} 的密码")


@user_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="用户名")],
            database_url: DatabaseUrl = None, config: ConfigPath = None) -> None:
    """停用用户：立即退出所有会话，API 令牌失效。"""
    with _errors(), _auth(database_url, config) as auth:
        auth.accounts.set_disabled(name, True)
    typer.echo(f"已停用 {name}")


@user_app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="用户名")],
           database_url: DatabaseUrl = None, config: ConfigPath = None) -> None:
    """重新启用用户。"""
    with _errors(), _auth(database_url, config) as auth:
        auth.accounts.set_disabled(name, False)
    typer.echo(f"已启用 {name}")


@user_app.command("role")
def role(name: Annotated[str, typer.Argument(help="用户名")],
         new_role: Annotated[str, typer.Argument(
             metavar="ROLE", help="admin、supervisor、analyst 或 viewer")],
         database_url: DatabaseUrl = None, config: ConfigPath = None) -> None:
    """修改用户角色。"""
    from store.models_review import UserRole

    try:
        chosen = UserRole(new_role)
    except ValueError as exc:
        raise typer.BadParameter(
            f"unknown role {new_role!r} (admin, supervisor, analyst, viewer)") from exc
    with _errors(), _auth(database_url, config) as auth:
        auth.accounts.set_role(name, chosen)
    typer.echo(f"{name} 的角色已改为 {chosen.value}")


@user_app.command("list")
def list_users(database_url: DatabaseUrl = None, config: ConfigPath = None) -> None:
    """列出用户。"""
    with _errors(), _auth(database_url, config) as auth:
        users = auth.accounts.users()
    for user in users:
        state = "停用" if user.disabled else "正常"
        typer.echo(f"{user.username}\t{user.role.value}\t{state}\t{user.display_name}")


@user_app.command("token")
def token(name: Annotated[str, typer.Argument(help="用户名")],
          label: Annotated[str, typer.Option("--name", help="令牌名称。")] = "cli",
          database_url: DatabaseUrl = None, config: ConfigPath = None) -> None:
    """为用户创建 REST API 令牌（只显示一次）。"""
    from store.errors import NotFound

    with _errors(), _auth(database_url, config) as auth:
        user = auth.accounts.user(name)
        if user is None:
            raise NotFound(f"no user named {name!r}")
        secret, _ = auth.create_token(user, label)
    typer.echo(secret)
