from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "clearroom.server.notifications"
    label = "notifications"
    verbose_name = "Notifications"
