from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    name = "clearroom.server.collaboration"
    label = "collaboration"
    verbose_name = "Evaluations, findings and expert threads"
