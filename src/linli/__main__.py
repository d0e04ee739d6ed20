"""The `linli` command: Django's management entry point with our settings preset."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["linli", *sys.argv[1:]])


if __name__ == "__main__":
    main()
