"""``run_cockpit.py user …``: add users, change passwords, issue kiosk tokens, end sessions, disable, list."""
from __future__ import annotations

import getpass
import sys

from cockpit import users
from config.settings import Settings
from warehouse import connect
from warehouse.migrations import migrate


def run(settings: Settings, args) -> int:
    wh = connect(settings.warehouse.url)
    migrate(wh)
    command = args.user_command
    if command == "list":
        for user in users.load(wh).values():
            flags = [f for f, on in (("disabled", user.disabled), ("kiosk token", user.token_hash)) if on]
            print(f"{user.name:<20} {user.role:<8} {user.display_name}" + (f"  [{', '.join(flags)}]" if flags else ""))
    elif command == "add":
        users.add(wh, args.name, args.role, _password(args.password_stdin), args.display_name or "")
        print(f"added {args.name} ({args.role})")
    elif command == "passwd":
        users.set_password(wh, args.name, _password(args.password_stdin))
        print(f"password of {args.name} changed; its sessions have ended")
    elif command == "token":
        token = users.issue_token(wh, args.name)
        print(f"kiosk token of {args.name} (shown once; the previous one no longer works):\n{token}\n"
              f"open on the wall PC: http://{settings.cockpit.host}:{settings.cockpit.port}/wall?kiosk={token}")
    elif command == "signout":
        if args.name not in users.load(wh):
            raise users.UserError(f"no user {args.name!r}")
        users.end_sessions(wh, args.name)
        print(f"the sessions of {args.name} have ended on every screen (within seconds on every server)")
    else:
        users.set_disabled(wh, args.name, command == "disable")
        print(f"{args.name} {command}d")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("user", help="cockpit users: add, passwd, token, signout, disable, enable, list")
    user = p.add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="a new user (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=users.ROLES)
    add.add_argument("--display-name", help="the name shown on screens, e.g. 张三")
    passwd = user.add_parser("passwd", help="set a new password (asks for it)")
    passwd.add_argument("name")
    for parser in (add, passwd):
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user.add_parser("token", help="issue a kiosk token for a wall user").add_argument("name")
    user.add_parser("signout", help="end the user's sessions everywhere (a lost phone, a shared PC)"
                    ).add_argument("name")
    user.add_parser("disable", help="refuse the user's sign-ins and end its sessions").add_argument("name")
    user.add_parser("enable", help="allow a disabled user again").add_argument("name")
    user.add_parser("list", help="the users, their roles and flags")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise users.UserError("the two passwords differ")
    return first
