from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clearroom.server.accounts"
    label = "accounts"
    verbose_name = "Organisations and people"
