from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "clearroom.server.transparency"
    label = "transparency"
    verbose_name = "Transparency log"
