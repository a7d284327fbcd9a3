from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "clearroom.server.catalog"
    label = "catalog"
    verbose_name = "Products, releases and artifacts"
