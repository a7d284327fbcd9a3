from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class PageCacheConfig(AppConfig):
    name = "clearroom.server.pagecache"
    label = "pagecache"
    verbose_name = "Public page cache"

    def ready(self) -> None:
        from clearroom.server.pagecache import generation

        def remove(using: str, **_: Any) -> None:
            generation.uninstall(using)

        def install(using: str, **_: Any) -> None:
            generation.install(using)

        # Off while migrating (PostgreSQL refuses ALTER TABLE with pending deferred trigger
        # events), then on for every table, including ones the migrations just made.
        pre_migrate.connect(remove, sender=self, weak=False, dispatch_uid="pagecache-off")
        post_migrate.connect(install, sender=self, weak=False, dispatch_uid="pagecache-on")
