from django.apps import AppConfig


class AttestationsConfig(AppConfig):
    name = "clearroom.server.attestations"
    label = "attestations"
    verbose_name = "Signed statements and signing keys"
