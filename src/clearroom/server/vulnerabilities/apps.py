from django.apps import AppConfig


class VulnerabilitiesConfig(AppConfig):
    name = "clearroom.server.vulnerabilities"
    label = "vulnerabilities"
    verbose_name = "SBOMs, components and vulnerabilities"
