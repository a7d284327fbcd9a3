from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "clearroom.server.portal"
    label = "portal"
    verbose_name = "Portal"
