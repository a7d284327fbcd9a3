"""Start Django only for the commands that need it (the others stay fast)."""

from __future__ import annotations

import os


def setup(settings_module: str = "clearroom.server.settings") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)
