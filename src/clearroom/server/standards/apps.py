from django.apps import AppConfig


class StandardsConfig(AppConfig):
    name = "clearroom.server.standards"
    label = "standards"
    verbose_name = "Control catalogues"
