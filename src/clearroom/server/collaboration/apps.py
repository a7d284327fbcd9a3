from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    name = "clearroom.server.collaboration"
    label = "collaboration"
    verbose_name = "Evaluations, findings and expert threads"

    def ready(self) -> None:
        # the automated checks listen for changed facts about releases (catalog.signals)
        from clearroom.server.collaboration import checks  # noqa: F401
