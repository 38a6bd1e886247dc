#!/usr/bin/env python
"""Django's command-line utility for Signpost."""

import os
import sys

#: Commands that need neither the database nor any app, only their own module: they run without
#: django.setup(), so their start-up is Python's and NumPy's rather than every app's (issue 11).
#: Each is still an ordinary management command (call_command and `manage.py help` find it).
STANDALONE_COMMANDS = {"score_json": "scoring.management.commands.score_json"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    if len(sys.argv) > 1 and sys.argv[1] in STANDALONE_COMMANDS:
        from importlib import import_module

        import_module(STANDALONE_COMMANDS[sys.argv[1]]).Command().run_from_argv(sys.argv)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
