"""``python -m contact_sync_inbox.hash_password``: print a password hash for the inbox users' configuration.

The password is read without echo (or from stdin with ``--stdin``); only the hash is printed. Put it in the
secrets file or ``CONTACT_SYNC_INBOX_USERS`` (see docs/inbox-service.md), never in a committed file.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from contact_sync_inbox.passwords import hash_password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contact_sync_inbox.hash_password",
        description="Hash a password for a contact-sync inbox user (scrypt).",
    )
    parser.add_argument("--stdin", action="store_true", help="read the password from the first line of stdin")
    parser.add_argument("--user", help="print 'user:hash' (the CONTACT_SYNC_INBOX_USERS format)")
    args = parser.parse_args(argv)
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            print("The passwords differ.", file=sys.stderr)  # noqa: T201 - CLI output
            return 1
    if not password:
        print("The password is empty.", file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    hashed = hash_password(password)
    print(f"{args.user}:{hashed}" if args.user else hashed)  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
