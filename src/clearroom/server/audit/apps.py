from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "clearroom.server.audit"
    label = "audit"
    verbose_name = "Audit trail"
